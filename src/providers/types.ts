// The provider-agnostic contract. Every adapter (fal, replicate, civitai, sample, and
// providers that other extensions register) implements `Provider`. Nothing here imports
// `vscode`: the extension layer passes keys, settings and loggers in through ProviderContext.

import type { ProviderError } from './errors.ts';

export type Capability = 'text-to-image' | 'image-to-image' | 'video' | 'audio';
export type MediaKind = 'image' | 'video' | 'audio';

/** A model a provider offers. `id` is the provider's own id: a fal endpoint id
 * (`fal-ai/flux/dev`), a Replicate `owner/name[:version]`, or a Civitai AIR. */
export interface ModelInfo {
  provider: string;
  id: string;
  title: string;
  description?: string;
  capabilities: Capability[];
  /** Name of the input field that holds the prompt, when the model has one. */
  promptField?: string;
  /** Name of the input field that holds the seed, when the model has one. */
  seedField?: string;
  /** Input fields that take images (for image-to-image). */
  imageFields?: string[];
  /** True for models the user added by id ("custom models"). */
  custom?: boolean;
}

/** Job lifecycle, shared by the engine, storage and the gallery. */
export type JobState = 'queued' | 'submitted' | 'running' | 'succeeded' | 'failed' | 'canceled';
/** States a job leaves on its own: it waits to be sent, at the provider, or runs. */
export const ACTIVE_STATES: readonly JobState[] = ['queued', 'submitted', 'running'];
/** States a job ends in. Every state is one or the other. */
export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'canceled'];

export function isActiveState(state: JobState): boolean {
  return ACTIVE_STATES.includes(state);
}

export interface StatusUpdate {
  /** Our state. Adapters map provider states (IN_QUEUE, processing, scheduled, …) onto it. */
  state: JobState;
  /** The provider's own status word, for logs and the UI. */
  providerStatus: string;
  queuePosition?: number;
  /** New log lines since the last update (not cumulative). */
  logs?: string[];
  /** 0..1 where the provider reports it. */
  progress?: number;
  /** Set when state is 'failed' or 'canceled'. */
  error?: ProviderError;
}

/** One output file. Remote providers give `url`; in-process providers (Sample, extension
 * providers) may give `data` instead. The engine downloads, sniffs and stores it. */
export interface Artifact {
  url?: string;
  data?: Uint8Array;
  /** What the provider claims (e.g. image/png). Checked against magic bytes before storing. */
  mediaType?: string;
  kind: MediaKind;
  width?: number;
  height?: number;
  size?: number;
  /** Poster frame for a video, when the provider gives one. */
  posterUrl?: string;
}

export interface JobResult {
  artifacts: Artifact[];
  seed?: number;
  /** Seconds, keyed by phase (e.g. inference, queue, predict_time). */
  timings?: Record<string, number>;
  cost?: { amount: number; currency: string };
  nsfw?: boolean[];
  /** Model version the provider actually ran, when it says. */
  modelVersion?: string;
}

export interface SubmitRequest {
  model: string;
  input: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface SubmitResponse {
  requestId: string;
  /** Anything the adapter needs later to poll/cancel (e.g. fal status/response urls). Stored as JSON with the job. */
  handle?: Record<string, string>;
}

/** Identifies a submitted job to the adapter again, possibly in a fresh process. */
export interface JobRef {
  model: string;
  requestId: string;
  handle?: Record<string, string>;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** Poll interval in ms (tests pass small values). */
  intervalMs?: number;
  /** Overall deadline in ms from the start of watch(); exceeding it ends in a 'timeout' error. */
  timeoutMs?: number;
}

/** A JSON Schema (draft 7 / 2020-12 subset) describing a model's `input`. */
export type JsonSchema = Record<string, unknown>;

export interface Provider {
  readonly id: string;
  readonly displayName: string;
  /** True when the provider needs an API key. */
  readonly needsKey: boolean;
  /** Models offered out of the box (the custom ones come from the registry). */
  listModels(): ModelInfo[];
  /** Describe a model by id, fetching it from the provider if needed (custom models). */
  describeModel(model: string, signal?: AbortSignal): Promise<ModelInfo>;
  /** The model's input JSON schema, derived from the provider's own model schema. */
  getInputSchema(model: string, signal?: AbortSignal): Promise<JsonSchema>;
  /** Submit; resolves as soon as the provider has a request id. Never retried once it may have been accepted. */
  submit(req: SubmitRequest): Promise<SubmitResponse>;
  status(ref: JobRef, signal?: AbortSignal): Promise<StatusUpdate>;
  /** Status updates until a terminal state (inclusive). Always ends: odd states and deadlines end in 'failed'. */
  watch(ref: JobRef, opts?: WatchOptions): AsyncIterable<StatusUpdate>;
  /** Outputs of a succeeded job. Throws ProviderError when the run failed. */
  result(ref: JobRef, signal?: AbortSignal): Promise<JobResult>;
  cancel(ref: JobRef): Promise<void>;
  /** Upload an input file; returns a URL (or data: URI) the provider accepts as input. */
  upload(data: Uint8Array, mediaType: string, signal?: AbortSignal): Promise<string>;
  /** Optional: a fresh copy of output `stale` of a finished job, after downloading it failed with
   * HTTP `status` (a 4xx). Returns it with a new URL to try once more (Civitai: signed blob URLs
   * expire after minutes, 403), or throws a ProviderError that says why the output is gone
   * (Replicate: deleted an hour after the prediction ended, 'expired'). */
  refreshArtifact?(ref: JobRef, stale: Artifact, status: number, signal?: AbortSignal): Promise<Artifact>;
  /** Optional: the model id that runs exactly `version` again (a JobResult.modelVersion this
   * provider recorded), e.g. Replicate `owner/name` + version → `owner/name:version`. Undefined
   * when `model` already pins it or the version cannot be asked for. */
  pinModel?(model: string, version: string): string | undefined;
  /** How long a URL that `upload()` returned stays usable, in ms, as the provider documents it.
   * The engine reuses an upload of the same bytes (by sha256) within this time, less a margin.
   * Absent: every use uploads again (a `data:` URI never expires, so providers that inline
   * may say `Infinity`). */
  readonly uploadTtlMs?: number;
  /** A cheap authenticated call, for "Test Connection". Throws ProviderError('auth') on a bad key. */
  testConnection(signal?: AbortSignal): Promise<void>;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RateLimits {
  /** Jobs in flight at once (submitted and not terminal). */
  concurrency: number;
  /** Job submissions per minute. */
  createsPerMinute: number;
  /** Other API calls (status, result, cancel, schema) per minute. */
  callsPerMinute: number;
}

/** What the extension layer (or the CLI, or a test) hands an adapter. */
export interface ProviderContext {
  /** Resolves the key at call time (SecretStorage, then the env variable). Never logged. */
  getKey(): Promise<string | undefined>;
  /** `http://127.0.0.1:PORT` to redirect every request to a loopback fake/proxy (see net/url.ts). */
  baseUrl?: string;
  limits?: Partial<RateLimits>;
  log?: Logger;
  /** Injectable for tests: sleeping and the clock used for backoff, rate limits and deadlines. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  /** Random source for jitter (tests make it deterministic). */
  random?: () => number;
  /** Civitai: allow mature content (`artFactory.providers.civitai.allowMatureContent`, or
   * ARTFACTORY_CIVITAI_ALLOW_MATURE_CONTENT on the command line). Read at submission. */
  allowMatureContent?: boolean;
}

export type ProviderFactory = (ctx: ProviderContext) => Provider;
