// Reusing a product's parameters with another model: an image imported from A1111, ComfyUI,
// InvokeAI or Fooocus (or made by a provider that is gone) has its prompt, seed, steps, CFG
// and size under those tools' names. They are carried over to the fields the chosen model
// has, and only where the value fits the field (type, enum, range); the rest stays behind.
// A seed past 2^53 stays its exact digits when the model's seed field takes it (an integer
// field whose range holds it; the parameter file gets it as a plain integer, paramFile.ts).
import { isExactIntegerText } from '../providers/exactJson.ts';
import type { JsonSchema, ModelInfo, Provider } from '../providers/types.ts';
import type { ProductRecord } from '../storage/types.ts';

/** The model that makes `product` again exactly (Re-run): the version it recorded pinned, where
 * its provider can (Replicate `owner/name` → `owner/name:version`); else its model as it was. */
export function exactModel(product: Pick<ProductRecord, 'model' | 'modelVersion'>, provider: Pick<Provider, 'pinModel'> | undefined): string {
  return (product.modelVersion && provider?.pinModel?.(product.model, product.modelVersion)) || product.model;
}

/** The input that makes `product` again with the same seed (Re-run, same seed): its input, with
 * the seed it was made with put into the model's seed field when the input had none (the provider
 * picked one, and reported it). Without a known seed field the input is left as it was. */
export function sameSeedInput(product: Pick<ProductRecord, 'input' | 'seed'>, model: Pick<ModelInfo, 'seedField'> | undefined): Record<string, unknown> {
  const field = model?.seedField;
  if (!field || product.seed === undefined || product.input[field] !== undefined) return { ...product.input };
  return { ...product.input, [field]: product.seed };
}

/** Where a tool's parameter may live in a provider's schema, most likely first. */
const ALIASES: Record<string, string[]> = {
  negative_prompt: ['negative_prompt', 'negativePrompt'],
  steps: ['num_inference_steps', 'steps', 'num_steps'],
  cfg_scale: ['guidance_scale', 'cfg_scale', 'cfgScale', 'guidance'],
  sampler: ['sampler', 'scheduler'],
  scheduler: ['scheduler'],
  width: ['width'],
  height: ['height'],
};

/** Fields that describe where an image came from, not how to make it again. */
const NOT_INPUT = new Set(['tool', 'model', 'model_hash', 'version']);

/** An integer past 2^53, kept as its digits (a seed), where the field takes integers in its range. */
function exactIntegerFits(v: string, prop: JsonSchema, types: unknown[]): boolean {
  if (!types.includes('integer') && !types.includes('number')) return false;
  const n = BigInt(v);
  if (typeof prop.minimum === 'number' && n < BigInt(Math.ceil(prop.minimum))) return false;
  if (typeof prop.maximum === 'number' && n > BigInt(Math.floor(prop.maximum))) return false;
  return true;
}

function fits(value: unknown, prop: JsonSchema): unknown {
  const types = ([] as unknown[]).concat(prop.type ?? []);
  if (isExactIntegerText(value)) return exactIntegerFits(value, prop, types) ? value : undefined;
  let v = value;
  if ((types.includes('integer') || types.includes('number')) && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) v = Number(v);
  if (Array.isArray(prop.enum)) return prop.enum.includes(v) ? v : undefined;
  if (types.length === 0) return v;
  const ok =
    (typeof v === 'string' && types.includes('string')) ||
    (typeof v === 'boolean' && types.includes('boolean')) ||
    (typeof v === 'number' && Number.isFinite(v) && (types.includes('number') || (types.includes('integer') && Number.isInteger(v))));
  if (!ok) return undefined;
  if (typeof v === 'number') {
    if (typeof prop.minimum === 'number' && v < prop.minimum) return undefined;
    if (typeof prop.maximum === 'number' && v > prop.maximum) return undefined;
    if (!Number.isSafeInteger(v) && types.includes('integer')) return undefined;
  }
  return v;
}

/** The source input carried over to `model`'s fields, per its input schema. */
export function translateInput(source: Record<string, unknown>, model: Pick<ModelInfo, 'promptField' | 'seedField'>, schema: JsonSchema): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const out: Record<string, unknown> = {};
  const put = (candidates: string[], value: unknown): boolean => {
    for (const name of candidates) {
      if (!props[name] || name in out) continue;
      const v = fits(value, props[name]);
      if (v !== undefined) {
        out[name] = v;
        return true;
      }
    }
    return false;
  };
  for (const [key, value] of Object.entries(source)) {
    if (NOT_INPUT.has(key) || value === undefined || value === null || value === '') continue;
    if (key === 'prompt') put([model.promptField ?? 'prompt', 'prompt'], value);
    else if (key === 'seed') put([model.seedField ?? 'seed', 'seed'], value);
    else put(ALIASES[key] ?? [key], value);
  }
  // A model that takes its size as `image_size: {width, height}` (fal) rather than two fields.
  const w = Number(source.width);
  const h = Number(source.height);
  if (!('width' in out) && props.image_size && Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0) out.image_size = { width: w, height: h };
  return out;
}
