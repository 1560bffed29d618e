// One JSON request to Civitai: through the provider fetch (URL policy, rate limits, retries that
// never resend a submission), the key only where it belongs, every answer checked with zod and
// every failure a typed ProviderError in Civitai's own words.

import type { z } from 'zod';
import { ProviderError, redact, type FieldError } from '../errors.ts';
import { createProviderFetch, type FetchFn, type FetchKind, type RetryPolicy } from '../net/fetch.ts';
import { bodyMessage, fieldErrorsFrom, mapHttpError, parseMaybeJson } from '../net/httpErrors.ts';
import type { ProviderContext } from '../types.ts';
import { NAME, PROVIDER } from './service.ts';

const NO_KEY = `No ${NAME} API token is set. Create one on civitai.com (Account settings → API Keys), then run "Art Factory: Set API Key…" (or set CIVITAI_API_TOKEN for the command line).`;

/** Submitting a workflow is the one request that may create work; everything else is a call. */
function classify(url: URL, method: string): FetchKind {
  return method === 'POST' && /\/v2\/consumer\/workflows\/?$/.test(url.pathname) ? 'create' : 'call';
}

export interface CivitaiProviderOptions {
  /** Underlying fetch (tests may wrap it). */
  fetch?: FetchFn;
  retry?: Partial<RetryPolicy>;
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

export class CivitaiClient {
  constructor(
    private readonly ctx: ProviderContext,
    private readonly opts: CivitaiProviderOptions = {},
  ) {}

  private async key(): Promise<string> {
    const key = await this.ctx.getKey();
    if (!key) throw new ProviderError('auth', PROVIDER, NO_KEY);
    return key;
  }

  /** One JSON request: errors become typed ProviderErrors, the body is checked with `schema`. */
  async call<T>(what: string, url: string, opts: CallOptions, schema: z.ZodType<T>): Promise<T>;
  async call(what: string, url: string, opts: CallOptions, schema?: undefined): Promise<undefined>;
  async call<T>(what: string, url: string, opts: CallOptions, schema?: z.ZodType<T>): Promise<T | undefined> {
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
