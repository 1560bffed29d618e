import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { isProviderError } from '../../src/providers/errors.ts';
import { createSampleProvider } from '../../src/providers/sample.ts';
import type { ProviderContext, StatusUpdate } from '../../src/providers/types.ts';

/** A context with a clock the test moves by hand; sleeping advances it. */
function clockCtx(): ProviderContext & { t: number } {
  const ctx = {
    t: 1_000_000,
    getKey: async () => undefined,
    now: () => ctx.t,
    sleep: async (ms: number) => {
      ctx.t += ms;
    },
  };
  return ctx;
}

async function run(prompt: string, seed: number, extra: Record<string, unknown> = {}) {
  const ctx = clockCtx();
  const p = createSampleProvider(ctx);
  const { requestId } = await p.submit({ model: 'sample/gradient', input: { prompt, seed, width: 256, height: 256, duration_ms: 1000, ...extra } });
  const updates: StatusUpdate[] = [];
  for await (const u of p.watch({ model: 'sample/gradient', requestId }, { intervalMs: 100 })) updates.push(u);
  const result = await p.result({ model: 'sample/gradient', requestId });
  return { updates, result, requestId };
}

test('same prompt and seed draw identical bytes; different prompts differ visibly', async () => {
  const a = await run('a red fox in snow', 7);
  const b = await run('a red fox in snow', 7);
  const c = await run('an ocean of blue glass', 7);
  const bytes = (r: typeof a) => Buffer.from(r.result.artifacts[0].data!);
  assert.ok(bytes(a).equals(bytes(b)));
  const [sa, sc] = await Promise.all([sharp(bytes(a)).stats(), sharp(bytes(c)).stats()]);
  const diff = sa.channels.slice(0, 3).reduce((n, ch, i) => n + Math.abs(ch.mean - sc.channels[i].mean), 0);
  assert.ok(diff > 20, `mean colour differs by ${diff.toFixed(1)} over RGB`);
  const meta = await sharp(bytes(a)).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [256, 256]);
  assert.equal(a.result.seed, 7);
});

test('status goes submitted (no invented queue place) → running with progress and logs → succeeded', async () => {
  const { updates } = await run('lighthouse', 1);
  const states = updates.map((u) => u.state);
  // A 1 s job polled every 100 ms on the test's clock: 3 polls while it waits (submitted, with
  // no invented queue place: no other job is ahead), then 7 while it runs, each further along.
  assert.equal(states[0], 'submitted');
  assert.deepEqual(updates.filter((u) => u.state === 'submitted').map((u) => u.queuePosition), [undefined, undefined, undefined], 'an offline provider has no queue of other jobs');
  const running = updates.filter((u) => u.state === 'running');
  assert.equal(running.length, 7);
  assert.ok(running.every((u, i) => i === 0 || u.progress! > running[i - 1].progress!), JSON.stringify(running.map((u) => u.progress)));
  assert.match(running[0].logs![0], /^step \d+\/20$/);
  assert.equal(states.at(-1), 'succeeded');
});

test('a fresh instance resumes a job from its request id alone', async () => {
  const ctx = clockCtx();
  const first = createSampleProvider(ctx);
  const { requestId } = await first.submit({ model: 'sample/gradient', input: { prompt: 'resume me', seed: 3, width: 256, height: 256, duration_ms: 5000 } });
  ctx.t += 2000;
  assert.equal((await first.status({ model: 'sample/gradient', requestId })).state, 'running');
  const fresh = createSampleProvider(ctx);
  ctx.t += 4000;
  assert.equal((await fresh.status({ model: 'sample/gradient', requestId })).state, 'succeeded');
  const r = await fresh.result({ model: 'sample/gradient', requestId });
  assert.equal(r.artifacts.length, 1);
});

test('cancel ends the job canceled; "[fail]" ends it failed; a missing prompt is a validation error', async () => {
  const ctx = clockCtx();
  const p = createSampleProvider(ctx);
  const { requestId } = await p.submit({ model: 'sample/slow', input: { prompt: 'slow' } });
  await p.cancel({ model: 'sample/slow', requestId });
  assert.equal((await p.status({ model: 'sample/slow', requestId })).state, 'canceled');
  const { requestId: failing } = await p.submit({ model: 'sample/gradient', input: { prompt: 'please [fail]', duration_ms: 10 } });
  const last: StatusUpdate[] = [];
  for await (const u of p.watch({ model: 'sample/gradient', requestId: failing })) last.push(u);
  assert.equal(last.at(-1)!.state, 'failed');
  await assert.rejects(p.result({ model: 'sample/gradient', requestId: failing }), (e: unknown) => isProviderError(e) && e.kind === 'failed');
  await assert.rejects(p.submit({ model: 'sample/gradient', input: {} }), (e: unknown) => isProviderError(e) && e.kind === 'validation' && e.fieldErrors![0].path[0] === 'prompt');
  await assert.rejects(p.submit({ model: 'sample/nope', input: { prompt: 'x' } }), (e: unknown) => isProviderError(e) && e.kind === 'not_found');
});

test('image-to-image tints the given image to the requested size', async () => {
  const ctx = clockCtx();
  const p = createSampleProvider(ctx);
  const src = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).png().toBuffer();
  const image_url = await p.upload(src, 'image/png');
  const { requestId } = await p.submit({ model: 'sample/image-to-image', input: { prompt: 'warm', image_url, width: 256, height: 384, duration_ms: 0 } });
  const r = await p.result({ model: 'sample/image-to-image', requestId });
  const meta = await sharp(Buffer.from(r.artifacts[0].data!)).metadata();
  assert.deepEqual([meta.width, meta.height], [256, 384]);
});
