// The textToImage step's input: the parameter file's input mapped to what Civitai takes
// (LoRAs as additionalNetworks, a seed always recorded), and its JSON schema for IntelliSense.

import { ProviderError, type FieldError } from '../errors.ts';
import type { JsonSchema } from '../types.ts';
import { AIR_JSON_PATTERN, parseAir, parseCheckpointAir, type Air } from './air.ts';
import { NAME, PROVIDER } from './service.ts';

export const CIVITAI_SCHEDULERS = [
  'eulerA', 'euler', 'lms', 'heun', 'dpM2', 'dpM2A', 'dpM2SA', 'dpM2M', 'dpmsde', 'dpmFast', 'dpmAdaptive', 'lmsKarras',
  'dpM2Karras', 'dpM2AKarras', 'dpM2SAKarras', 'dpM2MKarras', 'dpmsdeKarras', 'ddim', 'plms', 'uniPC', 'undefined', 'lcm',
  'ddpm', 'deis', 'dpM3MSDE',
] as const;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** parseAir with its field errors collected in `errors` instead of thrown. */
function collectAir(text: unknown, path: (string | number)[], errors: FieldError[]): Air | undefined {
  try {
    return parseAir(text, path);
  } catch (e) {
    errors.push(...((e as ProviderError).fieldErrors ?? []));
    return undefined;
  }
}

export interface BuiltInput {
  /** The `input` of the textToImage step, exactly as sent. */
  input: Record<string, unknown>;
  /** AIR → index in `input.loras`, to point Civitai's field errors back at the file. */
  loraIndex: Map<string, number>;
}

/**
 * Parameter-file input → textToImage step input. Everything passes through unchanged except:
 * - `loras: [{air, strength}]` (our convenience form) becomes Civitai's own
 *   `additionalNetworks: {[air]: {strength}}` (ImageJobNetworkParams), merged with any
 *   `additionalNetworks` the file gives itself (for embeddings with a `triggerWord`);
 * - `model` is the file's top-level model (an AIR); a `model` inside input is refused;
 * - a missing `seed` gets a random one (0 … 2^31-1), so the product records the seed it used
 *   (Civitai's schema marks seed required yet says "defaults to a random value").
 */
export function buildTextToImageInput(model: string, input: Record<string, unknown>, random: () => number = Math.random): BuiltInput {
  parseCheckpointAir(model);
  const errors: FieldError[] = [];
  if ('model' in input) errors.push({ path: ['model'], message: 'the checkpoint goes in the file\'s top-level "model", not in input' });
  const networks: Record<string, unknown> = {};
  const loraIndex = new Map<string, number>();
  if (input.additionalNetworks !== undefined) {
    if (!isPlainObject(input.additionalNetworks)) errors.push({ path: ['additionalNetworks'], message: 'must be an object of AIR → {strength, triggerWord}' });
    else {
      for (const [air, params] of Object.entries(input.additionalNetworks)) {
        if (!collectAir(air, ['additionalNetworks', air], errors)) continue;
        if (!isPlainObject(params)) errors.push({ path: ['additionalNetworks', air], message: 'must be an object like {"strength": 0.8}' });
        else networks[air] = params;
      }
    }
  }
  if (input.loras !== undefined) {
    if (!Array.isArray(input.loras)) errors.push({ path: ['loras'], message: 'must be a list of {"air": …, "strength": …}' });
    else {
      input.loras.forEach((entry: unknown, i) => {
        if (!isPlainObject(entry)) {
          errors.push({ path: ['loras', i], message: 'must be an object like {"air": "urn:air:…", "strength": 0.8}' });
          return;
        }
        const air = collectAir(entry.air, ['loras', i, 'air'], errors);
        if (!air) return;
        if (air.type === 'checkpoint') errors.push({ path: ['loras', i, 'air'], message: 'a checkpoint cannot be a LoRA; it belongs in "model"' });
        const strength = entry.strength ?? 1;
        if (typeof strength !== 'number' || !Number.isFinite(strength)) errors.push({ path: ['loras', i, 'strength'], message: 'must be a number' });
        for (const k of Object.keys(entry)) if (k !== 'air' && k !== 'strength') errors.push({ path: ['loras', i, k], message: 'unknown field (use "air" and "strength")' });
        const key = entry.air as string;
        if (key in networks) errors.push({ path: ['loras', i, 'air'], message: 'this AIR is listed twice' });
        networks[key] = { strength };
        loraIndex.set(key, i);
      });
    }
  }
  if (errors.length > 0) {
    throw new ProviderError('validation', PROVIDER, `The ${NAME} input has problems: ${errors.map((f) => `${f.path.join('.')}: ${f.message}`).join('; ')}. Fix the parameter file and try again.`, { fieldErrors: errors });
  }
  const out: Record<string, unknown> = { model };
  for (const [k, v] of Object.entries(input)) if (k !== 'loras' && k !== 'additionalNetworks' && k !== 'model') out[k] = v;
  if (Object.keys(networks).length > 0) out.additionalNetworks = networks;
  if (out.seed === undefined || out.seed === null) out.seed = Math.floor(random() * 2_147_483_647);
  return { input: out, loraIndex };
}

const WIDE_ECOSYSTEMS = new Set(['sdxl', 'pony', 'illustrious', 'noobai', 'flux1', 'sd3']);

/**
 * The textToImage input schema, written from TextToImageInput of the orchestration OpenAPI
 * (ranges and defaults from there), plus our `loras`. Civitai has no per-model schema; width and
 * height default to 1024 for SDXL-class and Flux ecosystems and to the API's 512 otherwise.
 */
export function civitaiInputSchema(air?: Air): JsonSchema {
  const side = air && WIDE_ECOSYSTEMS.has(air.ecosystem) ? 1024 : 512;
  const network = {
    type: 'object',
    additionalProperties: false,
    properties: {
      strength: { type: ['number', 'null'], description: 'For a LoRA or LoCon: how strongly it applies.' },
      triggerWord: { type: ['string', 'null'], description: 'For a textual-inversion embedding: the word that triggers it.' },
      type: { type: ['string', 'null'], description: 'A legacy type label (Civitai: "a legacy type set by the consumer").' },
    },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `Civitai textToImage input${air ? ` (${air.ecosystem})` : ''}`,
    description: 'Sent as the input of a Civitai orchestration workflow step of type textToImage. The checkpoint is the file\'s top-level "model" (an AIR).',
    type: 'object',
    required: ['prompt'],
    additionalProperties: false,
    properties: {
      prompt: { type: 'string', minLength: 1, description: 'What to draw: the text prompt.' },
      negativePrompt: { type: ['string', 'null'], description: 'What to avoid, e.g. "blurry, low quality".' },
      scheduler: { enum: [...CIVITAI_SCHEDULERS], description: 'The sampler/scheduler (Civitai\'s Scheduler enum), e.g. eulerA, dpM2MKarras.' },
      steps: { type: 'integer', minimum: 1, maximum: 150, default: 30, description: 'Number of diffusion steps (1–150). 20–30 is typical; LCM/Turbo checkpoints want 4–8.' },
      cfgScale: { type: 'number', minimum: 1, maximum: 30, default: 7.5, description: 'CFG scale: how closely to follow the prompt (1–30).' },
      width: { type: 'integer', minimum: 64, maximum: 4084, default: side, description: `Image width in pixels (64–4084). This model family's native size is ${side}.` },
      height: { type: 'integer', minimum: 64, maximum: 4084, default: side, description: `Image height in pixels (64–4084). This model family's native size is ${side}.` },
      seed: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'Seed for reproducible results. Leave it out for a random one; Art Factory picks it and records it with the product.' },
      clipSkip: { type: 'integer', default: 2, description: 'CLIP skip: how many final text-encoder layers to skip (a Stable Diffusion 1.5 setting).' },
      quantity: { type: 'integer', minimum: 1, maximum: 100, default: 1, description: 'Number of batches to run (1–100); each makes batchSize images, each a product.' },
      batchSize: { type: 'integer', minimum: 1, maximum: 100, default: 1, description: 'Images per batch (1–100).' },
      loras: {
        type: 'array',
        description: 'LoRAs to apply, each an AIR with a strength. Art Factory sends them to Civitai as additionalNetworks. "Browse Civitai Models…" inserts entries here.',
        items: {
          type: 'object',
          required: ['air'],
          additionalProperties: false,
          properties: {
            air: { type: 'string', pattern: AIR_JSON_PATTERN, description: 'The LoRA\'s AIR, e.g. urn:air:sdxl:lora:civitai:{modelId}@{versionId}. Use the same ecosystem as the checkpoint.' },
            strength: { type: 'number', default: 1, description: 'How strongly the LoRA applies; 0.6–1.0 is typical.' },
          },
        },
      },
      additionalNetworks: {
        type: 'object',
        description: 'Civitai\'s own form of extra networks: AIR → {strength, triggerWord}. Use it for textual-inversion embeddings; for LoRAs "loras" is simpler.',
        propertyNames: { pattern: AIR_JSON_PATTERN },
        additionalProperties: network,
      },
      sourceImage: {
        type: ['string', 'null'],
        description: 'Image-to-image: the starting image as an https URL or a data: URI (a local file picked in Art Factory is sent as a data: URI). Leave out for text-to-image.',
      },
      sourceImageDenoiseStrenght: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.8,
        description: 'Image-to-image strength (0–1): lower keeps more of the source image. Civitai spells the field this way.',
      },
      outputFormat: { enum: ['png', 'jpeg', 'webP'], description: 'File format of the generated images.' },
      // Both in TextToImageInput of the orchestration API (@civitai/client types.gen.ts).
      engine: { type: ['string', 'null'], description: 'An optional engine to use for generation (Civitai\'s own names, e.g. "sdcpp"). Leave out for the default.' },
      imageMetadata: { type: ['string', 'null'], description: 'External metadata that Civitai stores with the image (a string, e.g. JSON).' },
      controlNets: {
        type: 'array',
        description: 'ControlNets as Civitai defines them (ImageJobControlNet: preprocessor, weight, startStep, endStep, image); passed through unchanged.',
        items: { type: 'object' },
      },
    },
  };
}
