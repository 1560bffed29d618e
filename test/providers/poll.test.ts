import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntilTerminal } from '../../src/providers/poll.ts';
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
