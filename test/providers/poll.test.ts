import { test } from 'node:test';
import assert from 'node:assert/strict';
import { civitaiPolls, pollUntilTerminal, slowingPolls } from '../../src/providers/poll.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import type { StatusUpdate } from '../../src/providers/types.ts';
import { collect, testCtx } from './helpers.ts';

function seq(...items: (StatusUpdate | ProviderError)[]) {
  let i = 0;
  return async () => {
    const it = items[Math.min(i++, items.length - 1)];
    if (it instanceof ProviderError) throw it;
    return it;
  };
}

test('poll: a couple of transient errors are tolerated, then the job goes on', async () => {
  const ctx = testCtx('http://127.0.0.1:9', 'k');
  const net = new ProviderError('network', 'x', 'down');
  const out = await collect(pollUntilTerminal('x', ctx, seq({ state: 'running', providerStatus: 'r' }, net, net, { state: 'succeeded', providerStatus: 's' }), { intervalMs: 10 }));
  assert.deepEqual(out.map((u) => u.state), ['running', 'succeeded']);
  assert.deepEqual(ctx.sleeps, [10, 10, 10]);
});

test('poll: persistent transient errors, and any non-transient one, end in failed', async () => {
  const ctx = testCtx('http://127.0.0.1:9', 'k');
  const net = new ProviderError('provider_down', 'x', 'down');
  const a = await collect(pollUntilTerminal('x', ctx, seq(net), { intervalMs: 1 }));
  assert.equal(a.length, 1);
  assert.equal(a[0].error?.kind, 'provider_down');
  const b = await collect(pollUntilTerminal('x', ctx, seq(new ProviderError('auth', 'x', 'no')), { intervalMs: 1 }));
  assert.equal(b[0].state, 'failed');
  assert.equal(b[0].error?.kind, 'auth');
});

test('poll: the deadline is checked on the injected clock', async () => {
  const ctx = testCtx('http://127.0.0.1:9', 'k');
  const out = await collect(pollUntilTerminal('x', ctx, seq({ state: 'submitted', providerStatus: 'q' }), { intervalMs: 400, timeoutMs: 1000 }));
  assert.deepEqual(out.map((u) => u.state), ['submitted', 'submitted', 'submitted', 'failed']);
  assert.deepEqual(ctx.sleeps, [400, 400, 200]);
  assert.equal(out.at(-1)?.error?.kind, 'timeout');
  assert.equal(out.at(-1)?.error?.action, 'retry');
});

test('poll: throttling never ends the watch; at the deadline the message says the checks were throttled', async () => {
  const ctx = testCtx('http://127.0.0.1:9', 'k');
  const slow = new ProviderError('rate_limited', 'replicate', 'throttled', { status: 429 });
  // Ten throttled checks in a row (more than MAX_CONSECUTIVE_POLL_ERRORS), then an answer.
  const out = await collect(pollUntilTerminal('replicate', ctx, seq({ state: 'running', providerStatus: 'processing' }, ...Array.from({ length: 10 }, () => slow), { state: 'succeeded', providerStatus: 'succeeded' }), { intervalMs: 10 }));
  assert.deepEqual(out.map((u) => u.state), ['running', 'succeeded']);
  // Throttled to the end: a timeout that says why, not a rate_limited failure.
  const ctx2 = testCtx('http://127.0.0.1:9', 'k');
  const end = await collect(pollUntilTerminal('replicate', ctx2, seq({ state: 'running', providerStatus: 'processing' }, slow), { intervalMs: 30_000, timeoutMs: 5 * 60_000 }));
  assert.deepEqual(end.map((u) => u.state), ['running', 'failed']);
  assert.equal(end[1].error?.kind, 'timeout');
  assert.match(end[1].error!.message, /did not finish within 5 min\. Replicate throttled its status checks \(HTTP 429\) for the last 5 min/);
});

test('poll: a schedule sets the cadence (Civitai\'s 2, 5, 10, 15, then 30 s; slowing polls grow with age)', async () => {
  const ctx = testCtx('http://127.0.0.1:9', 'k');
  const running: StatusUpdate = { state: 'running', providerStatus: 'processing' };
  await collect(pollUntilTerminal('civitai', ctx, seq(...Array.from({ length: 7 }, () => running), { state: 'succeeded', providerStatus: 's' }), { intervalMs: 1 }, civitaiPolls));
  assert.deepEqual(ctx.sleeps, [2000, 5000, 10_000, 15_000, 30_000, 30_000, 30_000]);
  // A caller asking for slower polls is obeyed.
  const ctx2 = testCtx('http://127.0.0.1:9', 'k');
  await collect(pollUntilTerminal('civitai', ctx2, seq(running, running, { state: 'succeeded', providerStatus: 's' }), { intervalMs: 60_000 }, civitaiPolls));
  assert.deepEqual(ctx2.sleeps, [60_000, 60_000]);
  const ctx3 = testCtx('http://127.0.0.1:9', 'k');
  await collect(pollUntilTerminal('replicate', ctx3, seq(...Array.from({ length: 80 }, () => running), { state: "succeeded", providerStatus: "s" }), { intervalMs: 1000 }, slowingPolls));
  assert.deepEqual(ctx3.sleeps.slice(0, 11), Array(11).fill(1000));
  assert.equal(ctx3.sleeps.at(-1), 30_000);
});
