// Civitai adapter: generation through the orchestration API (a workflow with one `textToImage`
// step; models are AIRs, LoRAs go in as additional networks) and model / LoRA browsing through
// the public site API. A thin typed client of our own (client.ts): the `civitai` npm package is
// unmaintained (global state, logs every input, broken ESM import). Every request goes through
// createProviderFetch (base-URL rewrite, https rule, rate limits, retries that never resend a
// submission), every response through zod, and we poll ourselves (pollUntilTerminal).
//
// The folder: service.ts (id, name, API roots), air.ts (AIR parsing), input.ts (the textToImage
// input and its schema), catalog.ts (built-in checkpoints), client.ts (one JSON request),
// workflow.ts (workflow shapes and readings), browse.ts (the site API), and this adapter.
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

import { ProviderError } from '../errors.ts';
import { civitaiPolls, isTerminal, pollUntilTerminal } from '../poll.ts';
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
} from '../types.ts';
import { parseCheckpointAir } from './air.ts';
import { CivitaiSiteApi, type CivitaiModel, type CivitaiModelVersion, type ModelPage, type SearchModelsParams } from './browse.ts';
import { CHECKPOINT_INFO, CIVITAI_MODELS, copyInfo } from './catalog.ts';
import { CivitaiClient, type CivitaiProviderOptions } from './client.ts';
import { buildTextToImageInput, civitaiInputSchema } from './input.ts';
import { NAME, PROVIDER, WORKFLOWS } from './service.ts';
import {
  WORKFLOW_ID,
  artifactOf,
  assertWorkflowId,
  blobIdOf,
  costOf,
  failedError,
  imagesOf,
  isPending,
  isReady,
  isWithheld,
  noImageError,
  progressOf,
  queuePositionOf,
  queryWorkflowsSchema,
  reasonsOf,
  timingsOf,
  withheldHint,
  workflowSchema,
  type Workflow,
} from './workflow.ts';

/** How many polls a succeeded workflow may still show images with `available: false`. The docs
 * do not say how long that lasts; the overall job deadline still applies on top. */
export const MAX_UNAVAILABLE_POLLS = 20;
/** Upload cap for data: URIs (the request body carries them). The orchestration docs give no
 * limit for textToImage's `sourceImage`; their image inputs elsewhere are capped at 10–30 MB
 * (e.g. "Source images must be … ≤20 MB", recipes/happy-horse.md), so 20 MB. */
const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

interface WatchState {
  status?: string;
  unavailablePolls: number;
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

  private readonly client: CivitaiClient;
  private readonly site: CivitaiSiteApi;

  constructor(
    private readonly ctx: ProviderContext,
    opts: CivitaiProviderOptions = {},
  ) {
    this.client = new CivitaiClient(ctx, opts);
    this.site = new CivitaiSiteApi(this.client);
  }

  listModels(): ModelInfo[] {
    return CIVITAI_MODELS.map(copyInfo);
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

  async submit(req: SubmitRequest): Promise<SubmitResponse> {
    const { input, loraIndex } = buildTextToImageInput(req.model, req.input, this.ctx.random);
    // allowMatureContent: "When set to false, the workflow will not return any content that is
    // marked as mature" (WorkflowTemplate, @civitai/client types.gen.ts); true lets it through,
    // paid in yellow Buzz (guide submitting-work.md, "Mature content and currency interaction").
    const body = { steps: [{ $type: 'textToImage', input }], tags: ['art-factory'], allowMatureContent: this.ctx.allowMatureContent === true };
    // wait=0: answer at once with the workflow id; we poll.
    const wf = await this.client.call('the submission', `${WORKFLOWS}?wait=0`, { method: 'POST', body, signal: req.signal, auth: true, loraIndex }, workflowSchema);
    if (!WORKFLOW_ID.test(wf.id)) throw new ProviderError('bad_response', PROVIDER, `${NAME} answered the submission with an unusable workflow id. Check your Civitai dashboard before retrying.`, { maybeAccepted: true });
    return { requestId: wf.id };
  }

  private async workflow(id: string, what: string, signal?: AbortSignal): Promise<Workflow> {
    assertWorkflowId(id);
    return this.client.call(what, `${WORKFLOWS}/${encodeURIComponent(id)}`, { signal, auth: true }, workflowSchema);
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
    if (cost) result.cost = cost;
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
      await this.client.call('the cancel request', `${WORKFLOWS}/${encodeURIComponent(ref.requestId)}`, { method: 'PUT', body: { status: 'canceled' }, auth: true });
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
    await this.client.call('the connection test', `${WORKFLOWS}?take=1`, { signal, auth: true }, queryWorkflowsSchema);
  }

  // ----- browsing (public site API, no key sent: browse.ts) ------------------------------------

  searchModels(params: SearchModelsParams = {}, signal?: AbortSignal): Promise<ModelPage> {
    return this.site.searchModels(params, signal);
  }

  allModels(params: SearchModelsParams = {}, opts: { maxPages?: number; signal?: AbortSignal } = {}): AsyncGenerator<CivitaiModel[]> {
    return this.site.allModels(params, opts);
  }

  getModel(id: number, signal?: AbortSignal): Promise<CivitaiModel> {
    return this.site.getModel(id, signal);
  }

  getModelVersion(id: number, signal?: AbortSignal): Promise<CivitaiModelVersion> {
    return this.site.getModelVersion(id, signal);
  }
}

export function isCivitaiProvider(p: Provider | undefined): p is CivitaiProvider {
  return p instanceof CivitaiProvider;
}

export const createCivitaiProvider: ProviderFactory = (ctx) => new CivitaiProvider(ctx);
