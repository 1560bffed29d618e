// fal.ai adapter over the real @fal-ai/client. Every request (queue, storage initiate, the raw
// upload PUT) goes through our provider fetch, so base-URL rewriting, the https rule, rate
// limits and retries apply everywhere. The client's own retry loop (429/5xx/transport errors,
// ~1 s base delay, not configurable for queue calls) never fires: our fetch either returns a
// final 4xx Response or throws a ProviderError, which that loop does not consider retryable.
// We poll ourselves (pollUntilTerminal) instead of the client's subscribe().
//
// Sources (details in src/providers/README.md): fal.ai/docs "Request Error Types"
// (documentation/model-apis/request-errors), "Get request result" (inference-api/queue/result),
// "Model search" (platform-apis/v1/models), "Data Retention & Storage"; the client's source
// (node_modules/@fal-ai/client 1.10: queue.js, storage.js, retry.js); fal's Python client
// (fal_client/client.py, `_is_ingress_error`).

import { ApiError, createFalClient, type FalClient } from '@fal-ai/client';
import { z } from 'zod';
import { artifactFromFileObject, isHttpUrl } from './artifacts.ts';
import { ProviderError, isProviderError, redact } from './errors.ts';
import { createProviderFetch, type FetchFn, type FetchKind, type RetryPolicy } from './net/fetch.ts';
import { bodyMessage, mapHttpError } from './net/httpErrors.ts';
import { pollUntilTerminal } from './poll.ts';
import { describeFromSchema, inlineRefs } from './schema.ts';
import type {
  Artifact,
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

const PROVIDER = 'fal';
const NAME = 'fal.ai';

/** Built-in catalog: well-known endpoints with their field names (from their published schemas). */
export const FAL_MODELS: ModelInfo[] = [
  {
    provider: PROVIDER,
    id: 'fal-ai/flux/schnell',
    title: 'FLUX.1 [schnell]',
    description: 'Fast 1–4 step FLUX text-to-image.',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/flux/dev',
    title: 'FLUX.1 [dev]',
    description: 'High-quality FLUX text-to-image.',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/flux/dev/image-to-image',
    title: 'FLUX.1 [dev] image-to-image',
    description: 'Restyle an input image with a prompt.',
    capabilities: ['image-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    imageFields: ['image_url'],
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/flux-pro/v1.1-ultra',
    title: 'FLUX1.1 [pro] ultra',
    description: 'Up to 4 MP text-to-image.',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/recraft-v3',
    title: 'Recraft V3',
    description: 'Text-to-image with styles, including vector art.',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/minimax/video-01',
    title: 'MiniMax Video-01',
    description: 'Text-to-video (about 6 s clips).',
    capabilities: ['video'],
    promptField: 'prompt',
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/minimax/video-01/image-to-video',
    title: 'MiniMax Video-01 image-to-video',
    description: 'Animate an image: it becomes the first frame of a 6 s clip.',
    capabilities: ['video'],
    promptField: 'prompt',
    imageFields: ['image_url'],
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/clarity-upscaler',
    title: 'Clarity Upscaler',
    description: 'Upscale an image 1–4× with high fidelity.',
    capabilities: ['image-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    imageFields: ['image_url'],
  },
  {
    provider: PROVIDER,
    id: 'fal-ai/stable-audio',
    title: 'Stable Audio Open',
    description: 'Text-to-audio.',
    capabilities: ['audio'],
    promptField: 'prompt',
    seedField: 'seed',
  },
];

const ENDPOINT_ID = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function assertFalEndpointId(model: string): string {
  if (!ENDPOINT_ID.test(model) || model.split('/').some((p) => p === '.' || p === '..')) {
    throw new ProviderError('validation', PROVIDER, `"${model.slice(0, 100)}" is not a fal endpoint id. Use owner/name with an optional sub-path, e.g. fal-ai/flux/dev.`, {
      fieldErrors: [{ path: ['model'], message: 'not a fal endpoint id' }],
    });
  }
  return model;
}

/** A submission is POST queue.fal.run/{endpoint} (no /requests/ part); everything else is a call. */
function classify(url: URL, method: string): FetchKind {
  return method === 'POST' && url.hostname === 'queue.fal.run' && !url.pathname.includes('/requests/') ? 'create' : 'call';
}

/** A result of a request we know that answers 404 is gone, not unknown: "fal keeps the result
 * for 1 hour after the request completes. If the result is 10 KB or larger, fal keeps it for 6
 * minutes" (fal.ai/docs/inference-api/queue/result). */
function resultGone(): ProviderError {
  return new ProviderError('expired', PROVIDER, `${NAME} no longer has the result of this request: it keeps results for an hour after the request completes (6 minutes for results of 10 KB or more). Retry runs the job again.`, { status: 404 });
}

/** How many times a finished request's failed result is asked for: once more at most. */
const RESULT_ERROR_ATTEMPTS = 2;

/**
 * A result call (`GET …/requests/{id}`) answered 5xx with `x-fal-request-id`: the request ran
 * and failed on fal's side, e.g. `{"detail": "…", "error_type": "runner_disconnected"}` with the
 * same type in `X-Fal-Error-Type` (fal.ai/docs "Request Error Types"). fal already retried it on
 * new runners (up to 10 times, docs "Retries and Error Handling") and keeps answering the same,
 * so it is asked for at most twice (fal's Python client does not retry a 5xx carrying
 * x-fal-request-id at all: fal_client/client.py, `_is_ingress_error`). Server errors are not
 * billed, so the message says to retry later.
 */
function runnerError(res: Response, body: unknown, url: URL): { maxAttempts: number; error: ProviderError } | undefined {
  if (res.status < 500 || !res.headers.get('x-fal-request-id')) return undefined;
  if (url.hostname !== 'queue.fal.run' || !/\/requests\/[^/]+$/.test(url.pathname)) return undefined;
  const type = res.headers.get('x-fal-error-type') ?? (body && typeof body === 'object' && typeof (body as { error_type?: unknown }).error_type === 'string' ? (body as { error_type: string }).error_type : undefined);
  const detail = bodyMessage(body);
  const said = [detail ? `"${detail.slice(0, 300)}"` : '', type ? `(${type.slice(0, 60)}, HTTP ${res.status})` : `(HTTP ${res.status})`].filter(Boolean).join(' ');
  return {
    maxAttempts: RESULT_ERROR_ATTEMPTS,
    error: new ProviderError('failed', PROVIDER, `The ${NAME} run failed on fal's side: ${said}. fal retries such failures itself before giving up, and does not bill them; retry the job later.`, { status: res.status }),
  };
}

/** The endpoint's display name and category from fal's models API ("Model search": `GET
 * https://api.fal.ai/v1/models?endpoint_id=ID` → `{models: [{endpoint_id, metadata:
 * {display_name, category, description, status, …}}], next_cursor, has_more}`). */
const modelsPageSchema = z
  .object({
    models: z.array(
      z
        .object({
          endpoint_id: z.string(),
          metadata: z.object({ display_name: z.string().nullish(), category: z.string().nullish(), description: z.string().nullish() }).passthrough().nullish(),
        })
        .passthrough(),
    ),
  })
  .passthrough();

/** Uploads are asked to live a day (the client's `lifecycle.expiresIn`, sent as the
 * `X-Fal-Object-Lifecycle` header of the initiate call: storage.js). fal's own default for CDN
 * files is an account setting ("Configurable", docs "Data Retention & Storage"), so we name one:
 * a day covers any batch, and a private input image does not stay on a public URL for long. */
export const FAL_UPLOAD_LIFETIME_S = 24 * 60 * 60;

const submitSchema = z.object({
  request_id: z.string().min(1).max(200),
  status_url: z.string().optional(),
  response_url: z.string().optional(),
  cancel_url: z.string().optional(),
});

const logSchema = z.object({ message: z.string() }).passthrough();
const statusSchema = z
  .object({
    status: z.string(),
    queue_position: z.number().int().nonnegative().nullish(),
    logs: z.array(logSchema).nullish(),
    error: z.string().nullish(),
    error_type: z.string().nullish(),
  })
  .passthrough();

const fileSchema = z.object({ url: z.string() }).passthrough();
const outputSchema = z
  .object({
    images: z.array(fileSchema).optional(),
    image: fileSchema.optional(),
    video: fileSchema.optional(),
    audio: fileSchema.optional(),
    audio_file: fileSchema.optional(),
    audio_url: z.union([fileSchema, z.string()]).optional(),
    seed: z.number().optional(),
    timings: z.record(z.string(), z.unknown()).optional(),
    has_nsfw_concepts: z.array(z.boolean()).optional(),
  })
  .passthrough();

const openApiSchema = z
  .object({
    info: z.object({ title: z.string().optional(), description: z.string().optional() }).passthrough().optional(),
    paths: z.record(z.string(), z.unknown()),
    components: z.object({ schemas: z.record(z.string(), z.unknown()).optional() }).passthrough().optional(),
  })
  .passthrough();

export interface FalProviderOptions {
  /** Underlying fetch (tests may wrap it to count requests). */
  fetch?: FetchFn;
  retry?: Partial<RetryPolicy>;
}

export class FalProvider implements Provider {
  readonly id = PROVIDER;
  readonly displayName = NAME;
  readonly needsKey = true;
  readonly uploadTtlMs = FAL_UPLOAD_LIFETIME_S * 1000;
  /** Cumulative log lines already reported, per request id (fal's status returns all logs). */
  private readonly logCursor = new Map<string, number>();
  /** Results read while checking a COMPLETED status, so result() need not fetch again. */
  private readonly results = new Map<string, JobResult>();
  private readonly canceledIds = new Set<string>();

  constructor(
    private readonly ctx: ProviderContext,
    private readonly opts: FalProviderOptions = {},
  ) {}

  listModels(): ModelInfo[] {
    return FAL_MODELS.map((m) => ({ ...m }));
  }

  private async key(): Promise<string> {
    const key = await this.ctx.getKey();
    if (!key) throw new ProviderError('auth', PROVIDER, 'No fal.ai API key is set. Run "Art Factory: Set API Key…" (or set FAL_KEY for the command line).');
    return key;
  }

  /** A client per operation: the key is read at call time and the operation's signal reaches every request. */
  private async client(signal?: AbortSignal): Promise<{ client: FalClient; key: string }> {
    const key = await this.key();
    const base = createProviderFetch(PROVIDER, this.ctx, classify, { secrets: [key], fetch: this.opts.fetch, retry: this.opts.retry, errorResponse: runnerError });
    const fetch: FetchFn = (input, init) => {
      const s = init?.signal && signal ? AbortSignal.any([init.signal, signal]) : (init?.signal ?? signal);
      return base(input, { ...init, signal: s });
    };
    const client = createFalClient({ credentials: key, fetch: fetch as typeof globalThis.fetch, suppressLocalCredentialsWarning: true });
    return { client, key };
  }

  private toError(e: unknown, key: string | undefined, what: string): ProviderError {
    if (isProviderError(e)) return e;
    if (e instanceof ApiError) {
      const body: unknown = e.body ?? e.message;
      return mapHttpError(PROVIDER, e.status, body, undefined, [key]);
    }
    if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) {
      return new ProviderError('canceled', PROVIDER, `${NAME}: ${what} was canceled.`);
    }
    if (e instanceof SyntaxError) {
      return new ProviderError('bad_response', PROVIDER, `${NAME} sent a malformed response to ${what} (not valid JSON). Retry later; if it persists, open the log.`);
    }
    if (e instanceof z.ZodError) {
      return new ProviderError('bad_response', PROVIDER, `${NAME} sent an unexpected response to ${what} (${e.issues[0]?.path.join('.') || 'shape'}: ${e.issues[0]?.message ?? 'invalid'}). Retry later; if it persists, open the log.`);
    }
    const msg = e instanceof Error ? e.message : String(e);
    return new ProviderError('bad_response', PROVIDER, `${NAME}: ${what} failed: ${redact(msg, [key])}`);
  }

  /** The schema from the OpenAPI document; the title (and category) from fal's models API, since
   * the document's `info.title` reads "Queue OpenAPI for <id>". */
  async describeModel(model: string, signal?: AbortSignal): Promise<ModelInfo> {
    const builtin = FAL_MODELS.find((m) => m.id === model);
    if (builtin) return { ...builtin };
    const [{ doc, input }, meta] = await Promise.all([this.openApi(model, signal), this.metadata(model, signal)]);
    const outputHint = `${meta?.category ?? ''} ${JSON.stringify(doc.components?.schemas ?? {}).includes('"video"') ? 'video' : ''}`;
    return describeFromSchema(PROVIDER, model, input, { title: meta?.display_name ?? model, description: meta?.description ?? doc.info?.description, outputHint });
  }

  /** The model's metadata, or undefined when the models API cannot say (describeModel goes on). */
  private async metadata(model: string, signal?: AbortSignal): Promise<{ display_name?: string | null; category?: string | null; description?: string | null } | undefined> {
    try {
      const key = await this.ctx.getKey();
      // The models API takes a key optionally (higher rate limits); two attempts at most.
      const fetch = createProviderFetch(PROVIDER, this.ctx, 'call', { secrets: [key], fetch: this.opts.fetch, retry: { ...this.opts.retry, maxAttempts: 2 } });
      const res = await fetch(`https://api.fal.ai/v1/models?endpoint_id=${encodeURIComponent(model)}`, { headers: { Accept: 'application/json', ...(key ? { Authorization: `Key ${key}` } : {}) }, signal });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const page = modelsPageSchema.parse(JSON.parse(await res.text()));
      return page.models.find((m) => m.endpoint_id === model)?.metadata ?? undefined;
    } catch (e) {
      if (signal?.aborted) throw e;
      this.ctx.log?.warn(`${NAME}: no metadata for ${model} from the models API (${e instanceof Error ? e.message.slice(0, 200) : 'unreadable'}); its id is its title`);
      return undefined;
    }
  }

  async getInputSchema(model: string, signal?: AbortSignal): Promise<JsonSchema> {
    return (await this.openApi(model, signal)).input;
  }

  /** The endpoint's public OpenAPI document; the input schema is the POST body of path `/{id}`. */
  private async openApi(model: string, signal?: AbortSignal): Promise<{ doc: z.infer<typeof openApiSchema>; input: JsonSchema }> {
    assertFalEndpointId(model);
    const key = await this.ctx.getKey();
    const fetch = createProviderFetch(PROVIDER, this.ctx, 'call', { secrets: [key], fetch: this.opts.fetch, retry: this.opts.retry });
    const url = `https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=${encodeURIComponent(model)}`;
    let doc: z.infer<typeof openApiSchema>;
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' }, signal });
      if (!res.ok) throw mapHttpError(PROVIDER, res.status, await res.text(), res.headers, [key]);
      doc = openApiSchema.parse(JSON.parse(await res.text()));
    } catch (e) {
      throw this.toError(e, key, `the schema request for ${model}`);
    }
    const path = doc.paths[`/${model}`];
    const post = (path as { post?: { requestBody?: { content?: Record<string, { schema?: unknown }> } } } | undefined)?.post;
    const bodySchema = post?.requestBody?.content?.['application/json']?.schema;
    if (!bodySchema) throw new ProviderError('not_found', PROVIDER, `${NAME} has no input schema for "${model}". Check the endpoint id on fal.ai/models.`);
    const input = inlineRefs(bodySchema, doc.components?.schemas ?? {});
    return { doc, input };
  }

  async submit(req: SubmitRequest): Promise<SubmitResponse> {
    assertFalEndpointId(req.model);
    const { client, key } = await this.client(req.signal);
    try {
      const raw: unknown = await client.queue.submit(req.model, { input: req.input, abortSignal: req.signal });
      const r = submitSchema.parse(raw);
      const handle: Record<string, string> = {};
      if (r.status_url) handle.statusUrl = r.status_url;
      if (r.response_url) handle.responseUrl = r.response_url;
      if (r.cancel_url) handle.cancelUrl = r.cancel_url;
      return { requestId: r.request_id, handle };
    } catch (e) {
      throw this.toError(e, key, 'the submission');
    }
  }

  async status(ref: JobRef, signal?: AbortSignal): Promise<StatusUpdate> {
    assertFalEndpointId(ref.model);
    const { client, key } = await this.client(signal);
    let s: z.infer<typeof statusSchema>;
    try {
      s = statusSchema.parse(await client.queue.status(ref.model, { requestId: ref.requestId, logs: true, abortSignal: signal }));
    } catch (e) {
      const err = this.toError(e, key, 'the status request');
      // A request we submitted that fal no longer knows: its time there has run out.
      throw err.status === 404 ? resultGone() : err;
    }
    const allLogs = (s.logs ?? []).map((l) => redact(l.message, [key]));
    const seen = this.logCursor.get(ref.requestId) ?? 0;
    const logs = allLogs.length > seen ? allLogs.slice(seen) : undefined;
    this.logCursor.set(ref.requestId, Math.max(seen, allLogs.length));
    const base = { providerStatus: s.status, logs };
    switch (s.status) {
      case 'IN_QUEUE':
        return { ...base, state: 'submitted', queuePosition: s.queue_position ?? undefined };
      case 'IN_PROGRESS':
        return { ...base, state: 'running' };
      case 'COMPLETED':
        return { ...base, ...(await this.completed(ref, s, client, key, signal)) };
      case 'CANCELED':
      case 'CANCELLED':
        return { ...base, state: 'canceled', error: this.canceledError() };
      default:
        // fal documents three states; anything else ends the job rather than polling forever.
        return { ...base, state: 'failed', error: new ProviderError('bad_response', PROVIDER, `${NAME} reported an unknown job status "${s.status.slice(0, 40)}".`) };
    }
  }

  private canceledError(): ProviderError {
    return new ProviderError('canceled', PROVIDER, `The ${NAME} job was canceled.`);
  }

  /** COMPLETED says nothing about success: the result call tells. */
  private async completed(
    ref: JobRef,
    s: z.infer<typeof statusSchema>,
    client: FalClient,
    key: string,
    signal?: AbortSignal,
  ): Promise<Pick<StatusUpdate, 'state' | 'error'>> {
    if (s.error) {
      return { state: 'failed', error: new ProviderError('failed', PROVIDER, `The ${NAME} run failed: ${redact(s.error, [key]).slice(0, 500)}`) };
    }
    try {
      const result = await this.fetchResult(ref, client, key, signal);
      // Kept for the result() call that follows; bounded in case it never comes.
      if (this.results.size >= 50) this.results.delete(this.results.keys().next().value!);
      this.results.set(ref.requestId, result);
      return { state: 'succeeded' };
    } catch (e) {
      const err = this.toError(e, key, 'the result request');
      // Not reaching fal, or our own abort, says nothing about the run: let the caller poll again.
      if (err.kind === 'network' || err.kind === 'rate_limited' || (err.kind === 'canceled' && signal?.aborted)) throw err;
      if (err.status === 499 || this.canceledIds.has(ref.requestId) || /cancel/i.test(err.message)) return { state: 'canceled', error: this.canceledError() };
      return { state: 'failed', error: runFailure(err) };
    }
  }

  watch(ref: JobRef, opts: WatchOptions = {}): AsyncIterable<StatusUpdate> {
    return pollUntilTerminal(PROVIDER, this.ctx, (signal) => this.status(ref, signal), opts);
  }

  async result(ref: JobRef, signal?: AbortSignal): Promise<JobResult> {
    const cached = this.results.get(ref.requestId);
    if (cached) {
      this.results.delete(ref.requestId);
      return cached;
    }
    assertFalEndpointId(ref.model);
    const { client, key } = await this.client(signal);
    try {
      return await this.fetchResult(ref, client, key, signal);
    } catch (e) {
      const err = this.toError(e, key, 'the result request');
      throw err.kind === 'network' || err.kind === 'canceled' ? err : runFailure(err);
    }
  }

  private async fetchResult(ref: JobRef, client: FalClient, key: string, signal?: AbortSignal): Promise<JobResult> {
    let data: unknown;
    try {
      data = (await client.queue.result(ref.model, { requestId: ref.requestId, abortSignal: signal })).data;
    } catch (e) {
      const err = this.toError(e, key, 'the result request');
      throw err.status === 404 ? resultGone() : err;
    }
    const parsed = outputSchema.safeParse(data);
    if (!parsed.success) throw new ProviderError('bad_response', PROVIDER, `${NAME} returned a result that is not a JSON object. Open the log and report the model id.`);
    const out = parsed.data;
    const artifacts: Artifact[] = [];
    const refused: string[] = [];
    const add = (o: unknown, kind: Artifact['kind']) => {
      if (typeof o === 'string') o = { url: o };
      if (o && typeof o === 'object') {
        const a = artifactFromFileObject(o as Record<string, unknown>, kind);
        if (a) artifacts.push(a);
        else if (typeof (o as { url?: unknown }).url === 'string') refused.push((o as { url: string }).url);
      }
    };
    for (const img of out.images ?? []) add(img, 'image');
    if (out.image) add(out.image, 'image');
    if (out.video) {
      add(out.video, 'video');
      // Some video endpoints return a still beside the video ("thumbnail"): the gallery's poster.
      const still = (out as Record<string, unknown>).thumbnail ?? (out as Record<string, unknown>).poster;
      const url = typeof still === 'string' ? still : still && typeof still === 'object' ? (still as { url?: unknown }).url : undefined;
      const video = artifacts.at(-1);
      if (video?.kind === 'video' && isHttpUrl(url)) video.posterUrl = url;
    }
    for (const a of [out.audio, out.audio_file, out.audio_url]) if (a) add(a, 'audio');
    if (artifacts.length === 0 && refused.length > 0) throw refusedOutputs(refused, key);
    if (artifacts.length === 0) throw new ProviderError('bad_output', PROVIDER, `The ${NAME} run finished without any output file. Retry the job; if it happens again, open the log and report the model.`);
    const timings: Record<string, number> = {};
    for (const [k, v] of Object.entries(out.timings ?? {})) if (typeof v === 'number' && Number.isFinite(v)) timings[k] = v;
    return {
      artifacts,
      seed: out.seed,
      timings: Object.keys(timings).length ? timings : undefined,
      nsfw: out.has_nsfw_concepts,
    };
  }

  async cancel(ref: JobRef): Promise<void> {
    assertFalEndpointId(ref.model);
    this.canceledIds.add(ref.requestId);
    const { client, key } = await this.client();
    try {
      await client.queue.cancel(ref.model, { requestId: ref.requestId });
    } catch (e) {
      const err = this.toError(e, key, 'the cancel request');
      // 400 ALREADY_COMPLETED: nothing left to cancel.
      if (err.status === 400) return;
      throw err;
    }
  }

  async upload(data: Uint8Array, mediaType: string, signal?: AbortSignal): Promise<string> {
    const { client, key } = await this.client(signal);
    try {
      // initiate (with the lifetime) + PUT; 90 MB and more the multipart variant (storage.js).
      const url = await client.storage.upload(new Blob([data as Uint8Array<ArrayBuffer>], { type: mediaType }), { lifecycle: { expiresIn: FAL_UPLOAD_LIFETIME_S } });
      if (typeof url !== 'string' || !/^https:\/\//.test(url)) throw new ProviderError('bad_response', PROVIDER, `${NAME} storage returned no usable file URL.`);
      return url;
    } catch (e) {
      throw this.toError(e, key, 'the upload');
    }
  }

  /**
   * A status request for a request id that cannot exist: fal checks the key before looking
   * the id up, so a bad key gives 401/403 and a good one 404 (or 400), and nothing is billed
   * or created (storage initiate would create an upload slot; a submit would run a model).
   */
  async testConnection(signal?: AbortSignal): Promise<void> {
    const { client, key } = await this.client(signal);
    try {
      await client.queue.status('fal-ai/flux', { requestId: '00000000-0000-0000-0000-000000000000', abortSignal: signal });
    } catch (e) {
      const err = this.toError(e, key, 'the connection test');
      if (err.kind === 'not_found' || err.kind === 'validation') return;
      throw err;
    }
  }
}

/** Output URLs that are not https (or a decodable data: URI) are never fetched. */
function refusedOutputs(urls: string[], key: string): ProviderError {
  return new ProviderError('bad_output', PROVIDER, `${NAME} returned ${urls.length === 1 ? 'an output URL' : `${urls.length} output URLs`} we refused ("${redact(urls[0], [key]).slice(0, 60)}"): only https URLs and data: URIs of media are fetched. Retry the job; if it happens again, open the log and report the model.`);
}

/** A run that ended badly on fal's side: keep input/key/credit kinds, call the rest 'failed'. */
function runFailure(err: ProviderError): ProviderError {
  if (['validation', 'auth', 'quota', 'canceled', 'network', 'bad_response', 'bad_output', 'not_found', 'expired', 'failed'].includes(err.kind)) return err;
  return new ProviderError('failed', PROVIDER, `The ${NAME} run failed (HTTP ${err.status ?? '?'}). ${err.message}`, { status: err.status });
}

export const createFalProvider: ProviderFactory = (ctx) => new FalProvider(ctx);
