// Per-provider rate limits: the defaults and settings, and the limiter every request of one
// provider context shares (token buckets, slowed down as a whole after a 429).

import type { ProviderContext, RateLimits } from '../types.ts';
import { sleepWithSignal } from './sleep.ts';


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
  async acquire(kind: 'create' | 'call', signal?: AbortSignal): Promise<void> {
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
