// Seeds, exactly (see Seed in src/storage/types.ts): a safe integer is a number, a larger one
// its decimal digits. These are the operations the engine does on them.
import { isExactIntegerText } from '../providers/exactJson.ts';
import type { Seed } from '../storage/types.ts';

/** `v` as a seed: a safe integer, or the digits of a larger one; undefined for anything else. */
export function asSeed(v: unknown): Seed | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'string' || !/^-?\d{1,40}$/.test(v)) return undefined;
  return isExactIntegerText(v) ? v : Number(v);
}

/** `seed + i`, exactly (successive jobs of a count take successive seeds). */
export function addToSeed(seed: Seed, i: number): Seed {
  if (typeof seed === 'number' && Number.isSafeInteger(seed + i)) return seed + i;
  return asSeed((BigInt(seed) + BigInt(i)).toString()) ?? seed;
}

/** The seed a product records: the one the provider reports, unless the input's exact digits
 * say the same number more precisely (a provider's JSON parser rounds a seed past 2^53). */
export function recordedSeed(reported: unknown, input: unknown): Seed | undefined {
  const exactIn = asSeed(input);
  if (typeof exactIn === 'string' && (reported === undefined || reported === null || Number(exactIn) === reported)) return exactIn;
  if (typeof reported === 'number' && Number.isFinite(reported)) return reported;
  return exactIn;
}
