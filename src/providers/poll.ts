// The polling loop every remote adapter shares: status updates until a terminal state, an
// overall deadline, tolerance for a few transient failures, a per-adapter cadence, and the
// caller's AbortSignal. Adapters own this loop (not the SDKs' wait/subscribe helpers) so odd
// states always end.

import { ProviderError, isProviderError, providerDisplayName } from './errors.ts';
import { sleepWithSignal } from './net/sleep.ts';
import { TERMINAL_STATES, type ProviderContext, type StatusUpdate, type WatchOptions } from './types.ts';

export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Transient failures (network, 5xx, after the fetch's own retries) tolerated in a row. */
export const MAX_CONSECUTIVE_POLL_ERRORS = 3;

const TRANSIENT: ReadonlySet<string> = new Set(['network', 'provider_down']);

/** The wait before the next poll: `polls` made so far (1 after the first), the job's `ageMs`
 * since watching began, and the caller's `baseMs` (WatchOptions.intervalMs). */
export type PollSchedule = (polls: number, ageMs: number, baseMs: number) => number;

/** Every `baseMs` (fal: its own client polls every 500 ms). */
export const steadyPolls: PollSchedule = (_polls, _age, base) => base;

/** Long jobs are polled less often: a tenth of their age, between `baseMs` and 30 s (a 5-minute
 * video is checked every 30 s, a 10-second image every second). */
export const slowingPolls: PollSchedule = (_polls, age, base) => Math.max(base, Math.min(30_000, Math.round(age / 10)));

/** Civitai's guide: "A reasonable loop is: 2 s, 5 s, 10 s, 15 s, then 30 s thereafter"
 * (civitai-developer-docs orchestration/guide/getting-started.md, results-and-webhooks.md). */
const CIVITAI_CADENCE_MS = [2000, 5000, 10_000, 15_000];
export const civitaiPolls: PollSchedule = (polls, _age, base) => Math.max(base, CIVITAI_CADENCE_MS[polls - 1] ?? 30_000);

export function isTerminal(u: StatusUpdate): boolean {
  return TERMINAL_STATES.includes(u.state);
}

/**
 * Yields `status()` results until one is terminal (inclusive). A passed deadline yields a
 * final 'failed' update with a 'timeout' error (the remote job is left alone: the caller
 * decides whether to cancel it). A non-transient error, or MAX_CONSECUTIVE_POLL_ERRORS
 * transient ones in a row, yield a final 'failed' update with providerStatus 'error'.
 * Throttling (rate_limited) never ends the watch by itself: the job may still be running, so
 * polling goes on (the provider fetch has slowed every request down) until the deadline, whose
 * message then says the status checks were throttled.
 * An aborted signal throws ProviderError('canceled') without a final update.
 */
export async function* pollUntilTerminal(
  provider: string,
  ctx: ProviderContext,
  status: (signal?: AbortSignal) => Promise<StatusUpdate>,
  opts: WatchOptions = {},
  schedule: PollSchedule = steadyPolls,
): AsyncGenerator<StatusUpdate> {
  const sleep = ctx.sleep ?? sleepWithSignal;
  const now = ctx.now ?? Date.now;
  const base = Math.max(0, opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  const started = now();
  const deadline = opts.timeoutMs !== undefined ? started + opts.timeoutMs : undefined;
  const name = providerDisplayName(provider);
  const canceled = () => new ProviderError('canceled', provider, `${name}: stopped watching the job (canceled).`);
  let errors = 0;
  let polls = 0;
  /** When the status checks began to be answered 429 (and have been since). */
  let throttledSince: number | undefined;
  for (;;) {
    if (opts.signal?.aborted) throw canceled();
    if (deadline !== undefined && now() >= deadline) {
      const minutes = Math.round(((opts.timeoutMs ?? 0) / 60_000) * 10) / 10;
      const throttled =
        throttledSince !== undefined
          ? ` ${name} throttled its status checks (HTTP 429) for the last ${Math.max(1, Math.round((now() - throttledSince) / 60_000))} min, so its state is unknown. Wait a few minutes, then retry it; or lower the per-minute limits in the settings.`
          : ' Retry it, or raise "artFactory.jobs.timeoutMinutes".';
      yield {
        state: 'failed',
        providerStatus: 'timeout',
        error: new ProviderError('timeout', provider, `The ${name} job did not finish within ${minutes} min.${throttled}`),
      };
      return;
    }
    let update: StatusUpdate | undefined;
    polls++;
    try {
      update = await status(opts.signal);
      errors = 0;
      throttledSince = undefined;
    } catch (e) {
      if (opts.signal?.aborted) throw canceled();
      const err = isProviderError(e) ? e : new ProviderError('bad_response', provider, `${name}: could not read the job status.`);
      if (err.kind === 'rate_limited') {
        // Not an answer about the job: keep watching (more slowly, see RateLimiter).
        throttledSince ??= now();
      } else if (!(TRANSIENT.has(err.kind) && ++errors < MAX_CONSECUTIVE_POLL_ERRORS)) {
        yield { state: 'failed', providerStatus: 'error', error: err };
        return;
      }
    }
    if (update) {
      yield update;
      if (isTerminal(update)) return;
    }
    const interval = Math.max(0, schedule(polls, now() - started, base));
    const wait = deadline !== undefined ? Math.min(interval, Math.max(0, deadline - now())) : interval;
    try {
      await sleep(wait, opts.signal);
    } catch {
      throw canceled();
    }
  }
}
