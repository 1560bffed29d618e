// Civitai adapter: generation through the orchestration API (a workflow with one `textToImage`
// step; models are AIRs, LoRAs go in as additional networks) and model / LoRA browsing through
// the public site API. A thin typed client of our own: the `civitai` npm package is unmaintained
// (global state, logs every input, broken ESM import). Every request goes through
// createProviderFetch (base-URL rewrite, https rule, rate limits, retries that never resend a
// submission), every response through zod, and we poll ourselves (pollUntilTerminal).
//
// Protocol, as read from Civitai's own sources (details and links in src/providers/README.md):
// - civitai/civitai-developer-docs `openapi-snapshots/v2-consumers.json` (the orchestration
//   OpenAPI): SubmitWorkflow `POST /v2/consumer/workflows?wait=` → Workflow (200 done, 202 still
//   running); GetWorkflow `GET …/{workflowId}`; UpdateWorkflow `PUT …/{workflowId}` "can currently
//   be used to cancel a workflow" with UpdateWorkflowRequest `{status: "canceled"}` (Civitai's
//   own site cancels exactly so: civitai/civitai src/server/services/orchestrator/workflows.ts);
//   QueryWorkflows `GET /v2/consumer/workflows?take=`; TextToImageInput, Blob/ImageBlob,
//   ImageJobNetworkParams, Scheduler, OutputFormat, WorkflowStatus, ProblemDetails.
// - the same repo's guides (orchestration/guide/*.md): statuses, `errors` as a map of field path
//   → messages on 400, job `reason`/`blockedReason`, 429 with Retry-After, signed blob URLs that
//   expire (so result() re-reads the workflow for fresh URLs).
// - site API docs (site/reference/models.md, model-versions.md, site/guide/air.md, pagination).

import { z } from 'zod';
import { artifactFromUrl } from './artifacts.ts';
import { ProviderError, redact, type FieldError } from './errors.ts';
import { bodyMessage, createProviderFetch, fieldErrorsFrom, mapHttpError, parseMaybeJson, type FetchFn, type FetchKind, type RetryPolicy } from './net.ts';
import { civitaiPolls, isTerminal, pollUntilTerminal } from './poll.ts';
import type {
  Artifact,
  Cost,
  JobRef,
  JobResult,
  JsonSchema,
  ModelInfo,
  Provider,
  ProviderContext,
  ProviderFactory,
  StatusUpdate,
  SubmitRequest,
  SubmitResponse,
  WatchOptions,
} from './types.ts';

const PROVIDER = 'civitai';
const NAME = 'Civitai';
export const CIVITAI_ORCHESTRATION = 'https://orchestration.civitai.com';
export const CIVITAI_SITE_API = 'https://civitai.com/api/v1';
const WORKFLOWS = `${CIVITAI_ORCHESTRATION}/v2/consumer/workflows`;
const NO_KEY = `No ${NAME} API token is set. Create one on civitai.com (Account settings → API Keys), then run "Art Factory: Set API Key…" (or set CIVITAI_API_TOKEN for the command line).`;

// ---------------------------------------------------------------------------------------------
// AIRs

export interface Air {
  ecosystem: string;
  type: string;
  source: string;
  id: string;
  version?: string;
  fileId?: string;
  format?: string;
}

export const AIR_EXAMPLE = 'urn:air:sdxl:checkpoint:civitai:101055@128078';
/** For JSON schemas (no named groups): the shape, the adapter checks the rest. */
export const AIR_JSON_PATTERN = '^urn:air:[a-z0-9][a-z0-9_-]*:[a-z0-9][a-z0-9_-]*:[a-z0-9][a-z0-9_-]*:[^\\s]+$';

const AIR_HEAD = /^urn:air:([a-z0-9][a-z0-9_-]{0,39}):([a-z0-9][a-z0-9_-]{0,39}):([a-z0-9][a-z0-9_-]{0,39}):(.+)$/;
// `{modelId}@{versionId}[+{fileId}][.{format}]` for source civitai (site/guide/air.md).
const CIVITAI_REST = /^(\d{1,12})(?:@(\d{1,12}))?(?:\+(\d{1,12}))?(?:\.([a-z0-9_-]{1,20}))?$/;
// Other sources (huggingface, civitai-r2, orchestrator): the orchestrator's own, looser shape.
const OTHER_REST = /^([A-Za-z0-9_\-/.]{1,200})(?:@([A-Za-z0-9_\-/.=,%+:]{1,200}))?$/;
/** AIR types that are never a checkpoint (the documented type ↔ ModelType table). */
const NOT_CHECKPOINT = new Set(['lora', 'embedding', 'vae', 'controlnet', 'upscaler']);

function airError(text: unknown, path: (string | number)[], why: string): ProviderError {
  const shown = typeof text === 'string' ? `"${text.slice(0, 120)}"` : 'The value';
  return new ProviderError(
    'validation',
    PROVIDER,
    `${shown} is not a usable Civitai AIR (${why}). Use urn:air:{ecosystem}:{type}:civitai:{modelId}@{versionId}, e.g. ${AIR_EXAMPLE}; "Art Factory: Browse Civitai Models…" finds them.`,
    { fieldErrors: [{ path, message: why }] },
  );
}

/**
 * Strict AIR check. The canonical `urn:air:` form is required (Civitai's docs recommend it for
 * API requests), lowercase ecosystem/type/source, and for source `civitai` a numeric model id
 * with a pinned `@versionId`: without it Civitai picks "the latest" version, and a product
 * could not be reproduced. A bad AIR is a `validation` error with the given field path.
 */
export function parseAir(text: unknown, path: (string | number)[] = ['model']): Air {
  if (typeof text !== 'string' || !text.trim()) throw airError(text, path, 'an AIR string is required');
  if (text.length > 400) throw airError(text, path, 'too long');
  const head = AIR_HEAD.exec(text);
  if (!head) {
    const why = /^urn:air:/i.test(text) ? 'expected urn:air:{ecosystem}:{type}:{source}:{id}, in lowercase' : 'it must start with urn:air:';
    throw airError(text, path, why);
  }
  const [, ecosystem, type, source, rest] = head;
  if (source === 'civitai') {
    const m = CIVITAI_REST.exec(rest);
    if (!m) throw airError(text, path, 'a civitai AIR ends in {modelId}@{versionId}, both numbers');
    if (!m[2]) throw airError(text, path, `pin a version: …:civitai:${m[1]}@{versionId}`);
    return { ecosystem, type, source, id: m[1], version: m[2], fileId: m[3], format: m[4] };
  }
  const m = OTHER_REST.exec(rest);
  if (!m) throw airError(text, path, 'the id part has characters an AIR cannot hold');
  return { ecosystem, type, source, id: m[1], version: m[2] };
}

/** The checkpoint AIR of a job: a valid AIR whose type is not a LoRA, embedding, VAE, … */
export function parseCheckpointAir(model: string): Air {
  const air = parseAir(model, ['model']);
  if (NOT_CHECKPOINT.has(air.type)) {
    throw new ProviderError(
      'validation',
      PROVIDER,
      `${model} is a ${air.type}, not a checkpoint. Set "model" to a checkpoint AIR${air.type === 'lora' ? ' and list this LoRA under "input.loras"' : ''}.`,
      { fieldErrors: [{ path: ['model'], message: `a ${air.type} AIR cannot be the model` }] },
    );
  }
  return air;
}

// ---------------------------------------------------------------------------------------------
// The textToImage input

/** Scheduler enum of the orchestration OpenAPI (components.schemas.Scheduler). */
export const CIVITAI_SCHEDULERS = [
  'eulerA', 'euler', 'lms', 'heun', 'dpM2', 'dpM2A', 'dpM2SA', 'dpM2M', 'dpmsde', 'dpmFast', 'dpmAdaptive', 'lmsKarras',
  'dpM2Karras', 'dpM2AKarras', 'dpM2SAKarras', 'dpM2MKarras', 'dpmsdeKarras', 'ddim', 'plms', 'uniPC', 'undefined', 'lcm',
  'ddpm', 'deis', 'dpM3MSDE',
] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
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

// ---------------------------------------------------------------------------------------------
// Built-in catalog

const CHECKPOINT_INFO = {
  provider: PROVIDER,
  capabilities: ['text-to-image', 'image-to-image'],
  promptField: 'prompt',
  seedField: 'seed',
  imageFields: ['sourceImage'],
} satisfies Partial<ModelInfo>;

/** A copy whose arrays the caller may change: the catalog's entries share CHECKPOINT_INFO's. */
function copyInfo(m: ModelInfo): ModelInfo {
  return { ...m, capabilities: [...m.capabilities], imageFields: m.imageFields && [...m.imageFields] };
}

/** Well-known checkpoints with AIRs from Civitai's own docs and code. */
export const CIVITAI_MODELS: ModelInfo[] = [
  {
    ...CHECKPOINT_INFO,
    id: 'urn:air:sdxl:checkpoint:civitai:101055@128078',
    title: 'SDXL 1.0 (VAE fix)',
    description: 'Stability AI\'s SDXL base checkpoint on Civitai (the AIR Civitai\'s docs use); 1024×1024 native.',
  },
  {
    ...CHECKPOINT_INFO,
    id: 'urn:air:sd1:checkpoint:civitai:4384@128713',
    title: 'DreamShaper 8 (SD 1.5)',
    description: 'The default checkpoint of Civitai\'s textToImage API; 512×512 native.',
  },
  {
    ...CHECKPOINT_INFO,
    id: 'urn:air:flux1:checkpoint:civitai:618692@691639',
    title: 'FLUX.1 [dev] on Civitai',
    description: 'Black Forest Labs\' FLUX.1 [dev] as Civitai hosts it (Civitai\'s own generator uses this AIR).',
  },
];

// ---------------------------------------------------------------------------------------------
// Response shapes (zod)

const blobSchema = z
  .object({
    id: z.string().max(500),
    available: z.boolean(),
    type: z.string().nullish(),
    url: z.string().max(8192).nullish(),
    urlExpiresAt: z.string().nullish(),
    jobId: z.string().nullish(),
    width: z.number().nullish(),
    height: z.number().nullish(),
    blockedReason: z.string().nullish(),
  })
  .passthrough();
type CivitaiBlob = z.infer<typeof blobSchema>;

const jobSchema = z
  .object({
    id: z.string().nullish(),
    status: z.string().nullish(),
    reason: z.string().nullish(),
    blockedReason: z.string().nullish(),
    queuePosition: z.unknown().optional(),
  })
  .passthrough();

const stepSchema = z
  .object({
    $type: z.string().nullish(),
    name: z.string().nullish(),
    status: z.string().nullish(),
    input: z.record(z.string(), z.unknown()).nullish(),
    output: z
      .object({ images: z.array(blobSchema).nullish(), errors: z.array(z.string()).nullish() })
      .passthrough()
      .nullish(),
    jobs: z.array(jobSchema).nullish(),
    estimatedProgressRate: z.number().nullish(),
  })
  .passthrough();

const workflowSchema = z
  .object({
    id: z.string().min(1).max(200),
    status: z.string(),
    createdAt: z.string().nullish(),
    startedAt: z.string().nullish(),
    completedAt: z.string().nullish(),
    steps: z.array(stepSchema).nullish(),
    transactions: z
      .object({ list: z.array(z.object({ type: z.string(), amount: z.number() }).passthrough()).nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();
type Workflow = z.infer<typeof workflowSchema>;
/** A `whatif` answer is a Workflow that was never created: its `id` may be null (the OpenAPI
 * types Workflow.id as nullable). */
const quoteSchema = workflowSchema.extend({ id: z.string().max(200).nullish() });

const queryWorkflowsSchema = z.object({ items: z.array(z.unknown()).nullish(), next: z.string().nullish() }).passthrough();

const restImageSchema = z.object({ url: z.string(), width: z.number().nullish(), height: z.number().nullish(), nsfwLevel: z.number().nullish() }).passthrough();
const restVersionFields = {
  id: z.number().int().positive(),
  name: z.string(),
  baseModel: z.string().nullish(),
  baseModelType: z.string().nullish(),
  trainedWords: z.array(z.string()).nullish(),
  air: z.string().nullish(),
  publishedAt: z.string().nullish(),
  supportsGeneration: z.boolean().nullish(),
  downloadUrl: z.string().nullish(),
  images: z.array(restImageSchema).nullish(),
};
const restModelVersionSummary = z.object(restVersionFields).passthrough();
const restModelSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    type: z.string(),
    nsfw: z.boolean().nullish(),
    description: z.string().nullish(),
    tags: z.array(z.string()).nullish(),
    creator: z.object({ username: z.string().nullish() }).passthrough().nullish(),
    stats: z.record(z.string(), z.unknown()).nullish(),
    modelVersions: z.array(restModelVersionSummary).nullish(),
  })
  .passthrough();
const restModelsPageSchema = z
  .object({
    items: z.array(restModelSchema),
    metadata: z
      .object({ nextCursor: z.union([z.string(), z.number()]).nullish(), nextPage: z.string().nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();
const restModelVersionSchema = z
  .object({
    ...restVersionFields,
    modelId: z.number().int().positive(),
    description: z.string().nullish(),
    model: z.object({ name: z.string(), type: z.string(), nsfw: z.boolean().nullish() }).passthrough().nullish(),
  })
  .passthrough();

export type CivitaiModel = z.infer<typeof restModelSchema>;
export type CivitaiModelVersionSummary = z.infer<typeof restModelVersionSummary>;
export type CivitaiModelVersion = z.infer<typeof restModelVersionSchema>;

export interface SearchModelsParams {
  /** Full-text search (Civitai requires cursor paging with it). */
  query?: string;
  /** ModelType values, e.g. Checkpoint, LORA. */
  types?: string[];
  /** e.g. "SDXL 1.0", "SD 1.5", "Flux.1 D". */
  baseModels?: string[];
  sort?: 'Highest Rated' | 'Most Downloaded' | 'Newest';
  /** Include mature content (Civitai's default is false). */
  nsfw?: boolean;
  /** 1–100 (Civitai's maximum); clamped. */
  limit?: number;
  /** `metadata.nextCursor` of the previous page. */
  cursor?: string;
}

export interface ModelPage {
  items: CivitaiModel[];
  /** Absent on the last page. */
  nextCursor?: string;
}

// ---------------------------------------------------------------------------------------------
// The adapter

const WORKFLOW_ID = /^[A-Za-z0-9_-]{1,128}$/;
function assertWorkflowId(id: string): string {
  if (!WORKFLOW_ID.test(id)) throw new ProviderError('not_found', PROVIDER, `"${id.slice(0, 60)}" is not a ${NAME} workflow id.`);
  return id;
}

/** Submitting a workflow is the one request that may create work; everything else is a call
 * (a `whatif=true` submission only prices it). */
function classify(url: URL, method: string): FetchKind {
  return method === 'POST' && /\/v2\/consumer\/workflows\/?$/.test(url.pathname) && url.searchParams.get('whatif') !== 'true' ? 'create' : 'call';
}

/** How many polls a succeeded workflow may still show images with `available: false`. The docs
 * do not say how long that lasts; the overall job deadline still applies on top. */
export const MAX_UNAVAILABLE_POLLS = 20;
/** Upload cap for data: URIs (the request body carries them). The orchestration docs give no
 * limit for textToImage's `sourceImage`; their image inputs elsewhere are capped at 10–30 MB
 * (e.g. "Source images must be … ≤20 MB", recipes/happy-horse.md), so 20 MB. */
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

export interface CivitaiProviderOptions {
  /** Underlying fetch (tests may wrap it). */
  fetch?: FetchFn;
  retry?: Partial<RetryPolicy>;
}

interface WatchState {
  status?: string;
  unavailablePolls: number;
}

interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT';
  body?: unknown;
  signal?: AbortSignal;
  /** Send the key (orchestration). The public site API is called without it. */
  auth: boolean;
  /** Maps 400 field errors of a submission back to the file's `loras`. */
  loraIndex?: Map<string, number>;
}

export class CivitaiProvider implements Provider {
  readonly id = PROVIDER;
  readonly displayName = NAME;
  readonly needsKey = true;
  /** Input images go inline as data: URIs, which never expire. */
  readonly uploadTtlMs = Infinity;
  /** Per workflow being watched: the status last logged, and the polls so far of a succeeded
   * workflow whose images were not all available yet. Dropped when the workflow ends; bounded
   * for watches abandoned midway. */
  private readonly watched = new Map<string, WatchState>();

  constructor(
    private readonly ctx: ProviderContext,
    private readonly opts: CivitaiProviderOptions = {},
  ) {}

  listModels(): ModelInfo[] {
    return CIVITAI_MODELS.map(copyInfo);
  }

  private async key(): Promise<string> {
    const key = await this.ctx.getKey();
    if (!key) throw new ProviderError('auth', PROVIDER, NO_KEY);
    return key;
  }

  /** One JSON request: errors become typed ProviderErrors, the body is checked with `schema`. */
  private async call<T>(what: string, url: string, opts: CallOptions, schema: z.ZodType<T>): Promise<T>;
  private async call(what: string, url: string, opts: CallOptions, schema?: undefined): Promise<undefined>;
  private async call<T>(what: string, url: string, opts: CallOptions, schema?: z.ZodType<T>): Promise<T | undefined> {
    const key = opts.auth ? await this.key() : undefined;
    const fetch = createProviderFetch(PROVIDER, this.ctx, classify, { secrets: [key], fetch: this.opts.fetch, retry: this.opts.retry });
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (key) headers.Authorization = `Bearer ${key}`;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const method = opts.method ?? 'GET';
    const isCreate = classify(new URL(url), method) === 'create';
    const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
    let text: string;
    try {
      text = await res.text();
    } catch {
      if (opts.signal?.aborted) throw new ProviderError('canceled', PROVIDER, `${NAME}: ${what} was canceled.`);
      throw new ProviderError('network', PROVIDER, `The connection to ${NAME} broke off while reading the answer to ${what}. Check the network, then retry.`, { maybeAccepted: isCreate });
    }
    if (!res.ok) throw this.httpError(res.status, text, res.headers, key, what, opts.loraIndex);
    if (!schema) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      throw new ProviderError('bad_response', PROVIDER, `${NAME} sent a malformed answer to ${what} (not valid JSON). Retry later; if it persists, open the log.`, { maybeAccepted: isCreate });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProviderError('bad_response', PROVIDER, `${NAME} sent an unexpected answer to ${what} (${issue?.path.join('.') || 'shape'}: ${issue?.message ?? 'invalid'}). Retry later; if it persists, open the log.`, { maybeAccepted: isCreate });
    }
    return parsed.data;
  }

  /** A final 4xx (429/5xx were retried and thrown inside the provider fetch already): Civitai's
   * own wording for 403 and 404; the rest as for every provider, with field paths made relative
   * to the input. */
  private httpError(status: number, text: string, headers: Headers, key: string | undefined, what: string, loraIndex?: Map<string, number>): ProviderError {
    const body = parseMaybeJson(text);
    const said = redact(bodyMessage(body), [key]);
    if (status === 403) {
      if (/buzz|fund|balance|credit/i.test(text)) {
        return new ProviderError('quota', PROVIDER, `${NAME} refused the request for lack of Buzz (HTTP 403). Top up your Buzz on civitai.com, then retry.${said ? ` ${NAME} said: ${said}` : ''}`, { status });
      }
      return new ProviderError('auth', PROVIDER, `${NAME} accepted the token but refused ${what} (HTTP 403)${said ? `: ${said}` : ''}. Check that the token's account may generate with these resources, or set another key.`, { status });
    }
    if (status === 404) {
      const thing = /model version/.test(what) ? 'model version' : /model/.test(what) ? 'model' : 'workflow';
      const hint = thing === 'workflow' ? 'It may have been deleted, or belong to another token.' : 'Check the id on civitai.com.';
      return new ProviderError('not_found', PROVIDER, `${NAME} does not know this ${thing} (HTTP 404)${said ? `: ${said}` : ''}. ${hint}`, { status });
    }
    return mapHttpError(PROVIDER, status, body, headers, [key], civitaiFieldErrors(body, loraIndex));
  }

  // ----- models and schemas -------------------------------------------------------------------

  async describeModel(model: string, signal?: AbortSignal): Promise<ModelInfo> {
    const builtin = CIVITAI_MODELS.find((m) => m.id === model);
    if (builtin) return copyInfo(builtin);
    const air = parseCheckpointAir(model);
    const info = copyInfo({ ...CHECKPOINT_INFO, id: model, title: model, custom: true });
    if (air.source !== 'civitai' || !air.version) return { ...info, description: `${air.ecosystem} ${air.type} from ${air.source}.` };
    const v = await this.getModelVersion(Number(air.version), signal);
    const type = v.model?.type;
    if (type && type !== 'Checkpoint') {
      throw new ProviderError('validation', PROVIDER, `${v.model?.name ?? model} is a ${type}, not a checkpoint. Use a checkpoint AIR as "model"${type === 'LORA' ? ' and add this one to "input.loras"' : ''}.`, {
        fieldErrors: [{ path: ['model'], message: `a ${type} cannot be the model` }],
      });
    }
    const words = (v.trainedWords ?? []).filter(Boolean).slice(0, 10);
    const parts = [`${v.baseModel ?? air.ecosystem} checkpoint on Civitai`];
    if (words.length) parts.push(`trained words: ${words.join(', ')}`);
    if (v.air && v.air !== model) parts.push(`Civitai's canonical AIR is ${v.air}`);
    return { ...info, title: v.model?.name ? `${v.model.name} — ${v.name}` : `${model}`, description: parts.join('; ').slice(0, 500) };
  }

  async getInputSchema(model: string): Promise<JsonSchema> {
    return civitaiInputSchema(parseCheckpointAir(model));
  }

  // ----- generation ---------------------------------------------------------------------------

  /**
   * What the workflow would cost, without running it: SubmitWorkflow with `whatif=true` ("Whether
   * to actually submit the workflow or return an estimate on what would happen upon submission",
   * civitai-client-javascript swagger.json, POST /v2/consumer/workflows) answers a Workflow whose
   * `transactions.list` holds the debits it would make, and `insufficientBuzz` when the account
   * cannot pay. Quotes are not binding, so the quote is marked estimated. The body is the one
   * `submit` sends (the seed only changes nothing of the price, but it is sent as it will be).
   */
  async quote(req: SubmitRequest): Promise<Cost | undefined> {
    const { input, loraIndex } = buildTextToImageInput(req.model, req.input, this.ctx.random);
    const body = { steps: [{ $type: 'textToImage', input }], tags: ['art-factory'], allowMatureContent: this.ctx.allowMatureContent === true };
    const wf = await this.call('the price quote', `${WORKFLOWS}?whatif=true`, { method: 'POST', body, signal: req.signal, auth: true, loraIndex }, quoteSchema);
    const cost = costOf(wf);
    return cost ? { ...cost, estimated: true } : undefined;
  }

  async submit(req: SubmitRequest): Promise<SubmitResponse> {
    const { input, loraIndex } = buildTextToImageInput(req.model, req.input, this.ctx.random);
    // allowMatureContent: "When set to false, the workflow will not return any content that is
    // marked as mature" (WorkflowTemplate, @civitai/client types.gen.ts); true lets it through,
    // paid in yellow Buzz (guide submitting-work.md, "Mature content and currency interaction").
    const body = { steps: [{ $type: 'textToImage', input }], tags: ['art-factory'], allowMatureContent: this.ctx.allowMatureContent === true };
    // wait=0: answer at once with the workflow id; we poll.
    const wf = await this.call('the submission', `${WORKFLOWS}?wait=0`, { method: 'POST', body, signal: req.signal, auth: true, loraIndex }, workflowSchema);
    if (!WORKFLOW_ID.test(wf.id)) throw new ProviderError('bad_response', PROVIDER, `${NAME} answered the submission with an unusable workflow id. Check your Civitai dashboard before retrying.`, { maybeAccepted: true });
    return { requestId: wf.id };
  }

  private async workflow(id: string, what: string, signal?: AbortSignal): Promise<Workflow> {
    assertWorkflowId(id);
    return this.call(what, `${WORKFLOWS}/${encodeURIComponent(id)}`, { signal, auth: true }, workflowSchema);
  }

  async status(ref: JobRef, signal?: AbortSignal): Promise<StatusUpdate> {
    const wf = await this.workflow(ref.requestId, 'the status request', signal);
    const key = await this.ctx.getKey();
    const seen = this.watchState(wf.id);
    const logs: string[] = [];
    if (seen.status !== wf.status) {
      seen.status = wf.status;
      logs.push(`workflow ${wf.id}: ${wf.status}`);
    }
    const update = this.update(wf, key, seen, logs);
    if (isTerminal(update)) this.watched.delete(wf.id);
    return logs.length ? { ...update, logs } : update;
  }

  private watchState(id: string): WatchState {
    let s = this.watched.get(id);
    if (!s) {
      if (this.watched.size >= 200) this.watched.delete(this.watched.keys().next().value!);
      this.watched.set(id, (s = { unavailablePolls: 0 }));
    }
    return s;
  }

  private update(wf: Workflow, key: string | undefined, seen: WatchState, logs: string[]): StatusUpdate {
    const base = { providerStatus: wf.status };
    switch (wf.status) {
      case 'unassigned':
      case 'preparing':
      case 'scheduled':
        return { ...base, state: 'submitted', queuePosition: queuePositionOf(wf) };
      case 'processing':
        return { ...base, state: 'running', progress: progressOf(wf) };
      case 'succeeded':
        return this.succeeded(wf, key, seen, logs);
      case 'failed':
        return { ...base, state: 'failed', error: failedError(wf, key) };
      case 'expired': {
        const why = reasonsOf(wf, key);
        return {
          ...base,
          state: 'failed',
          error: new ProviderError('failed', PROVIDER, `${NAME} let the workflow expire before it finished (status "expired"${why ? `: ${why}` : ''}). Nothing more will happen to it: retry the job, perhaps with a smaller size or quantity.`),
        };
      }
      case 'canceled':
        return { ...base, state: 'canceled', error: new ProviderError('canceled', PROVIDER, `The ${NAME} workflow was canceled.`) };
      default:
        return { ...base, state: 'failed', error: new ProviderError('bad_response', PROVIDER, `${NAME} reported an unknown workflow status "${wf.status.slice(0, 40)}".`) };
    }
  }

  /**
   * A succeeded workflow whose images are not all `available` yet (blobs still being written):
   * keep polling, at most MAX_UNAVAILABLE_POLLS times. Then succeed with the images that are
   * available, or fail when none is (bad_output). Images with a `blockedReason` were withheld by
   * Civitai's moderation and never become available.
   */
  private succeeded(wf: Workflow, key: string | undefined, seen: WatchState, logs: string[]): StatusUpdate {
    const images = imagesOf(wf);
    const ready = images.filter(isReady);
    const pending = images.filter(isPending);
    if (pending.length > 0 && seen.unavailablePolls < MAX_UNAVAILABLE_POLLS) {
      if (seen.unavailablePolls === 0) logs.push(`workflow ${wf.id}: succeeded; waiting for ${pending.length} of ${images.length} image${images.length === 1 ? '' : 's'} to become available`);
      seen.unavailablePolls++;
      return { providerStatus: 'succeeded', state: 'running', progress: 1 };
    }
    if (ready.length === 0) return { providerStatus: 'succeeded', state: 'failed', error: noImageError(images, key) };
    const withheld = images.filter(isWithheld).length;
    if (withheld > 0) logs.push(`workflow ${wf.id}: ${withheld} image${withheld === 1 ? ' was' : 's were'} withheld as mature content; ${withheldHint}`);
    if (pending.length > 0) logs.push(`workflow ${wf.id}: ${pending.length} image${pending.length === 1 ? '' : 's'} never became available; keeping the ${ready.length} that did`);
    return { providerStatus: 'succeeded', state: 'succeeded', progress: 1 };
  }

  /** Polled at the cadence Civitai's guide suggests (2, 5, 10, 15, then every 30 s). */
  watch(ref: JobRef, opts: WatchOptions = {}): AsyncIterable<StatusUpdate> {
    return pollUntilTerminal(PROVIDER, this.ctx, (signal) => this.status(ref, signal), opts, civitaiPolls);
  }

  /** Re-reads the workflow: blob URLs are signed and expire, so they are taken fresh. */
  async result(ref: JobRef, signal?: AbortSignal): Promise<JobResult> {
    const wf = await this.workflow(ref.requestId, 'the result request', signal);
    const key = await this.ctx.getKey();
    if (wf.status !== 'succeeded') {
      if (wf.status === 'failed') throw failedError(wf, key);
      if (wf.status === 'canceled') throw new ProviderError('canceled', PROVIDER, `The ${NAME} workflow was canceled.`);
      throw new ProviderError('failed', PROVIDER, `The ${NAME} workflow has not succeeded (status ${wf.status.slice(0, 40)}).`);
    }
    const images = imagesOf(wf);
    const artifacts: Artifact[] = images.filter(isReady).map(artifactOf);
    if (artifacts.length === 0) throw noImageError(images, key);
    const input = wf.steps?.[0]?.input ?? {};
    const seed = typeof input.seed === 'number' ? input.seed : undefined;
    const result: JobResult = { artifacts, seed, modelVersion: typeof input.model === 'string' ? input.model : ref.model };
    const timings = timingsOf(wf);
    if (timings) result.timings = timings;
    const cost = costOf(wf);
    if (cost) result.billing = { cost };
    return result;
  }

  /**
   * A download answered 403 (or another 4xx): blob URLs are signed and expire within minutes
   * ("Blob URLs are signed and expire", guide results-and-webhooks.md; `urlExpiresAt` on each
   * blob), so a large batch can outlive them. Re-read the workflow and hand back the same blob
   * (by id) with its fresh URL; the engine tries that once.
   */
  async refreshArtifact(ref: JobRef, stale: Artifact, status: number, signal?: AbortSignal): Promise<Artifact> {
    const id = stale.url ? blobIdOf(stale.url) : undefined;
    const wf = await this.workflow(ref.requestId, 'the workflow request (for fresh image URLs)', signal);
    const fresh = imagesOf(wf).find((i) => i.id === id || (id !== undefined && i.id.replace(/\.[^.]+$/, '') === id));
    if (!fresh || !isReady(fresh)) {
      throw new ProviderError('bad_output', PROVIDER, `Downloading a ${NAME} image failed with HTTP ${status}, and the workflow offers no fresh URL for it${fresh ? ' (it is no longer available)' : ''}. Retry the job.`, { status });
    }
    this.ctx.log?.info(`${NAME}: the URL of image ${fresh.id.slice(0, 40)} of ${wf.id} had expired (HTTP ${status}); trying its fresh one`);
    return artifactOf(fresh);
  }

  /** `PUT /v2/consumer/workflows/{id}` with `{status: "canceled"}` (UpdateWorkflow). A workflow
   * that already ended answers 400/409: nothing is left to cancel. */
  async cancel(ref: JobRef): Promise<void> {
    assertWorkflowId(ref.requestId);
    try {
      await this.call('the cancel request', `${WORKFLOWS}/${encodeURIComponent(ref.requestId)}`, { method: 'PUT', body: { status: 'canceled' }, auth: true });
    } catch (e) {
      if (e instanceof ProviderError && (e.status === 400 || e.status === 409)) return;
      throw e;
    }
  }

  /**
   * Civitai's sourceImage takes "a URL, a DataURL or a Base64 string" (OpenAPI, format
   * source-image), so an input image is passed as a data: URI. The orchestrator does have a blob
   * upload (`POST /v2/consumer/blobs`, UploadConsumerBlob), but its request body is not described
   * in the public OpenAPI, so we do not use it.
   */
  async upload(data: Uint8Array, mediaType: string): Promise<string> {
    if (!/^image\/[\w.+-]+$/.test(mediaType)) {
      throw new ProviderError('validation', PROVIDER, `${NAME} takes images as input; "${mediaType.slice(0, 60)}" is not one.`, { fieldErrors: [{ path: ['sourceImage'], message: 'not an image' }] });
    }
    if (data.byteLength > MAX_UPLOAD_BYTES) {
      throw new ProviderError('validation', PROVIDER, `The input image is ${Math.round(data.byteLength / 1024 / 1024)} MB; ${NAME} input images are sent inline, up to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB. Use a smaller image or an https URL.`, {
        fieldErrors: [{ path: ['sourceImage'], message: 'image too large to send inline' }],
      });
    }
    return `data:${mediaType};base64,${Buffer.from(data).toString('base64')}`;
  }

  /** QueryWorkflows with take=1: authenticated, free, creates nothing; 401 on a bad token. */
  async testConnection(signal?: AbortSignal): Promise<void> {
    await this.call('the connection test', `${WORKFLOWS}?take=1`, { signal, auth: true }, queryWorkflowsSchema);
  }

  // ----- browsing (public site API, no key sent) ----------------------------------------------

  /** `GET /api/v1/models` with cursor paging (page numbers past 1000 results are refused). */
  async searchModels(params: SearchModelsParams = {}, signal?: AbortSignal): Promise<ModelPage> {
    const q = new URLSearchParams();
    q.set('limit', String(Math.min(100, Math.max(1, Math.floor(params.limit ?? 20)))));
    if (params.query?.trim()) q.set('query', params.query.trim().slice(0, 200));
    for (const t of params.types ?? []) q.append('types', t);
    for (const b of params.baseModels ?? []) q.append('baseModels', b);
    if (params.sort) q.set('sort', params.sort);
    if (params.nsfw !== undefined) q.set('nsfw', String(params.nsfw));
    if (params.cursor) q.set('cursor', params.cursor);
    const page = await this.call('the model search', `${CIVITAI_SITE_API}/models?${q.toString()}`, { signal, auth: false }, restModelsPageSchema);
    const next = page.metadata?.nextCursor;
    return { items: page.items, nextCursor: next === undefined || next === null || next === '' ? undefined : String(next) };
  }

  /** Every page of a search, following cursors (at most `maxPages`). */
  async *allModels(params: SearchModelsParams = {}, opts: { maxPages?: number; signal?: AbortSignal } = {}): AsyncGenerator<CivitaiModel[]> {
    let cursor = params.cursor;
    for (let page = 0; page < (opts.maxPages ?? 50); page++) {
      const r = await this.searchModels({ ...params, cursor }, opts.signal);
      yield r.items;
      if (!r.nextCursor || r.nextCursor === cursor) return;
      cursor = r.nextCursor;
    }
  }

  async getModel(id: number, signal?: AbortSignal): Promise<CivitaiModel> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new ProviderError('not_found', PROVIDER, `${id} is not a ${NAME} model id.`);
    return this.call('the model request', `${CIVITAI_SITE_API}/models/${id}`, { signal, auth: false }, restModelSchema);
  }

  /** `GET /api/v1/model-versions/{id}`: baseModel, trainedWords and the canonical `air`. */
  async getModelVersion(id: number, signal?: AbortSignal): Promise<CivitaiModelVersion> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new ProviderError('not_found', PROVIDER, `${id} is not a ${NAME} model version id.`);
    return this.call('the model version request', `${CIVITAI_SITE_API}/model-versions/${id}`, { signal, auth: false }, restModelVersionSchema);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers over workflows and error bodies

function imagesOf(wf: Workflow): CivitaiBlob[] {
  return (wf.steps ?? []).flatMap((s) => s.output?.images ?? []);
}

/** Downloadable: available, with a URL, and not withheld by moderation. */
function isReady(i: CivitaiBlob): i is CivitaiBlob & { url: string } {
  return !i.blockedReason && i.available && !!i.url;
}

/** Still being written: not available yet (it may become so). */
function isPending(i: CivitaiBlob): boolean {
  return !i.blockedReason && !i.available;
}

/** Available but without a URL: mature content withheld (the workflow's `allowMatureContent` was
 * false, or `upgradeMode: "manual"` holds it back: guide submitting-work.md). It never comes. */
function isWithheld(i: CivitaiBlob): boolean {
  return !i.blockedReason && i.available && !i.url;
}

const withheldHint = 'to receive mature images, set "artFactory.providers.civitai.allowMatureContent" to true (Civitai charges mature images in yellow Buzz), then run the job again';

/** Why a finished workflow has nothing to download: moderation, mature content held back, or
 * images that never became available. */
function noImageError(images: CivitaiBlob[], key: string | undefined): ProviderError {
  const blocked = images.find((i) => i.blockedReason);
  if (blocked) return blockedError(blocked.blockedReason, key);
  const withheld = images.filter(isWithheld).length;
  if (withheld > 0) {
    return new ProviderError('failed', PROVIDER, `${NAME} withheld ${withheld === 1 ? 'the image' : `all ${withheld} images`} as mature content (available, but without a URL). To receive ${withheld === 1 ? 'it' : 'them'}, ${withheldHint.replace(/^to receive mature images, /, '')}.`);
  }
  return new ProviderError('bad_output', PROVIDER, images.length === 0 ? `The ${NAME} workflow succeeded without any image. Retry the job.` : `${NAME} reported the workflow succeeded, but none of its ${images.length} image${images.length === 1 ? '' : 's'} became available for download. Retry the job.`);
}

function artifactOf(i: CivitaiBlob & { url: string }): Artifact {
  return { ...artifactFromUrl(i.url), width: positive(i.width), height: positive(i.height) };
}

/** The blob id of a signed blob URL (`…/v2/consumer/blobs/{id}.{ext}?sig=…`). */
function blobIdOf(url: string): string | undefined {
  try {
    const m = /\/blobs\/([^/]+?)(?:\.[a-z0-9]{2,5})?$/i.exec(new URL(url).pathname);
    return m ? decodeURIComponent(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function positive(n: number | null | undefined): number | undefined {
  return typeof n === 'number' && n > 0 ? n : undefined;
}

function queuePositionOf(wf: Workflow): number | undefined {
  let best: number | undefined;
  for (const j of (wf.steps ?? []).flatMap((s) => s.jobs ?? [])) {
    const q = j.queuePosition;
    // Older responses give a number; Civitai's own code reads `{precedingJobs}`.
    const n = typeof q === 'number' ? q : isPlainObject(q) && typeof q.precedingJobs === 'number' ? q.precedingJobs : undefined;
    if (n !== undefined && Number.isFinite(n) && n >= 0 && (best === undefined || n < best)) best = n;
  }
  return best;
}

function progressOf(wf: Workflow): number | undefined {
  const rates = (wf.steps ?? []).map((s) => s.estimatedProgressRate).filter((r): r is number => typeof r === 'number' && Number.isFinite(r));
  if (rates.length === 0) return undefined;
  return Math.min(1, Math.max(0, rates.reduce((a, b) => a + b, 0) / rates.length));
}

function reasonsOf(wf: Workflow, key: string | undefined): string {
  const texts = new Set<string>();
  for (const s of wf.steps ?? []) {
    for (const j of s.jobs ?? []) {
      if (j.reason) texts.add(j.blockedReason ? `${j.reason} (${j.blockedReason})` : j.reason);
    }
    for (const e of s.output?.errors ?? []) texts.add(e);
  }
  return redact([...texts].join('; '), [key]).slice(0, 400);
}

function blockedError(blockedReason: string | null | undefined, key: string | undefined): ProviderError {
  const reason = redact(blockedReason ?? '', [key]).slice(0, 200);
  return new ProviderError('failed', PROVIDER, `${NAME}'s moderation blocked the generation${reason ? ` (${reason})` : ''}. Change the prompt or input image; retrying the same input will not help.`);
}

function failedError(wf: Workflow, key: string | undefined): ProviderError {
  const jobs = (wf.steps ?? []).flatMap((s) => s.jobs ?? []);
  const blocked = jobs.find((j) => j.reason === 'blocked') ?? imagesOf(wf).find((i) => i.blockedReason);
  if (blocked) return blockedError(blocked.blockedReason, key);
  if (jobs.some((j) => j.reason === 'no_provider_available')) {
    return new ProviderError('failed', PROVIDER, `The ${NAME} workflow failed: no Civitai worker can run it with these inputs (no_provider_available). Try another size or checkpoint, or retry later.`);
  }
  const why = reasonsOf(wf, key);
  return new ProviderError('failed', PROVIDER, `The ${NAME} workflow failed${why ? `: ${why}` : ' (Civitai gave no reason)'}. Check the inputs, then retry.`);
}

function timingsOf(wf: Workflow): Record<string, number> | undefined {
  const t = (s: string | null | undefined) => (s ? Date.parse(s) : NaN);
  const created = t(wf.createdAt);
  const started = t(wf.startedAt);
  const completed = t(wf.completedAt);
  const out: Record<string, number> = {};
  if (Number.isFinite(created) && Number.isFinite(started) && started >= created) out.queue = (started - created) / 1000;
  if (Number.isFinite(started) && Number.isFinite(completed) && completed >= started) out.run = (completed - started) / 1000;
  return Object.keys(out).length ? out : undefined;
}

/** Buzz charged (or, for a `whatif` submission, quoted): debits minus credits of the workflow's
 * `transactions.list` (TransactionSummary in civitai-client-javascript swagger.json:
 * TransactionInfo `{type: "debit" | "credit", amount, accountType}`). A failed workflow's
 * refund comes back as a credit. */
function costOf(wf: Pick<Workflow, 'transactions'>): Cost | undefined {
  const list = wf.transactions?.list ?? [];
  if (list.length === 0) return undefined;
  let amount = 0;
  for (const t of list) {
    if (!Number.isFinite(t.amount)) continue;
    if (t.type === 'debit') amount += t.amount;
    else if (t.type === 'credit') amount -= t.amount;
  }
  return { amount, currency: 'buzz', estimated: false };
}

/** Civitai's field paths start at the workflow (`steps[0].input.width`); ours at the input. A
 * network that came from `loras` points back at its entry there. */
function civitaiFieldErrors(body: unknown, loraIndex?: Map<string, number>): FieldError[] {
  return fieldErrorsFrom(body).map(({ path, message }) => {
    const rel = /^steps$/i.test(String(path[0])) && typeof path[1] === 'number' && /^input$/i.test(String(path[2])) ? path.slice(3) : path;
    const lora = rel[0] === 'additionalNetworks' && rel.length >= 2 ? loraIndex?.get(rel.slice(1).join('.')) : undefined;
    return { path: lora === undefined ? rel : ['loras', lora, 'air'], message };
  });
}

export function isCivitaiProvider(p: Provider | undefined): p is CivitaiProvider {
  return p instanceof CivitaiProvider;
}

export const createCivitaiProvider: ProviderFactory = (ctx) => new CivitaiProvider(ctx);
