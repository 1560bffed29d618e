// Prices, estimates and what a job actually cost (issue 11). One owner for "how much":
//
//   price     how a model is priced: fal's pricing API (per provider unit, cached a day in the
//             global storage), Replicate's dated table (or the user's override), a Civitai
//             `whatif` quote per input, the Sample provider (free);
//   estimate  `estimateJobs(specs)`: each job's cost, or why it is unknown. Unknown is said as
//             unknown, never guessed;
//   actual    `actualCost(job, billing, outputs)`: what the provider billed (fal's billable units
//             × unit price, Civitai's transactions), or Replicate's predict time × the hardware
//             price (estimated).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isProviderError } from '../../providers/errors.ts';
import type { ProviderRegistry } from '../../providers/registry.ts';
import type { Billing, Cost, Logger, Price } from '../../providers/types.ts';
import { writeFileAtomic } from '../../storage/atomic.ts';
import type { JobSpec } from '../paramFile.ts';
export { describeEstimate, formatCost } from './format.ts';
import { REPLICATE_PRICES_AS_OF, replicateModelPrice, type ReplicatePriceOverrides } from './replicatePrices.ts';

/** How one model is priced. */
export type ModelPricing =
  | { kind: 'free' }
  /** fal: a unit price in the provider's unit. */
  | { kind: 'unit'; price: Price }
  /** Replicate official models: per output, from the table. */
  | { kind: 'per-output'; amount: number; currency: string; source: string }
  /** Replicate community models: by the second on some hardware, a typical run for estimates. */
  | { kind: 'per-second'; perSecond: number; typicalSeconds: number; currency: string; source: string }
  /** Civitai: ask the provider for each input. */
  | { kind: 'quote' }
  | { kind: 'unknown'; why: string };

export type JobEstimate = { cost: Cost } | { unknown: string };

/** What a set of jobs is expected to cost. */
export interface Estimate {
  /** Per job, in the order given. */
  jobs: JobEstimate[];
  /** Sums of the known estimates, one per currency ("USD" first). */
  totals: Cost[];
  /** How many jobs could not be estimated, and why (each reason once). */
  unknown: number;
  reasons: string[];
}

export const PRICE_TTL_MS = 24 * 60 * 60 * 1000;

export interface PricingOptions {
  registry: ProviderRegistry;
  /** Where the price cache lives: the extension's global storage, the CLI's cache folder. None:
   * kept in memory only. */
  cacheDir?: string;
  /** Replicate overrides (`artFactory.costs.replicatePrices`), read at each use. */
  replicateOverrides?: () => ReplicatePriceOverrides;
  log?: Logger;
  now?: () => number;
}

interface CachedPrice {
  /** null: the provider prices no such model. */
  price: Price | null;
  at: number;
}

const CACHE_FILE = 'prices.json';
/** The provider's currency when it bills in one: a budget in another currency does not cover it. */
const PROVIDER_CURRENCY: Record<string, string> = { fal: 'USD', replicate: 'USD', civitai: 'buzz', sample: 'USD' };

export function providerCurrency(provider: string): string | undefined {
  return PROVIDER_CURRENCY[provider];
}

export class Pricing {
  private cache?: Map<string, CachedPrice>;
  private loading?: Promise<Map<string, CachedPrice>>;
  private readonly quotes = new Map<string, Promise<Cost | undefined>>();
  private readonly now: () => number;

  constructor(private readonly o: PricingOptions) {
    this.now = o.now ?? Date.now;
  }

  /** How each model of `models` (`[provider, model]`) is priced: prices the provider publishes
   * come from the day's cache or one request per provider for the ones missing. */
  async pricingOf(models: [string, string][], signal?: AbortSignal): Promise<Map<string, ModelPricing>> {
    const out = new Map<string, ModelPricing>();
    const cache = await this.load();
    const ask = new Map<string, string[]>();
    for (const [provider, model] of models) {
      const k = key(provider, model);
      if (out.has(k)) continue;
      const p = this.o.registry.get(provider);
      if (!p) {
        out.set(k, { kind: 'unknown', why: `no provider "${provider}"` });
      } else if (provider === 'sample') {
        out.set(k, { kind: 'free' });
      } else if (provider === 'replicate') {
        out.set(k, this.replicate(model));
      } else if (p.quote) {
        out.set(k, { kind: 'quote' });
      } else if (p.prices) {
        const hit = cache.get(k);
        if (hit && this.now() - hit.at < PRICE_TTL_MS) out.set(k, hit.price ? { kind: 'unit', price: hit.price } : { kind: 'unknown', why: `${p.displayName} publishes no price for ${model}` });
        else ask.set(provider, [...(ask.get(provider) ?? []), model]);
      } else {
        out.set(k, { kind: 'unknown', why: `${p.displayName} does not say what its jobs cost` });
      }
    }
    for (const [provider, list] of ask) {
      const p = this.o.registry.get(provider)!;
      try {
        const got = await p.prices!(list, signal);
        for (const model of list) {
          const price = got.get(model) ?? null;
          cache.set(key(provider, model), { price, at: this.now() });
          out.set(key(provider, model), price ? { kind: 'unit', price } : { kind: 'unknown', why: `${p.displayName} publishes no price for ${model}` });
        }
        await this.save(cache);
      } catch (e) {
        if (signal?.aborted) throw e;
        const why = isProviderError(e) || e instanceof Error ? e.message.replace(/[.\s]+$/, '') : String(e);
        this.o.log?.warn(`prices of ${list.join(', ')} could not be read: ${why}`);
        for (const model of list) {
          // A stale price is better than none; it says how old it is in the log above.
          const stale = cache.get(key(provider, model))?.price;
          out.set(key(provider, model), stale ? { kind: 'unit', price: stale } : { kind: 'unknown', why: `${p.displayName}'s prices could not be read (${why.slice(0, 120)})` });
        }
      }
    }
    return out;
  }

  private replicate(model: string): ModelPricing {
    const r = replicateModelPrice(model, this.o.replicateOverrides?.() ?? {});
    if (!r) return { kind: 'unknown', why: `${model} is not in Replicate's price table (as of ${REPLICATE_PRICES_AS_OF}); add it to artFactory.costs.replicatePrices` };
    const source = r.source === 'settings' ? 'your artFactory.costs.replicatePrices' : `Replicate's prices as of ${REPLICATE_PRICES_AS_OF}`;
    if ('perOutput' in r.price) return { kind: 'per-output', amount: r.price.perOutput, currency: 'USD', source };
    return { kind: 'per-second', perSecond: r.perSecond!, typicalSeconds: r.price.typicalSeconds, currency: 'USD', source };
  }

  /** What each job is expected to cost (see the top of this file). */
  async estimateJobs(specs: JobSpec[], signal?: AbortSignal, o: { quotes?: boolean } = {}): Promise<Estimate> {
    const pricing = await this.pricingOf(
      specs.map((s) => [s.provider, s.model]),
      signal,
    );
    const jobs: JobEstimate[] = [];
    for (const s of specs) {
      const p = pricing.get(key(s.provider, s.model))!;
      if (p.kind === 'quote') jobs.push(o.quotes === false ? { unknown: 'quoted when you generate' } : await this.quote(s, signal));
      else jobs.push(estimateFrom(p, s));
    }
    return summarize(jobs);
  }

  /** A Civitai quote, asked once per input (the seed aside: it does not change the price). */
  private async quote(s: JobSpec, signal?: AbortSignal): Promise<JobEstimate> {
    const p = this.o.registry.get(s.provider)!;
    const { seed: _seed, ...rest } = s.input;
    const k = `${s.provider}\0${s.model}\0${JSON.stringify(rest)}`;
    let got = this.quotes.get(k);
    if (!got) {
      got = p.quote!({ model: s.model, input: s.input, signal });
      this.quotes.set(k, got);
      // A failed quote is asked again next time; a good one stands for this session.
      got.catch(() => this.quotes.delete(k));
    }
    try {
      const cost = await got;
      return cost ? { cost } : { unknown: `${p.displayName} gave no quote for ${s.model}` };
    } catch (e) {
      if (signal?.aborted) throw e;
      return { unknown: `${p.displayName} could not quote ${s.model} (${(e instanceof Error ? e.message : String(e)).replace(/[.\s]+$/, '').slice(0, 160)})` };
    }
  }

  /** What a job that ended cost: billed by the provider where it says so, else worked out from
   * the table (estimated); undefined when nothing can be said. `sent` is false when the job never
   * reached the provider (nothing to pay). */
  async actualCost(job: { provider: string; model: string }, billing: Billing | undefined, outputs: number, sent: boolean): Promise<Cost | undefined> {
    if (billing?.cost) return billing.cost;
    if (!sent && !billing) return { amount: 0, currency: providerCurrency(job.provider) ?? 'USD', estimated: false };
    const p = (await this.pricingOf([[job.provider, job.model]])).get(key(job.provider, job.model))!;
    if (p.kind === 'free') return { amount: 0, currency: 'USD', estimated: false };
    if (p.kind === 'unit' && billing?.units !== undefined) return { amount: round(billing.units * p.price.unitPrice), currency: p.price.currency, estimated: false };
    if (p.kind === 'per-second' && billing?.seconds !== undefined) return { amount: round(billing.seconds * p.perSecond), currency: p.currency, estimated: true };
    if (p.kind === 'per-output' && outputs > 0) return { amount: round(p.amount * outputs), currency: p.currency, estimated: true };
    return undefined;
  }

  private async load(): Promise<Map<string, CachedPrice>> {
    if (this.cache) return this.cache;
    this.loading ??= (async () => {
      const map = new Map<string, CachedPrice>();
      if (!this.o.cacheDir) return map;
      try {
        const raw = JSON.parse(await fs.readFile(path.join(this.o.cacheDir, CACHE_FILE), 'utf8')) as { v?: number; prices?: Record<string, CachedPrice> };
        for (const [k, v] of Object.entries(raw.prices ?? {})) if (v && typeof v.at === 'number' && (v.price === null || isPrice(v.price))) map.set(k, v);
      } catch {
        // No cache yet, or an unreadable one: prices are asked again.
      }
      return map;
    })();
    this.cache = await this.loading;
    return this.cache;
  }

  private async save(cache: Map<string, CachedPrice>): Promise<void> {
    if (!this.o.cacheDir) return;
    const fresh = [...cache].filter(([, v]) => this.now() - v.at < 30 * PRICE_TTL_MS);
    await writeFileAtomic(path.join(this.o.cacheDir, CACHE_FILE), JSON.stringify({ v: 1, prices: Object.fromEntries(fresh) })).catch((e: unknown) => this.o.log?.warn(`the price cache could not be saved: ${e instanceof Error ? e.message : String(e)}`));
  }
}

function key(provider: string, model: string): string {
  return `${provider}\0${model}`;
}

function isPrice(v: unknown): v is Price {
  const p = v as Price;
  return !!p && typeof p.unitPrice === 'number' && typeof p.unit === 'string' && typeof p.currency === 'string';
}

/** Six decimals: a hundredth of a cent is below anything a provider bills. */
function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** fal's image size presets (the `image_size` enum of its image models' schemas). */
const FAL_SIZES: Record<string, [number, number]> = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
};

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*s?\s*$/.test(v)) return parseFloat(v);
  return undefined;
}

/** Outputs a job asks for: the count field its model uses, else one. */
function outputsOf(input: Record<string, unknown>): number {
  for (const f of ['num_images', 'num_outputs', 'quantity', 'batch_size', 'n']) {
    const n = num(input[f]);
    if (n !== undefined && n >= 1) return Math.floor(n);
  }
  return 1;
}

/** Megapixels of one output, when the input says its size. */
function megapixelsOf(input: Record<string, unknown>): number | undefined {
  const size = input.image_size;
  if (typeof size === 'string' && FAL_SIZES[size]) return (FAL_SIZES[size][0] * FAL_SIZES[size][1]) / 1e6;
  if (size && typeof size === 'object') {
    const w = num((size as Record<string, unknown>).width);
    const h = num((size as Record<string, unknown>).height);
    if (w && h) return (w * h) / 1e6;
  }
  const w = num(input.width);
  const h = num(input.height);
  return w && h ? (w * h) / 1e6 : undefined;
}

/**
 * One job's estimate from its model's pricing. fal's units are the provider's own words; the docs
 * name per image, per megapixel ("proportional to output resolution"), per second of video, per
 * video and per request (fal.ai/docs "Pricing", Model APIs), but not the exact strings the API
 * returns; published examples show "image" and "video_second". We accept those, their plurals and
 * the other named units spelled plainly ("megapixels", "second", "video", "request"), and say
 * "unknown" for any other unit. How fal rounds
 * megapixels is not documented: the estimate uses the exact product.
 */
export function estimateFrom(p: ModelPricing, s: JobSpec): JobEstimate {
  switch (p.kind) {
    case 'free':
      return { cost: { amount: 0, currency: 'USD', estimated: false } };
    case 'unknown':
      return { unknown: p.why };
    case 'quote':
      return { unknown: 'needs a quote from the provider' };
    case 'per-output':
      return { cost: { amount: round(p.amount * outputsOf(s.input)), currency: p.currency, estimated: true } };
    case 'per-second':
      return { cost: { amount: round(p.perSecond * p.typicalSeconds * outputsOf(s.input)), currency: p.currency, estimated: true } };
    case 'unit': {
      const unit = p.price.unit.toLowerCase().replace(/[\s-]+/g, '_');
      const cost = (units: number): JobEstimate => ({ cost: { amount: round(units * p.price.unitPrice), currency: p.price.currency, estimated: true } });
      if (/^images?$/.test(unit)) return cost(outputsOf(s.input));
      if (/^(megapixels?|mp)$/.test(unit)) {
        const mp = megapixelsOf(s.input);
        return mp === undefined ? { unknown: `${s.model} is priced per megapixel and its input does not say the output size` } : cost(mp * outputsOf(s.input));
      }
      if (/^(video_)?seconds?$/.test(unit)) {
        const d = num(s.input.duration) ?? num(s.input.seconds);
        return d === undefined ? { unknown: `${s.model} is priced per second of output and its input does not say the duration` } : cost(d);
      }
      if (/^(videos?|requests?|calls?|generations?)$/.test(unit)) return cost(1);
      return { unknown: `${s.model} is priced per ${p.price.unit}, which cannot be worked out from the input` };
    }
  }
}

/** Totals per currency and the unknown count. */
export function summarize(jobs: JobEstimate[]): Estimate {
  const totals = new Map<string, Cost>();
  const reasons = new Set<string>();
  let unknown = 0;
  for (const j of jobs) {
    if ('unknown' in j) {
      unknown++;
      reasons.add(j.unknown);
      continue;
    }
    const t = totals.get(j.cost.currency) ?? { amount: 0, currency: j.cost.currency, estimated: false };
    t.amount = round(t.amount + j.cost.amount);
    t.estimated ||= j.cost.estimated;
    totals.set(j.cost.currency, t);
  }
  return { jobs, totals: [...totals.values()].sort((a, b) => (a.currency === 'USD' ? -1 : b.currency === 'USD' ? 1 : a.currency.localeCompare(b.currency))), unknown, reasons: [...reasons] };
}
