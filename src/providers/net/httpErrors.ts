// HTTP failures → typed, actionable ProviderErrors: Retry-After (header or body), the
// message of an error body, field errors in each provider's format, and one mapping from status
// to error kind that every adapter shares.

import { ProviderError, providerDisplayName, redact, type FieldError } from '../errors.ts';

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

/** The JSON of a body, or the text itself when it is not JSON. */
export function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
