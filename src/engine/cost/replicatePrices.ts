// Replicate publishes no pricing API (replicate-javascript #360, #369), so its prices are a dated
// table shipped with the extension, which the user can override in settings
// (`artFactory.costs.replicatePrices`). Everything priced from it is marked `estimated`.
//
// Sources, as read on the date below:
// - hardware per second: replicate.com/pricing ("billed by the second"): cpu $0.000100,
//   gpu-t4 $0.000225, gpu-a40-small $0.000575, gpu-a40-large $0.000725, gpu-l40s $0.000975,
//   gpu-a100-large $0.001400, gpu-h100 $0.001525.
// - official models ("charged by output", replicate.com changelog 2025-01-29 "Official models";
//   each model's page shows its price): flux-schnell $0.003, flux-dev $0.025, flux-1.1-pro $0.04,
//   flux-kontext-pro $0.04 per image; minimax/video-01 $0.50 per video (the model pages as
//   quoted by the pages we could read; the live pages were not reachable from here).
// - community models run on the hardware their page names for about the time it states; the
//   table holds the ones in our catalog (stability-ai/sdxl: Nvidia L40S, a few seconds).

export const REPLICATE_PRICES_AS_OF = '2026-12-01';

/** Price per second of each hardware class, in USD. */
export const REPLICATE_HARDWARE: Record<string, number> = {
  cpu: 0.0001,
  'gpu-t4': 0.000225,
  'gpu-a40-small': 0.000575,
  'gpu-a40-large': 0.000725,
  'gpu-l40s': 0.000975,
  'gpu-a100-large': 0.0014,
  'gpu-h100': 0.001525,
};

/** How a model is priced: per output (official models), or by the second on some hardware with
 * a typical run time for the estimate. */
export type ReplicateModelPrice = { perOutput: number } | { hardware: string; typicalSeconds: number };

/** Keyed by `owner/name` (a pinned version is priced as its model). */
export const REPLICATE_MODELS: Record<string, ReplicateModelPrice> = {
  'black-forest-labs/flux-schnell': { perOutput: 0.003 },
  'black-forest-labs/flux-dev': { perOutput: 0.025 },
  'black-forest-labs/flux-1.1-pro': { perOutput: 0.04 },
  'black-forest-labs/flux-kontext-pro': { perOutput: 0.04 },
  'minimax/video-01': { perOutput: 0.5 },
  'stability-ai/sdxl': { hardware: 'gpu-l40s', typicalSeconds: 4 },
};

/** What the user may write in `artFactory.costs.replicatePrices`: the same shapes per model, and
 * `hardware` prices per second. Anything else is ignored with a note. */
export interface ReplicatePriceOverrides {
  models?: Record<string, unknown>;
  hardware?: Record<string, unknown>;
}

/** The price of a Replicate model id (`owner/name` or `owner/name:version`), overrides first. */
export function replicateModelPrice(model: string, overrides: ReplicatePriceOverrides = {}): { price: ReplicateModelPrice; perSecond?: number; source: 'settings' | 'table' } | undefined {
  const name = model.split(':')[0];
  const hardware = { ...REPLICATE_HARDWARE, ...numbers(overrides.hardware) };
  const own = overrides.models?.[model] ?? overrides.models?.[name];
  const fromSettings = own === undefined ? undefined : asModelPrice(own);
  const price = fromSettings ?? REPLICATE_MODELS[name];
  if (!price) return undefined;
  const perSecond = 'hardware' in price ? hardware[price.hardware] : undefined;
  if ('hardware' in price && perSecond === undefined) return undefined;
  return { price, perSecond, source: fromSettings ? 'settings' : 'table' };
}

function numbers(v: Record<string, unknown> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v ?? {})) if (typeof x === 'number' && Number.isFinite(x) && x >= 0) out[k] = x;
  return out;
}

function asModelPrice(v: unknown): ReplicateModelPrice | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.perOutput === 'number' && Number.isFinite(o.perOutput) && o.perOutput >= 0) return { perOutput: o.perOutput };
  if (typeof o.hardware === 'string' && typeof o.typicalSeconds === 'number' && Number.isFinite(o.typicalSeconds) && o.typicalSeconds >= 0) return { hardware: o.hardware, typicalSeconds: o.typicalSeconds };
  return undefined;
}
