// Typed provider errors. Every failure an adapter can meet ends as one of these, with a
// message a user can act on. Messages never contain a key: build them from status codes
// and provider text only, and pass provider text through `redact` first.

const DISPLAY_NAMES: Record<string, string> = { fal: 'fal.ai', replicate: 'Replicate', civitai: 'Civitai', sample: 'Sample' };
/** The name messages give a provider id (an unknown id stands for itself). */
export function providerDisplayName(provider: string): string {
  return DISPLAY_NAMES[provider] ?? provider;
}

export type ProviderErrorKind =
  | 'auth' // 401/403: missing or wrong key
  | 'validation' // 422/400: the input was refused; fieldErrors say where
  | 'rate_limited' // 429 after retries ran out
  | 'quota' // 402 or "insufficient credits"
  | 'provider_down' // 5xx after retries ran out
  | 'network' // connection refused/reset, DNS, TLS
  | 'timeout' // overall job deadline passed
  | 'canceled' // the user canceled, or the provider reports canceled
  | 'failed' // the run itself failed on the provider (model error, NSFW refusal, expired, aborted)
  | 'not_found' // unknown model / request id
  | 'expired' // the provider no longer keeps the result or output (kept for a limited time): run the job again
  | 'bad_response' // malformed JSON or a response that does not match the documented shape
  | 'bad_output' // a download that is corrupt, oversized, truncated or mislabelled
  | 'insecure'; // plain http to a non-loopback host, or a file:/relative URL

export interface FieldError {
  /** Path into the input, e.g. ['input', 'num_images'] or ['prompt']. */
  path: (string | number)[];
  message: string;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly status?: number;
  readonly fieldErrors?: FieldError[];
  readonly retryAfterMs?: number;
  /** True when the request may have reached the provider (never resubmit then). */
  readonly maybeAccepted?: boolean;

  constructor(
    kind: ProviderErrorKind,
    provider: string,
    message: string,
    extra: { status?: number; fieldErrors?: FieldError[]; retryAfterMs?: number; maybeAccepted?: boolean; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.kind = kind;
    this.provider = provider;
    this.status = extra.status;
    this.fieldErrors = extra.fieldErrors;
    this.retryAfterMs = extra.retryAfterMs;
    this.maybeAccepted = extra.maybeAccepted;
  }

  /** What the user should do next, for buttons and hints. */
  get action(): 'set-key' | 'fix-input' | 'retry' | 'wait' | 'top-up' | 'open-log' {
    switch (this.kind) {
      case 'auth':
        return 'set-key';
      case 'validation':
        return 'fix-input';
      case 'rate_limited':
        return 'wait';
      case 'quota':
        return 'top-up';
      case 'provider_down':
      case 'network':
      case 'timeout':
      case 'expired':
        return 'retry';
      default:
        return 'open-log';
    }
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, provider: this.provider, message: this.message, status: this.status, fieldErrors: this.fieldErrors };
  }
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}

const SECRET_PATTERNS: RegExp[] = [
  /(authorization\s*[:=]\s*)(key|bearer|token)?\s*[^\s,'"}]+/gi,
  /\b(r8_[A-Za-z0-9]{10,})\b/g, // Replicate tokens
  /\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{16,})\b/gi, // fal keys id:secret
];

/** The forms of a key a provider might echo back: the key, and its distinctive part without a
 * scheme word or a vendor prefix (`fal-…`, `r8_…`, `Key …`) and each half of an `id:secret`
 * pair. Parts shorter than 8 characters are too common to redact. Longest first, so a part
 * never leaves a piece of the whole behind. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const bare = secret.replace(/^(key|bearer|token)\s+/i, '');
  forms.add(bare);
  const unprefixed = bare.replace(/^[A-Za-z0-9]{1,10}[-_]/, '');
  forms.add(unprefixed);
  for (const half of bare.split(':')) forms.add(half);
  return [...forms].filter((f) => f.length >= 8).sort((a, b) => b.length - a.length);
}

/** Remove anything that looks like a credential, and any of the given known secrets (in each
 * of the forms `secretForms` names). */
export function redact(text: string, secrets: (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) for (const form of s.length >= 8 ? secretForms(s) : [s]) out = out.split(form).join('«redacted»');
  for (const re of SECRET_PATTERNS) out = out.replace(re, (_m, p1: string) => (p1 && /authorization/i.test(p1) ? `${p1}«redacted»` : '«redacted»'));
  return out;
}
