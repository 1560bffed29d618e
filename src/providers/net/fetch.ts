// The one door every provider request goes through: it applies the URL policy (url.ts) and the
// provider's rate limits (limits.ts), maps HTTP failures (httpErrors.ts), and retries with
// backoff that honours Retry-After but never resends a submission that may have been accepted.
//
// Contract of the fetch that createProviderFetch returns:
// - resolves with the Response for 2xx/3xx and for non-retryable errors (4xx except 429);
//   the error body stays readable, and `errorBodyText(res)` gives it again after a client
//   library has consumed it;
// - throws ProviderError for an aborted signal ('canceled'), a refused URL ('insecure'),
//   network failures ('network') and 429/5xx once retries ran out (mapHttpError). Throwing a
//   ProviderError (not a Response) stops the SDKs' own retry loops: @fal-ai/client retries only
//   its ApiError and transport errors with a `code`, and ProviderError is neither.

import { ProviderError, providerDisplayName, redact } from '../errors.ts';
import { restoreExactIntegers } from '../exactJson.ts';
import type { ProviderContext } from '../types.ts';
import { mapHttpError, parseMaybeJson, parseRetryAfter, retryAfterFromBody } from './httpErrors.ts';
import { limiterFor } from './limits.ts';
import { sleepWithSignal } from './sleep.ts';
import { assertSafeUrl, rewriteUrl, unrewriteUrl } from './url.ts';

/** 'create': a job submission (rate-limited as creates, never resent once maybe accepted);
 * 'call': any other API call; 'download': an output file (retried like a call, not rate-limited). */
export type FetchKind = 'create' | 'call' | 'download';
export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

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
        // Downloads are output files, not API requests: no rate-limit token.
        if (k !== 'download') await limiter.acquire(k, signal ?? undefined);
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
