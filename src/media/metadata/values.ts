// What every metadata reader shares: the result shape, the caps that keep a record small, and
// the coercions that turn untrusted JSON and text into bounded values. Nothing here throws.

export type ImportTool =
  | 'a1111'
  | 'comfyui'
  | 'invokeai'
  | 'fooocus'
  | 'novelai'
  | 'swarmui'
  | 'easydiffusion'
  | 'drawthings'
  | 'midjourney'
  | 'unknown';

export type ParamValue = string | number | boolean;

/** A seed exactly as the tool wrote it: a number when a JavaScript number holds it exactly,
 * else its decimal digits (ComfyUI and Fooocus seeds go up to 2^64 - 1). */
export type ExactSeed = number | string;

export interface ImageMetadata {
  tool: ImportTool;
  prompt?: string;
  negativePrompt?: string;
  seed?: ExactSeed;
  steps?: number;
  cfgScale?: number;
  sampler?: string;
  scheduler?: string;
  model?: string;
  width?: number;
  height?: number;
  /** Other parameters that were read (LoRAs, denoise, guidance, version, job id, …). */
  params: Record<string, ParamValue>;
  /** The metadata texts as found (chunk keyword or EXIF field → text), each capped. */
  raw: Record<string, string>;
  /** True when some raw text was longer than the cap and was cut. */
  rawTruncated: boolean;
  /** Why something could not be read. Never fatal. */
  warnings: string[];
}

/** Per text kept in `raw`, and for all of them together. The record stays small (the database
 * pages it to the gallery); the complete text always stays inside the image file itself. */
export const RAW_TEXT_LIMIT = 16 * 1024;
export const RAW_TOTAL_LIMIT = 32 * 1024;
/** Texts larger than this are not parsed at all (a hostile or broken file). */
export const PARSE_LIMIT = 8 * 1024 * 1024;
export const MAX_PROMPT = 20_000;
export const MAX_VALUE = 2_000;
const MAX_PARAMS = 100;
/** How deep graph walks go, and how many steps they take in all. */
export const MAX_DEPTH = 48;

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown, max = MAX_VALUE): string | undefined => (typeof v === 'string' && v.trim() ? v.slice(0, max) : undefined);
export const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
};

/** A seed kept exactly: a safe integer as a number, a larger one as its digits. A number that
 * JSON.parse already rounded cannot be made exact again; it is kept with a warning. */
export function exactSeed(v: unknown): { seed?: ExactSeed; inexact?: boolean } {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return { seed: v };
    return Number.isInteger(v) ? { seed: BigInt(v).toString(), inexact: true } : {};
  }
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? { seed: Number(v) } : { seed: v.toString() };
  if (typeof v !== 'string') return {};
  const t = v.trim();
  if (!/^-?\d{1,40}$/.test(t)) return {};
  const n = Number(t);
  return Number.isSafeInteger(n) ? { seed: n } : { seed: BigInt(t).toString() };
}

export function setSeed(m: ImageMetadata, v: unknown): void {
  if (v === undefined || v === null || v === '') return;
  const { seed, inexact } = exactSeed(v);
  if (seed === undefined) return;
  m.seed = seed;
  if (inexact) m.warnings.push('The seed is larger than 2^53 and was stored as a rounded number by the tool that wrote it; see the raw metadata.');
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const isUnsafeKey = (k: string): boolean => UNSAFE_KEYS.has(k);

export function setParam(m: ImageMetadata, key: string, v: unknown): void {
  if (Object.keys(m.params).length >= MAX_PARAMS || UNSAFE_KEYS.has(key)) return;
  const k = key.slice(0, 80);
  if (typeof v === 'string' && v !== '') m.params[k] = v.slice(0, MAX_VALUE);
  else if (typeof v === 'number' && Number.isFinite(v)) m.params[k] = v;
  else if (typeof v === 'boolean') m.params[k] = v;
  else if (v !== undefined && v !== null && typeof v === 'object') {
    const s = JSON.stringify(v);
    if (s.length <= MAX_VALUE) m.params[k] = s;
  }
}

/** Model file names keep only their base name, without the extension. */
export function modelName(v: unknown): string | undefined {
  const s = str(v, 500);
  if (!s) return undefined;
  const base = s.split(/[\\/]/).pop() ?? s;
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$/i, '') || undefined;
}

/** JSON.parse, where a seed-like integer past 2^53 keeps its digits: a number literal that a
 * double cannot hold is rewritten to a string before parsing (only outside strings). */
export function parseJson(text: string | undefined): Json | undefined {
  if (!text || text.length > PARSE_LIMIT) return undefined;
  try {
    // JSON.parse builds plain data only; "__proto__" keys become own properties, never prototypes.
    return JSON.parse(quoteBigIntegers(text)) as Json;
  } catch {
    return undefined;
  }
}

/** Integer literals of 16 digits or more that a double would round become JSON strings. */
export function quoteBigIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      continue;
    }
    if ((c >= 48 && c <= 57) || c === 45) {
      // One whole number token: -? digits (. digits)? (e [+-]? digits)?
      const digitsFrom = (k: number) => {
        while (k < text.length && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
        return k;
      };
      const intEnd = digitsFrom(i + (c === 45 ? 1 : 0));
      let end = intEnd;
      if (text[end] === '.') end = digitsFrom(end + 1);
      if (text[end] === 'e' || text[end] === 'E') end = digitsFrom(end + (text[end + 1] === '+' || text[end + 1] === '-' ? 2 : 1));
      const literal = text.slice(i, end);
      if (end === intEnd && literal.length >= 16 && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(last, i)}"${literal}"`;
        last = end;
      }
      i = Math.max(i, end - 1);
    }
  }
  return out + text.slice(last);
}

export function emptyMetadata(): ImageMetadata {
  return { tool: 'unknown', params: {}, raw: {}, rawTruncated: false, warnings: [] };
}

/** Fill what `m` lacks from `other` (the core fields only). */
export function fillGaps(m: ImageMetadata, other: ImageMetadata): void {
  for (const k of ['prompt', 'negativePrompt', 'seed', 'steps', 'cfgScale', 'sampler', 'scheduler', 'model', 'width', 'height'] as const) {
    if (m[k] === undefined && other[k] !== undefined) (m as unknown as Record<string, unknown>)[k] = other[k];
  }
  for (const [k, v] of Object.entries(other.params)) if (!(k in m.params)) m.params[k] = v;
}
