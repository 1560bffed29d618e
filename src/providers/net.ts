// The one door every provider request goes through: base-URL rewriting (loopback fakes,
// proxies), the https-only rule, per-provider rate limits, and retries with backoff that
// honour Retry-After but never resend a submission that may have been accepted.
//
// Contract of the fetch that createProviderFetch returns:
// - resolves with the Response for 2xx/3xx and for non-retryable errors (4xx except 429);
//   the error body stays readable, and `errorBodyText(res)` gives it again after a client
//   library has consumed it;
// - throws ProviderError for an aborted signal ('canceled'), a refused URL ('insecure'),
//   network failures ('network') and 429/5xx once retries ran out (mapHttpError). Throwing a
//   ProviderError (not a Response) stops the SDKs' own retry loops: @fal-ai/client retries only
//   its ApiError and transport errors with a `code`, and ProviderError is neither.

import { ProviderError, redact, type FieldError } from './errors.ts';
import { restoreExactIntegers } from './exactJson.ts';
import type { ProviderContext, RateLimits } from './types.ts';

/** 'create': a job submission (rate-limited as creates, never resent once maybe accepted);
 * 'call': any other API call; 'download': an output file (retried like a call, not rate-limited). */
export type FetchKind = 'create' | 'call' | 'download';
export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const DISPLAY_NAMES: Record<string, string> = { fal: 'fal.ai', replicate: 'Replicate', civitai: 'Civitai', sample: 'Sample' };
export function providerDisplayName(provider: string): string {
  return DISPLAY_NAMES[provider] ?? provider;
}

// ---------------------------------------------------------------------------------------------
// URLs

/** With `baseUrl` (e.g. `http://127.0.0.1:PORT`), `https://HOST/PATH?Q` becomes `BASE/HOST/PATH?Q`.
 * URLs already under the base, and non-https URLs, are returned unchanged (assertSafeUrl judges them). */
export function rewriteUrl(url: string, baseUrl?: string): string {
  if (!baseUrl) return url;
  const base = baseUrl.replace(/\/+$/, '');
  if (url === base || url.startsWith(`${base}/`)) return url;
  const m = /^https:\/\/(.+)$/i.exec(url);
  if (!m) return url;
  return `${base}/${m[1]}`;
}

/** The inverse of rewriteUrl: `BASE/HOST/PATH` back to `https://HOST/PATH`. */
export function unrewriteUrl(url: string, baseUrl?: string): string {
  if (!baseUrl) return url;
  const base = baseUrl.replace(/\/+$/, '');
  return url.startsWith(`${base}/`) ? `https://${url.slice(base.length + 1)}` : url;
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** https only; plain http only to loopback hosts and only when allowed. */
export function assertSafeUrl(url: string, provider: string, opts: { allowLoopbackHttp?: boolean } = {}): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProviderError('insecure', provider, `${providerDisplayName(provider)}: refused a relative or malformed URL.`);
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:') {
    if (isLoopbackHost(parsed.hostname) && opts.allowLoopbackHttp) return parsed;
    throw new ProviderError(
      'insecure',
      provider,
      isLoopbackHost(parsed.hostname)
        ? `${providerDisplayName(provider)}: plain http to ${parsed.host} is only allowed when a base URL setting points there.`
        : `${providerDisplayName(provider)}: refused plain http to ${parsed.host}; only https is allowed for non-loopback hosts.`,
    );
  }
  throw new ProviderError('insecure', provider, `${providerDisplayName(provider)}: refused a ${parsed.protocol} URL; only https is allowed.`);
}

// ---------------------------------------------------------------------------------------------
// Sleeping

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleepWithSignal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Rate limits

/** Defaults per provider. Replicate publishes 600 creates/min and 3000 other calls/min. fal
 * publishes no per-minute limit: it limits concurrent jobs per account (2 for new accounts, up
 * to 40), extra submissions wait IN_QUEUE; the per-minute numbers only guard against runaway
 * loops. Civitai publishes nothing, so it gets conservative numbers. `concurrency` is enforced
 * by the job engine (jobs in flight); the per-minute numbers by RateLimiter here. */
export function defaultLimits(provider: string): RateLimits {
  switch (provider) {
    case 'replicate':
      return { concurrency: 5, createsPerMinute: 600, callsPerMinute: 3000 };
    case 'fal':
      return { concurrency: 2, createsPerMinute: 120, callsPerMinute: 1200 };
    case 'civitai':
      return { concurrency: 2, createsPerMinute: 10, callsPerMinute: 60 };
    case 'sample':
      return { concurrency: 4, createsPerMinute: 100_000, callsPerMinute: 100_000 };
    default:
      return { concurrency: 2, createsPerMinute: 60, callsPerMinute: 600 };
  }
}

export function effectiveLimits(provider: string, overrides?: Partial<RateLimits>): RateLimits {
  const d = defaultLimits(provider);
  const pick = (v: number | undefined, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
  return {
    concurrency: pick(overrides?.concurrency, d.concurrency),
    createsPerMinute: pick(overrides?.createsPerMinute, d.createsPerMinute),
    callsPerMinute: pick(overrides?.callsPerMinute, d.callsPerMinute),
  };
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** The slowest a 429 makes the limiter, in requests a minute: Replicate's tightest documented
 * tier (accounts without a payment method) allows about 6. Slower than that only when the
 * provider names a wait (`pause`). */
export const THROTTLED_MIN_PER_MINUTE = 6;
/** How fast a throttled ceiling grows back: ×1.25 per minute without a 429 (from the minimum
 * to Replicate's 3600 a minute in about half an hour). */
const RECOVERY_PER_MINUTE = 1.25;

/**
 * Two token buckets (creates, calls). Each refills at its per-minute rate and holds at most
 * a sixth of a minute's worth (at least 1), so a burst cannot spend the whole minute at once.
 *
 * A 429 (`throttled`) slows the provider's whole queue, not just the request that met it
 * (Replicate answers ~6 requests a minute to accounts without a payment method, often with no
 * Retry-After: docs "Rate limits"): nothing is sent until the wait it named has passed, and
 * creates and calls together share a ceiling of half of what was sent in the minute before
 * (at least THROTTLED_MIN_PER_MINUTE), which grows back slowly (RECOVERY_PER_MINUTE) until it
 * reaches the configured limits again.
 */
export class RateLimiter {
  private readonly buckets: Record<'create' | 'call', Bucket | undefined> = { create: undefined, call: undefined };
  private readonly limits: () => RateLimits;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** When each request of the last minute was let through (both kinds). */
  private readonly sent: number[] = [];
  private pausedUntil = 0;
  /** The shared ceiling after a 429: requests a minute at `since` (the end of the pause), and its own bucket. */
  private adaptive: { perMinute: number; since: number; bucket: Bucket } | undefined;

  constructor(
    limits: RateLimits | (() => RateLimits),
    opts: { now?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {},
  ) {
    this.limits = typeof limits === 'function' ? limits : () => limits;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? sleepWithSignal;
  }

  private perMinute(kind: 'create' | 'call'): number {
    const l = this.limits();
    return kind === 'create' ? l.createsPerMinute : l.callsPerMinute;
  }

  /** Requests a minute allowed by the throttled ceiling now, or undefined when it has recovered. */
  ceiling(): number | undefined {
    const a = this.adaptive;
    if (!a) return undefined;
    const grown = a.perMinute * RECOVERY_PER_MINUTE ** (Math.max(0, this.now() - a.since) / 60_000);
    const l = this.limits();
    if (grown >= l.createsPerMinute + l.callsPerMinute) {
      this.adaptive = undefined;
      return undefined;
    }
    return Math.floor(grown);
  }

  /** The provider answered 429: pause everything for `waitMs` and lower the shared ceiling.
   * Returns the ceiling (requests a minute) now in force. */
  throttled(waitMs = 0): number {
    const t = this.now();
    this.prune(t);
    const wanted = Math.max(THROTTLED_MIN_PER_MINUTE, Math.floor(this.sent.length / 2));
    const current = this.ceiling();
    const perMinute = current === undefined ? wanted : Math.min(current, wanted);
    this.pausedUntil = Math.max(this.pausedUntil, t + Math.max(0, waitMs));
    // After the pause one request may go at once; then the ceiling's rate, growing from there.
    this.adaptive = { perMinute, since: this.pausedUntil, bucket: { tokens: 1, updatedAt: this.pausedUntil } };
    return perMinute;
  }

  private prune(t: number): void {
    while (this.sent.length > 0 && this.sent[0] <= t - 60_000) this.sent.shift();
  }

  /** Refills `b` to time `t` at `perMinute`; ms until it holds a token (0 = now). */
  private static wait(b: Bucket, perMinute: number, t: number): number {
    const rate = perMinute / 60_000; // tokens per ms
    const capacity = Math.max(1, Math.floor(perMinute / 6));
    b.tokens = Math.min(capacity, b.tokens + Math.max(0, t - b.updatedAt) * rate);
    b.updatedAt = Math.max(b.updatedAt, t);
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / rate);
  }

  /** Milliseconds until a token of this kind is free (0 = now), taking it when free. */
  tryTake(kind: 'create' | 'call'): number {
    const t = this.now();
    if (t < this.pausedUntil) return this.pausedUntil - t;
    let b = this.buckets[kind];
    if (!b) b = this.buckets[kind] = { tokens: Math.max(1, Math.floor(this.perMinute(kind) / 6)), updatedAt: t };
    const ceiling = this.ceiling();
    const a = this.adaptive;
    const wait = Math.max(RateLimiter.wait(b, this.perMinute(kind), t), a && ceiling !== undefined ? RateLimiter.wait(a.bucket, ceiling, t) : 0);
    if (wait > 0) return wait;
    b.tokens -= 1;
    if (a) a.bucket.tokens -= 1;
    this.prune(t);
    this.sent.push(t);
    return 0;
  }

  /** Waits (with the injected sleep) until a token is free, then takes it. */
  async acquire(kind: FetchKind, signal?: AbortSignal): Promise<void> {
    if (kind === 'download') return;
    for (;;) {
      const wait = this.tryTake(kind);
      if (wait === 0) return;
      await this.sleep(wait, signal);
    }
  }
}

const limiters = new WeakMap<ProviderContext, Map<string, RateLimiter>>();

/** The limiter shared by every request of one provider context. */
export function limiterFor(provider: string, ctx: ProviderContext): RateLimiter {
  let byProvider = limiters.get(ctx);
  if (!byProvider) limiters.set(ctx, (byProvider = new Map()));
  let l = byProvider.get(provider);
  if (!l) {
    l = new RateLimiter(() => effectiveLimits(provider, ctx.limits), { now: ctx.now, sleep: ctx.sleep });
    byProvider.set(provider, l);
  }
  return l;
}

// ---------------------------------------------------------------------------------------------
// Errors

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Seconds or HTTP date → ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Replicate's 429 bodies (docs "Rate limits"): "Request was throttled. Your rate limit resets in
 * ~30s." and the older "Request was throttled. Expected available in 1 second." */
export function retryAfterFromBody(text: string): number | undefined {
  const m = /resets in ~?(\d+(?:\.\d+)?)\s*s/i.exec(text) ?? /expected available in ~?(\d+(?:\.\d+)?)\s*s(?:ec(?:ond)?s?)?\b/i.exec(text);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/** The human-readable message of an error body (`detail`, `message`, `error`, `title`), capped. */
export function bodyMessage(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 500);
  const r = asRecord(body);
  if (!r) return '';
  for (const k of ['detail', 'message', 'error', 'title']) {
    const v = r[k];
    if (typeof v === 'string' && v.trim()) return v.trim().slice(0, 500);
    const nested = asRecord(v);
    if (nested && typeof nested.message === 'string') return nested.message.slice(0, 500);
  }
  return '';
}

/** `$.steps[0].input.width` → ['steps', 0, 'input', 'width']. */
function jsonPathTokens(raw: string): (string | number)[] {
  const tokens: (string | number)[] = [];
  for (const part of raw.replace(/^\$\.?/, '').split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      tokens.push(part);
      continue;
    }
    if (m[1]) tokens.push(m[1]);
    for (const idx of m[2].match(/\d+/g) ?? []) tokens.push(Number(idx));
  }
  return tokens;
}

/** Field errors from fal/FastAPI (`detail: [{loc, msg}]`), Replicate (`invalid_fields: [{field,
 * description}]`), zod-ish (`errors: [{path, message}]`) and ValidationProblemDetails (`errors:
 * {"steps[0].input.width": ["…"]}`, Civitai) bodies. Paths are relative to the input, except a
 * ValidationProblemDetails path, which is kept as the provider wrote it. */
export function fieldErrorsFrom(body: unknown): FieldError[] {
  const r = asRecord(body);
  if (!r) return [];
  const out: FieldError[] = [];
  if (Array.isArray(r.detail)) {
    for (const d of r.detail) {
      const e = asRecord(d);
      if (!e) continue;
      const loc = Array.isArray(e.loc) ? e.loc.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number') : [];
      const path = loc[0] === 'body' ? loc.slice(1) : loc;
      out.push({ path, message: typeof e.msg === 'string' ? e.msg : 'invalid value' });
    }
  } else if (typeof r.detail === 'string' && !Array.isArray(r.invalid_fields)) {
    // fal's non-Pydantic 422s carry a single string.
  }
  if (Array.isArray(r.invalid_fields)) {
    for (const f of r.invalid_fields) {
      const e = asRecord(f);
      if (!e) continue;
      const message = typeof e.description === 'string' ? e.description : typeof e.message === 'string' ? e.message : 'invalid value';
      let path: (string | number)[] = typeof e.field === 'string' ? e.field.split('.').filter(Boolean) : [];
      if (path[0] === 'input') path = path.slice(1);
      if (path.length === 0) {
        // Replicate reports missing fields on `input` with the name first: "prompt is required".
        const m = /^([A-Za-z_][\w]*)(?: is |:)/.exec(message);
        path = m ? [m[1]] : ['input'];
      }
      out.push({ path, message });
    }
  }
  if (Array.isArray(r.errors)) {
    for (const f of r.errors) {
      const e = asRecord(f);
      if (!e) continue;
      const path = Array.isArray(e.path) ? e.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number') : [];
      out.push({ path, message: typeof e.message === 'string' ? e.message : 'invalid value' });
    }
  } else {
    // ValidationProblemDetails: a map of JSON path → messages.
    for (const [raw, messages] of Object.entries(asRecord(r.errors) ?? {})) {
      const path = jsonPathTokens(raw);
      for (const m of Array.isArray(messages) ? messages : [messages]) out.push({ path, message: typeof m === 'string' ? m.slice(0, 300) : 'invalid value' });
    }
  }
  return out;
}

/** A typed, actionable error for an HTTP failure. Provider text passes through redact().
 * `fieldErrors`: for a 400/422, the adapter's own reading of the body (default fieldErrorsFrom). */
export function mapHttpError(
  provider: string,
  status: number,
  body: unknown,
  headers?: Headers,
  secrets: (string | undefined)[] = [],
  fieldErrors?: FieldError[],
): ProviderError {
  const name = providerDisplayName(provider);
  const said = redact(bodyMessage(body), secrets);
  const suffix = said ? ` ${name} said: ${said}` : '';
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  if (status === 401 || status === 403) {
    if (/balance|credit|quota|billing|payment/i.test(text)) {
      return new ProviderError('quota', provider, `${name} refused the request for lack of credit (HTTP ${status}). Top up your ${name} account.${suffix}`, { status });
    }
    return new ProviderError('auth', provider, `${name} rejected the API key (HTTP ${status}). Set a valid key with "Art Factory: Set API Key…".${suffix}`, { status });
  }
  if (status === 402) {
    return new ProviderError('quota', provider, `${name} reports insufficient credit (HTTP 402). Top up your ${name} account, then retry.${suffix}`, { status });
  }
  if (status === 404) {
    return new ProviderError('not_found', provider, `${name} does not know this model or request (HTTP 404). Check the model id.${suffix}`, { status });
  }
  if (status === 400 || status === 422) {
    const fields = (fieldErrors ?? fieldErrorsFrom(body)).map((f) => ({ path: f.path, message: redact(f.message, secrets) }));
    const where = fields.length ? ` ${fields.map((f) => `${f.path.join('.') || 'input'}: ${f.message}`).join('; ')}` : suffix;
    return new ProviderError('validation', provider, `${name} refused the input (HTTP ${status}). Fix the parameters and try again.${where}`, { status, fieldErrors: fields });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers?.get('retry-after')) ?? retryAfterFromBody(text);
    const wait = retryAfterMs !== undefined ? ` Wait about ${Math.ceil(retryAfterMs / 1000)} s` : ' Wait a minute';
    return new ProviderError('rate_limited', provider, `${name} is rate limiting requests (HTTP 429).${wait} or lower the per-minute limit in the settings.${suffix}`, { status, retryAfterMs });
  }
  if (status >= 500) {
    return new ProviderError('provider_down', provider, `${name} is having trouble (HTTP ${status}). Retry later; your key and input were not the problem.${suffix}`, { status });
  }
  return new ProviderError('bad_response', provider, `${name} answered HTTP ${status} unexpectedly.${suffix}`, { status });
}

// ---------------------------------------------------------------------------------------------
// Fetch with limits and retries

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails with rate_limited. */
  maxRetryAfterMs: number;
  /** One attempt with no answer in this time is given up (a hung server must not hold a job
   * for Node's own 5-minute timeouts per attempt). For an API call it covers the whole
   * response; for a download only the wait for its headers, since a large file takes long. */
  attemptTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 120_000, attemptTimeoutMs: 60_000 };

export interface ProviderFetchOptions {
  retry?: Partial<RetryPolicy>;
  /** Replicate's client catches anything our fetch throws and calls it again with the same
   * `init` object up to five times. With this set, a failure is remembered per `init` and
   * thrown again at once, so the SDK's loop neither multiplies our retries nor resends. */
  stickyFailures?: boolean;
  /** Underlying fetch (default: globalThis.fetch). */
  fetch?: FetchFn;
  /** Known secrets to scrub from error text (the key). */
  secrets?: (string | undefined)[];
  /** An adapter's own reading of a 5xx or 429 answer: how many attempts it deserves in all
   * (default: the retry policy's), and the error to throw when they run out (default:
   * mapHttpError). E.g. fal's runner errors on a result, which fal has retried itself already. */
  errorResponse?: (res: Response, body: unknown, url: URL) => { maxAttempts?: number; error?: ProviderError } | undefined;
}

const errorBodies = new WeakMap<Response, string>();

/** The text of an error response that passed through a provider fetch, even after an SDK read it. */
export function errorBodyText(res: Response): string | undefined {
  return errorBodies.get(res);
}

/** The JSON of a body, or the text itself when it is not JSON. */
export function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function errorCodes(e: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur && typeof cur === 'object' && !seen.has(cur)) {
    seen.add(cur);
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

function isAbortError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

function describeNetworkError(e: unknown): string {
  const codes = errorCodes(e);
  return codes.length ? codes.join('/') : e instanceof Error ? e.message : 'unknown error';
}

function canceled(provider: string): ProviderError {
  return new ProviderError('canceled', provider, `${providerDisplayName(provider)}: the request was canceled.`);
}

/** Re-creates a response whose body we read, so callers (and SDKs) can read it again. */
function replay(res: Response, text: string): Response {
  const headers = new Headers(res.headers);
  headers.delete('content-encoding');
  headers.delete('content-length');
  const copy = new Response(text, { status: res.status, statusText: res.statusText, headers });
  errorBodies.set(copy, text);
  return copy;
}

/**
 * A fetch for one provider: rewrites to ctx.baseUrl, refuses unsafe URLs, takes a rate-limit
 * token, and retries 429/5xx/network errors with exponential backoff and full jitter (or
 * exactly Retry-After when given). For kind 'create' (a submission) only a 429 or a connection
 * that never opened is retried; anything else that may have been accepted fails at once with
 * `maybeAccepted: true`. `kind` may be a function deciding per request (an SDK sharing one fetch).
 */
export function createProviderFetch(
  provider: string,
  ctx: ProviderContext,
  kind: FetchKind | ((url: URL, method: string) => FetchKind) = 'call',
  opts: ProviderFetchOptions = {},
): FetchFn {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const sleep = ctx.sleep ?? sleepWithSignal;
  const now = ctx.now ?? Date.now;
  const random = ctx.random ?? Math.random;
  const name = providerDisplayName(provider);
  const sticky = new WeakMap<object, ProviderError>();
  const log = ctx.log;

  const run = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const rawUrl = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const signal = init.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
    const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const baseUrl = ctx.baseUrl || undefined;
    const base = baseUrl ? assertSafeUrl(baseUrl, provider, { allowLoopbackHttp: true }) : undefined;
    // Plain http only to the configured loopback base itself, not to any other local port a
    // provider response might name.
    const url = assertSafeUrl(rewriteUrl(rawUrl, baseUrl), provider, { allowLoopbackHttp: base?.protocol === 'http:' });
    if (url.protocol === 'http:' && url.origin !== base?.origin) {
      throw new ProviderError('insecure', provider, `${name}: refused plain http to ${url.host}; only the configured base URL may use http.`);
    }
    const k = typeof kind === 'function' ? kind(new URL(rawUrl), method) : kind;
    const limiter = limiterFor(provider, ctx);
    const doFetch = opts.fetch ?? globalThis.fetch;
    const requestInit: RequestInit =
      input instanceof Request ? { method: input.method, headers: input.headers, body: input.body, ...init, signal } : { ...init, signal };
    // A seed past 2^53 goes out as the exact JSON integer (exactJson.ts).
    if (typeof requestInit.body === 'string') requestInit.body = restoreExactIntegers(requestInit.body);
    // Node's fetch wants `duplex` for stream bodies; harmless otherwise.
    if (requestInit.body instanceof ReadableStream) (requestInit as RequestInit & { duplex: string }).duplex = 'half';

    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw canceled(provider);
      try {
        await limiter.acquire(k, signal ?? undefined);
      } catch {
        throw canceled(provider);
      }
      let res: Response;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), policy.attemptTimeoutMs);
      timer.unref?.();
      try {
        res = await fetchFollowingRedirects(url, { ...requestInit, signal: signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal });
        if (k === 'download') clearTimeout(timer);
      } catch (e) {
        clearTimeout(timer);
        if (e instanceof ProviderError) throw e;
        if (signal?.aborted) throw canceled(provider);
        const timedOut = deadline.signal.aborted;
        if (!timedOut && isAbortError(e)) throw canceled(provider);
        const codes = errorCodes(e);
        const notSent = codes.some((c) => NOT_SENT_CODES.has(c));
        const retryable = k !== 'create' || notSent;
        const why = timedOut ? `no answer within ${Math.round(policy.attemptTimeoutMs / 1000)} s` : describeNetworkError(e);
        // No `cause`: the SDKs walk the cause chain for transport codes and would retry again.
        const err = new ProviderError(
          'network',
          provider,
          `Could not reach ${name} (${why}). Check the network connection${baseUrl ? ` and the base URL setting (${baseUrl})` : ''}, then retry.`,
          { maybeAccepted: !notSent && k === 'create' },
        );
        if (!retryable || attempt >= policy.maxAttempts) throw err;
        await backoff(attempt, undefined, err.message);
        continue;
      }
      if (res.ok || res.status < 400) return res;

      const retryableStatus = res.status === 429 || (res.status >= 500 && k !== 'create');
      if (res.status !== 429 && res.status < 500) {
        // A final client error: hand it back with its body kept readable.
        return replay(res, await readCapped(res));
      }
      const text = await readCapped(res);
      clearTimeout(timer);
      const body = parseMaybeJson(text);
      const own = opts.errorResponse?.(res, body, new URL(unrewriteUrl(url.href, baseUrl)));
      // An adapter's message quotes provider text: scrubbed here like mapHttpError's.
      const err = own?.error
        ? new ProviderError(own.error.kind, provider, redact(own.error.message, opts.secrets), { status: own.error.status, retryAfterMs: own.error.retryAfterMs })
        : mapHttpError(provider, res.status, body, res.headers, opts.secrets);
      if (!retryableStatus) {
        // A 5xx to a submission: it may have been accepted, so it is not resent.
        throw new ProviderError(err.kind, provider, `${err.message} The submission may have gone through; check the provider's dashboard before retrying.`, {
          status: err.status,
          maybeAccepted: true,
        });
      }
      // An HTTP-date Retry-After is measured against the injected clock.
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now()) ?? (res.status === 429 ? retryAfterFromBody(text) : undefined) ?? err.retryAfterMs;
      const delay = retryAfterMs !== undefined ? retryAfterMs : Math.round(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
      if (res.status === 429 && k !== 'download') {
        // The whole provider slows down, not only this request (see RateLimiter).
        const before = limiter.ceiling();
        const ceiling = limiter.throttled(Math.min(delay, policy.maxRetryAfterMs));
        if (before === undefined || ceiling < before) log?.warn(`${name} is throttling requests (HTTP 429): every ${name} request now waits ${Math.ceil(Math.min(delay, policy.maxRetryAfterMs) / 1000)} s, then goes at about ${ceiling} a minute, speeding up again slowly`);
      }
      const attempts = own?.maxAttempts ?? policy.maxAttempts;
      if (attempt >= attempts) throw err;
      if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) throw err;
      await backoff(attempt, delay, `HTTP ${res.status}`, attempts);
    }

    /** Redirects are followed by hand so every hop is rewritten and checked like the first;
     * credentials are dropped when a hop leaves the origin. */
    async function fetchFollowingRedirects(first: URL, init: RequestInit): Promise<Response> {
      let current = first;
      // Origins are compared on the URLs the provider meant, before rewriting to the base.
      let logical = new URL(unrewriteUrl(first.href, baseUrl));
      let hopInit: RequestInit = { ...init, redirect: 'manual' };
      for (let hop = 0; ; hop++) {
        const res = await doFetch(current.href, hopInit);
        const location = res.headers.get('location');
        if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
        if (hop >= MAX_REDIRECTS) throw new ProviderError('bad_response', provider, `${name} redirected too many times.`);
        await res.body?.cancel();
        const nextLogical = new URL(unrewriteUrl(new URL(location, logical).href, baseUrl));
        const next = assertSafeUrl(rewriteUrl(nextLogical.href, baseUrl), provider, { allowLoopbackHttp: base?.protocol === 'http:' });
        if (next.protocol === 'http:' && next.origin !== base?.origin) throw new ProviderError('insecure', provider, `${name}: refused a redirect to plain http.`);
        if (nextLogical.origin !== logical.origin) {
          const headers = new Headers(hopInit.headers);
          headers.delete('authorization');
          headers.delete('cookie');
          hopInit = { ...hopInit, headers };
        }
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && (hopInit.method ?? 'GET').toUpperCase() === 'POST')) {
          hopInit = { ...hopInit, method: 'GET', body: undefined };
        }
        current = next;
        logical = nextLogical;
      }
    }

    async function backoff(attempt: number, retryAfterMs: number | undefined, why: string, attempts = policy.maxAttempts): Promise<void> {
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = retryAfterMs !== undefined ? retryAfterMs : Math.round(random() * cap);
      log?.warn(`${name}: ${redact(why, opts.secrets)}; retry ${attempt}/${attempts - 1} in ${delay} ms`);
      try {
        await sleep(delay, signal ?? undefined);
      } catch {
        throw canceled(provider);
      }
    }
  };

  return async (input, init) => {
    const key = opts.stickyFailures && init ? init : undefined;
    const remembered = key ? sticky.get(key) : undefined;
    if (remembered) throw remembered;
    try {
      return await run(input, init);
    } catch (e) {
      const err =
        e instanceof ProviderError ? e : new ProviderError('network', provider, `${name}: request failed (${redact(e instanceof Error ? e.message : String(e), opts.secrets)}).`);
      if (key) sticky.set(key, err);
      throw err;
    }
  };
}

const MAX_ERROR_BODY = 256 * 1024;
const MAX_REDIRECTS = 5;

async function readCapped(res: Response): Promise<string> {
  try {
    const text = await res.text();
    return text.length > MAX_ERROR_BODY ? text.slice(0, MAX_ERROR_BODY) : text;
  } catch {
    return '';
  }
}
