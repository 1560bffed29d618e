// The polling loop every remote adapter shares: status updates until a terminal state, an
// overall deadline, tolerance for a few transient failures, and the caller's AbortSignal.
// Adapters own this loop (not the SDKs' wait/subscribe helpers) so odd states always end.

import { ProviderError, isProviderError } from './errors.ts';
import { sleepWithSignal, providerDisplayName } from './net.ts';
import { TERMINAL_STATES, type ProviderContext, type StatusUpdate, type WatchOptions } from './types.ts';

export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Transient failures (network, 5xx, 429 after the fetch's own retries) tolerated in a row. */
export const MAX_CONSECUTIVE_POLL_ERRORS = 3;

const TRANSIENT: ReadonlySet<string> = new Set(['network', 'provider_down', 'rate_limited']);

export function isTerminal(u: StatusUpdate): boolean {
  return TERMINAL_STATES.includes(u.state);
}

/**
 * Yields `status()` results until one is terminal (inclusive). A passed deadline yields a
 * final 'failed' update with a 'timeout' error (the remote job is left alone: the caller
 * decides whether to cancel it). A non-transient error yields a final 'failed' update.
 * An aborted signal throws ProviderError('canceled') without a final update.
 */
export async function* pollUntilTerminal(
  provider: string,
  ctx: ProviderContext,
  status: (signal?: AbortSignal) => Promise<StatusUpdate>,
  opts: WatchOptions = {},
): AsyncGenerator<StatusUpdate> {
  const sleep = ctx.sleep ?? sleepWithSignal;
  const now = ctx.now ?? Date.now;
  const interval = Math.max(0, opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  const deadline = opts.timeoutMs !== undefined ? now() + opts.timeoutMs : undefined;
  const name = providerDisplayName(provider);
  const canceled = () => new ProviderError('canceled', provider, `${name}: stopped watching the job (canceled).`);
  let errors = 0;
  for (;;) {
    if (opts.signal?.aborted) throw canceled();
    if (deadline !== undefined && now() >= deadline) {
      const minutes = Math.round(((opts.timeoutMs ?? 0) / 60_000) * 10) / 10;
      yield {
        state: 'failed',
        providerStatus: 'timeout',
        error: new ProviderError('timeout', provider, `The ${name} job did not finish within ${minutes} min. Retry it, or raise "artFactory.jobs.timeoutMinutes".`),
      };
      return;
    }
    let update: StatusUpdate | undefined;
    try {
      update = await status(opts.signal);
      errors = 0;
    } catch (e) {
      if (opts.signal?.aborted) throw canceled();
      const err = isProviderError(e) ? e : new ProviderError('bad_response', provider, `${name}: could not read the job status.`);
      if (!(TRANSIENT.has(err.kind) && ++errors < MAX_CONSECUTIVE_POLL_ERRORS)) {
        yield { state: 'failed', providerStatus: 'error', error: err };
        return;
      }
    }
    if (update) {
      yield update;
      if (isTerminal(update)) return;
    }
    const wait = deadline !== undefined ? Math.min(interval, Math.max(0, deadline - now())) : interval;
    try {
      await sleep(wait, opts.signal);
    } catch {
      throw canceled();
    }
  }
}
