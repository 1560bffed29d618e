// Replicate adapter over the real `replicate` client (`useFileOutput: false`: outputs are plain
// URL strings). Its request() wraps our fetch in withAutomaticRetries, which swallows anything
// our fetch throws and calls it again with the same `init` up to five times, within
// milliseconds and ignoring Retry-After. So our fetch does the retrying (limits, backoff,
// Retry-After) and runs with `stickyFailures`: a final failure is remembered per `init` and
// rethrown at once, so the client's loop neither multiplies our retries nor resends a
// submission. We poll ourselves: the client's wait() never ends on `aborted`.

import Replicate from 'replicate';
import { z } from 'zod';
import { artifactFromUrl, isHttpUrl } from './artifacts.ts';
import { ProviderError, isProviderError, redact } from './errors.ts';
import { createProviderFetch, errorBodyText, mapHttpError, type FetchFn, type FetchKind, type RetryPolicy } from './net.ts';
import { pollUntilTerminal } from './poll.ts';
import { describeFromSchema, inlineRefs } from './schema.ts';
import type {
  Artifact,
  JobRef,
  JobResult,
  JsonSchema,
  MediaKind,
  ModelInfo,
  Provider,
  ProviderContext,
  ProviderFactory,
  StatusUpdate,
  SubmitRequest,
  SubmitResponse,
  WatchOptions,
} from './types.ts';

const PROVIDER = 'replicate';
const NAME = 'Replicate';
const API = 'https://api.replicate.com/v1';

/** Built-in catalog: well-known models with their field names (from their published schemas). */
export const REPLICATE_MODELS: ModelInfo[] = [
  {
    provider: PROVIDER,
    id: 'black-forest-labs/flux-schnell',
    title: 'FLUX.1 [schnell]',
    description: 'Fast 1–4 step FLUX text-to-image (official model).',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
  },
  {
    provider: PROVIDER,
    id: 'black-forest-labs/flux-dev',
    title: 'FLUX.1 [dev]',
    description: 'FLUX text-to-image; also image-to-image through `image`.',
    capabilities: ['text-to-image', 'image-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    imageFields: ['image'],
  },
  {
    provider: PROVIDER,
    id: 'black-forest-labs/flux-1.1-pro',
    title: 'FLUX1.1 [pro]',
    description: 'High-quality FLUX text-to-image (official model).',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
  },
  {
    provider: PROVIDER,
    id: 'black-forest-labs/flux-kontext-pro',
    title: 'FLUX.1 Kontext [pro]',
    description: 'Edit an input image with a text instruction.',
    capabilities: ['image-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    imageFields: ['input_image'],
  },
  {
    provider: PROVIDER,
    id: 'stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc',
    title: 'Stable Diffusion XL',
    description: 'SDXL by version id: text-to-image, img2img through `image`, inpainting with `mask`.',
    capabilities: ['text-to-image', 'image-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    imageFields: ['image', 'mask'],
  },
  {
    provider: PROVIDER,
    id: 'minimax/video-01',
    title: 'MiniMax Video-01',
    description: 'Text- or image-to-video (about 6 s clips).',
    capabilities: ['video'],
    promptField: 'prompt',
    imageFields: ['first_frame_image'],
  },
];

const MODEL_ID = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)(?::([A-Za-z0-9]{1,128}))?$/;

export function parseReplicateModel(model: string): { owner: string; name: string; version?: string } {
  const m = MODEL_ID.exec(model);
  if (!m || m[1] === '.' || m[1] === '..' || m[2] === '.' || m[2] === '..') {
    throw new ProviderError('validation', PROVIDER, `"${model.slice(0, 100)}" is not a Replicate model. Use owner/name or owner/name:version.`, {
      fieldErrors: [{ path: ['model'], message: 'not a Replicate model id' }],
    });
  }
  return { owner: m[1], name: m[2], version: m[3] };
}

const PREDICTION_ID = /^[A-Za-z0-9_-]{1,128}$/;
function assertPredictionId(id: string): string {
  if (!PREDICTION_ID.test(id)) throw new ProviderError('not_found', PROVIDER, `"${id.slice(0, 60)}" is not a Replicate prediction id.`);
  return id;
}

/** Creating a prediction is the only submission; everything else is an ordinary call. */
function classify(url: URL, method: string): FetchKind {
  return method === 'POST' && /\/v1\/(predictions|models\/[^/]+\/[^/]+\/predictions|deployments\/[^/]+\/[^/]+\/predictions)$/.test(url.pathname) ? 'create' : 'call';
}

const predictionSchema = z
  .object({
    id: z.string().min(1).max(200),
    status: z.string(),
    version: z.string().nullish(),
    output: z.unknown().optional(),
    error: z.unknown().optional(),
    logs: z.string().nullish(),
    metrics: z.record(z.string(), z.unknown()).nullish(),
    urls: z.record(z.string(), z.string()).nullish(),
  })
  .passthrough();
type Prediction = z.infer<typeof predictionSchema>;

const fileObjectSchema = z.object({ id: z.string(), urls: z.object({ get: z.string() }).passthrough() }).passthrough();

const versionSchema = z.object({ id: z.string(), openapi_schema: z.unknown().nullish() }).passthrough();
const modelSchema = z
  .object({
    owner: z.string().optional(),
    name: z.string().optional(),
    description: z.string().nullish(),
    latest_version: versionSchema.nullish(),
  })
  .passthrough();

export interface ReplicateProviderOptions {
  fetch?: FetchFn;
  retry?: Partial<RetryPolicy>;
}

export class ReplicateProvider implements Provider {
  readonly id = PROVIDER;
  readonly displayName = NAME;
  readonly needsKey = true;
  private readonly logCursor = new Map<string, number>();
  private readonly predictions = new Map<string, Prediction>();

  constructor(
    private readonly ctx: ProviderContext,
    private readonly opts: ReplicateProviderOptions = {},
  ) {}

  listModels(): ModelInfo[] {
    return REPLICATE_MODELS.map((m) => ({ ...m }));
  }

  private async client(): Promise<{ client: Replicate; key: string }> {
    const key = await this.ctx.getKey();
    if (!key) throw new ProviderError('auth', PROVIDER, 'No Replicate API token is set. Run "Art Factory: Set API Key…" (or set REPLICATE_API_TOKEN for the command line).');
    const fetch = createProviderFetch(PROVIDER, this.ctx, classify, { secrets: [key], fetch: this.opts.fetch, retry: this.opts.retry, stickyFailures: true });
    // baseUrl stays the real API: our fetch does the rewriting, for API calls and downloads alike.
    const client = new Replicate({ auth: key, baseUrl: API, fetch, useFileOutput: false });
    return { client, key };
  }

  private toError(e: unknown, key: string | undefined, what: string): ProviderError {
    if (isProviderError(e)) return e;
    const maybeApi = e as { name?: unknown; response?: unknown; message?: unknown };
    if (e instanceof Error && maybeApi.name === 'ApiError' && maybeApi.response instanceof Response) {
      const res = maybeApi.response;
      const text = errorBodyText(res) ?? '';
      let body: unknown = text;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        /* plain text body */
      }
      return mapHttpError(PROVIDER, res.status, body, res.headers, [key]);
    }
    if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) return new ProviderError('canceled', PROVIDER, `${NAME}: ${what} was canceled.`);
    if (e instanceof SyntaxError) return new ProviderError('bad_response', PROVIDER, `${NAME} sent a malformed response to ${what} (not valid JSON). Retry later; if it persists, open the log.`);
    if (e instanceof z.ZodError) {
      return new ProviderError('bad_response', PROVIDER, `${NAME} sent an unexpected response to ${what} (${e.issues[0]?.path.join('.') || 'shape'}: ${e.issues[0]?.message ?? 'invalid'}). Retry later; if it persists, open the log.`);
    }
    return new ProviderError('bad_response', PROVIDER, `${NAME}: ${what} failed: ${redact(e instanceof Error ? e.message : String(e), [key])}`);
  }

  private async call<T>(what: string, fn: (client: Replicate) => Promise<T>): Promise<{ value: T; key: string }> {
    const { client, key } = await this.client();
    try {
      return { value: await fn(client), key };
    } catch (e) {
      throw this.toError(e, key, what);
    }
  }

  async describeModel(model: string, signal?: AbortSignal): Promise<ModelInfo> {
    const builtin = REPLICATE_MODELS.find((m) => m.id === model);
    if (builtin) return { ...builtin };
    const { input, title, description } = await this.readSchema(model, signal);
    return describeFromSchema(PROVIDER, model, input, { title, description, outputHint: description });
  }

  async getInputSchema(model: string, signal?: AbortSignal): Promise<JsonSchema> {
    return (await this.readSchema(model, signal)).input;
  }

  /** `GET /models/{owner}/{name}` (latest version) or `…/versions/{id}`; Input with $refs inlined. */
  private async readSchema(model: string, signal?: AbortSignal): Promise<{ input: JsonSchema; title: string; description?: string }> {
    const { owner, name, version } = parseReplicateModel(model);
    const { value } = await this.call(`the schema request for ${model}`, async (c) => {
      const m = modelSchema.parse(await c.models.get(owner, name, { signal }));
      const v = version ? versionSchema.parse(await c.models.versions.get(owner, name, version, { signal })) : m.latest_version;
      return { m, v };
    });
    const openapi = value.v?.openapi_schema as { components?: { schemas?: Record<string, unknown> } } | null | undefined;
    const schemas = openapi?.components?.schemas;
    if (!schemas || typeof schemas.Input !== 'object' || schemas.Input === null) {
      throw new ProviderError('not_found', PROVIDER, `${NAME} publishes no input schema for "${model}" (no version with an OpenAPI schema). Check the model page.`);
    }
    return { input: inlineRefs(schemas.Input, schemas), title: `${owner}/${name}`, description: value.m.description ?? undefined };
  }

  async submit(req: SubmitRequest): Promise<SubmitResponse> {
    const { owner, name, version } = parseReplicateModel(req.model);
    const { value } = await this.call('the submission', async (c) =>
      predictionSchema.parse(
        version
          ? await c.predictions.create({ version, input: req.input, signal: req.signal })
          : await c.predictions.create({ model: `${owner}/${name}`, input: req.input, signal: req.signal }),
      ),
    );
    return { requestId: value.id, handle: value.urls?.get ? { getUrl: value.urls.get } : undefined };
  }

  async status(ref: JobRef, signal?: AbortSignal): Promise<StatusUpdate> {
    assertPredictionId(ref.requestId);
    const { value: p, key } = await this.call('the status request', async (c) => predictionSchema.parse(await c.predictions.get(ref.requestId, { signal })));
    const lines = (p.logs ?? '').split('\n').filter((l) => l.trim() !== '');
    const seen = this.logCursor.get(p.id) ?? 0;
    const logs = lines.length > seen ? lines.slice(seen).map((l) => redact(l, [key])) : undefined;
    this.logCursor.set(p.id, Math.max(seen, lines.length));
    const base = { providerStatus: p.status, logs };
    const errText = typeof p.error === 'string' ? redact(p.error, [key]).slice(0, 500) : p.error ? redact(JSON.stringify(p.error), [key]).slice(0, 500) : '';
    switch (p.status) {
      case 'starting':
        return { ...base, state: 'submitted' };
      case 'processing':
        return { ...base, state: 'running', progress: progressFrom(lines) };
      case 'succeeded':
        if (this.predictions.size >= 50) this.predictions.delete(this.predictions.keys().next().value!);
        this.predictions.set(p.id, p);
        return { ...base, state: 'succeeded', progress: 1 };
      case 'failed':
        return { ...base, state: 'failed', error: new ProviderError('failed', PROVIDER, `The ${NAME} prediction failed${errText ? `: ${errText}` : '.'} Check the inputs, then retry.`) };
      case 'canceled':
        return { ...base, state: 'canceled', error: new ProviderError('canceled', PROVIDER, `The ${NAME} prediction was canceled.`) };
      case 'aborted':
        return {
          ...base,
          state: 'failed',
          error: new ProviderError('failed', PROVIDER, `${NAME} aborted the prediction before it ran (its deadline passed${errText ? `: ${errText}` : ''}). Retry it.`),
        };
      default:
        return { ...base, state: 'failed', error: new ProviderError('bad_response', PROVIDER, `${NAME} reported an unknown prediction status "${p.status.slice(0, 40)}".`) };
    }
  }

  watch(ref: JobRef, opts: WatchOptions = {}): AsyncIterable<StatusUpdate> {
    return pollUntilTerminal(PROVIDER, this.ctx, (signal) => this.status(ref, signal), opts);
  }

  async result(ref: JobRef, signal?: AbortSignal): Promise<JobResult> {
    assertPredictionId(ref.requestId);
    let p = this.predictions.get(ref.requestId);
    this.predictions.delete(ref.requestId);
    if (!p) p = (await this.call('the result request', async (c) => predictionSchema.parse(await c.predictions.get(ref.requestId, { signal })))).value;
    if (p.status !== 'succeeded') {
      const u = await this.status(ref, signal);
      throw u.error ?? new ProviderError('failed', PROVIDER, `The ${NAME} prediction has not succeeded (status ${p.status}).`);
    }
    const fallback: MediaKind = REPLICATE_MODELS.find((m) => m.id === ref.model)?.capabilities.includes('video') ? 'video' : 'image';
    const artifacts: Artifact[] = collectUrls(p.output).map((u) => artifactFromUrl(u, fallback));
    const refused = collectStrings(p.output);
    if (artifacts.length === 0 && refused.length > 0) {
      const shown = redact(refused[0], [await this.ctx.getKey()]).slice(0, 60);
      throw new ProviderError('bad_output', PROVIDER, `${NAME} returned ${refused.length === 1 ? 'an output' : `${refused.length} outputs`} that ${refused.length === 1 ? 'is' : 'are'} not an https URL ("${shown}"), so nothing was fetched. Retry the job; if it happens again, open the log and report the model.`);
    }
    if (artifacts.length === 0) {
      throw new ProviderError('bad_output', PROVIDER, `The ${NAME} prediction succeeded without any output file${(p as { data_removed?: unknown }).data_removed ? ' (its data was already removed: Replicate deletes outputs after about an hour)' : ''}. Retry the job; if it happens again, open the log and report the model.`);
    }
    const timings: Record<string, number> = {};
    for (const [k, v] of Object.entries(p.metrics ?? {})) if (typeof v === 'number' && Number.isFinite(v) && /time$/.test(k)) timings[k] = v;
    const seedInput = (p as { input?: Record<string, unknown> }).input?.seed;
    return {
      artifacts,
      seed: typeof seedInput === 'number' ? seedInput : seedFromLogs(p.logs ?? ''),
      timings: Object.keys(timings).length ? timings : undefined,
      modelVersion: p.version ?? undefined,
    };
  }

  async cancel(ref: JobRef): Promise<void> {
    assertPredictionId(ref.requestId);
    await this.call('the cancel request', (c) => c.predictions.cancel(ref.requestId));
  }

  async upload(data: Uint8Array, mediaType: string, signal?: AbortSignal): Promise<string> {
    const { value } = await this.call('the upload', async (c) =>
      fileObjectSchema.parse(await c.files.create(new Blob([data as Uint8Array<ArrayBuffer>], { type: mediaType }), {}, { signal })),
    );
    if (!/^https:\/\//.test(value.urls.get)) throw new ProviderError('bad_response', PROVIDER, `${NAME} returned no usable file URL for the upload.`);
    return value.urls.get;
  }

  /** `GET /account`: authenticated, free, and tells a bad token (401) from a good one. */
  async testConnection(signal?: AbortSignal): Promise<void> {
    await this.call('the connection test', async (c) => {
      const r = await c.request('/account', { method: 'GET', signal });
      await r.json();
    });
  }
}

/** Output URLs anywhere in a prediction's output (string, array, or object of them). */
function collectUrls(output: unknown, depth = 0): string[] {
  if (depth > 4) return [];
  if (isHttpUrl(output)) return [output];
  if (Array.isArray(output)) return output.flatMap((o) => collectUrls(o, depth + 1));
  if (output && typeof output === 'object') return Object.values(output).flatMap((o) => collectUrls(o, depth + 1));
  return [];
}

/** Every non-empty string in a prediction's output (to name what was refused). */
function collectStrings(output: unknown, depth = 0): string[] {
  if (depth > 4) return [];
  if (typeof output === 'string') return output.trim() ? [output] : [];
  if (Array.isArray(output)) return output.flatMap((o) => collectStrings(o, depth + 1));
  if (output && typeof output === 'object') return Object.values(output).flatMap((o) => collectStrings(o, depth + 1));
  return [];
}

/** tqdm progress in the logs ("  45%|████▌     | 9/20"), as 0..1. */
function progressFrom(lines: string[]): number | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /(\d{1,3})%\|/.exec(lines[i]);
    if (m) return Math.min(1, Number(m[1]) / 100);
  }
  return undefined;
}

/** Many Cog models log "Using seed: 12345" when they pick a random seed. */
function seedFromLogs(logs: string): number | undefined {
  const m = /using seed:?\s*(\d{1,20})/i.exec(logs);
  return m ? Number(m[1]) : undefined;
}

export const createReplicateProvider: ProviderFactory = (ctx) => new ReplicateProvider(ctx);
