import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ReplicateProvider, createReplicateProvider } from '../../src/providers/replicate.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import { createProviderFetch } from '../../src/providers/net.ts';
import { startReplicateFake, type ReplicateFake } from '../fakes/replicate.ts';
import { findSecretLeaks, pngBytes } from '../fakes/common.ts';
import { collect, testCtx } from './helpers.ts';

const KEY = 'r8_SecretTokenForTests0123456789abcdefXYZ';
const fakes: ReplicateFake[] = [];
async function fake(): Promise<ReplicateFake> {
  const f = await startReplicateFake({ key: KEY });
  fakes.push(f);
  return f;
}
after(async () => {
  // Every byte every Replicate fake received in this file: the token only in Authorization.
  const leaks = fakes.flatMap((f) => findSecretLeaks(f.captured, KEY));
  assert.deepEqual(leaks, []);
  assert.ok(fakes.some((f) => f.captured.some((c) => c.headers.authorization === `Bearer ${KEY}`)));
  await Promise.all(fakes.map((f) => f.close()));
});

function isErr(kind: ProviderError['kind']) {
  return (e: unknown) => e instanceof ProviderError && e.kind === kind;
}

const FLUX = 'black-forest-labs/flux-schnell';

test('replicate text-to-image by model: create, watch starting → processing → succeeded, result with real PNGs', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createReplicateProvider(ctx);
  f.nextJob({ processingSteps: 2 });
  const sub = await p.submit({ model: FLUX, input: { prompt: 'a lighthouse', num_outputs: 2 } });
  assert.ok(f.predictions.has(sub.requestId));
  assert.ok(f.captured.some((c) => c.method === 'POST' && c.url === `/api.replicate.com/v1/models/${FLUX}/predictions`));
  const updates = await collect(p.watch({ model: FLUX, requestId: sub.requestId }, { intervalMs: 7 }));
  assert.deepEqual(updates.map((u) => u.state), ['submitted', 'running', 'running', 'succeeded']);
  assert.deepEqual(updates.map((u) => u.providerStatus), ['starting', 'processing', 'processing', 'succeeded']);
  assert.deepEqual(updates.flatMap((u) => u.logs ?? []), ['Using seed: 4242', '50%|█████     | 2/4', '100%|██████████| 4/4']);
  assert.equal(updates[2].progress, 0.5);
  assert.deepEqual(ctx.sleeps, [7, 7, 7]);
  const r = await p.result({ model: FLUX, requestId: sub.requestId });
  assert.equal(r.artifacts.length, 2);
  assert.equal(r.timings?.predict_time, 1.5);
  assert.equal(r.seed, 4242);
  assert.match(r.modelVersion!, /^[0-9a-f]{64}$/);
  const dl = createProviderFetch('replicate', testCtx(f.baseUrl, KEY), 'call');
  const res = await dl(r.artifacts[0].url!);
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(r.artifacts[0].mediaType, 'image/png');
});

test('replicate image-to-image by version: upload through /files, create with {version, input}', async () => {
  const f = await fake();
  f.nextJob({ outputAsString: true });
  const p = createReplicateProvider(testCtx(f.baseUrl, KEY));
  const png = await pngBytes(16, 16, [1, 2, 3]);
  const url = await p.upload(png, 'image/png');
  assert.match(url, /^https:\/\/api\.replicate\.com\/v1\/files\//);
  const up = [...f.uploads.values()][0];
  assert.equal(Buffer.compare(up.bytes, png), 0);
  assert.equal(up.contentType, 'image/png');
  const model = 'stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc';
  const sub = await p.submit({ model, input: { prompt: 'oil painting', image: url, prompt_strength: 0.7 } });
  const create = f.captured.find((c) => c.method === 'POST' && c.url === '/api.replicate.com/v1/predictions')!;
  assert.deepEqual(JSON.parse(create.body.toString()).version, '7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc');
  const last = (await collect(p.watch({ model, requestId: sub.requestId }, { intervalMs: 1 }))).at(-1)!;
  assert.equal(last.state, 'succeeded');
  const r = await p.result({ model, requestId: sub.requestId });
  assert.equal(r.artifacts.length, 1);
  assert.equal(f.predictions.get(sub.requestId)?.input.image, url);
});

test('replicate: a wrong token ends in auth; testConnection uses GET /account', async () => {
  const f = await fake();
  const bad = createReplicateProvider(testCtx(f.baseUrl, 'r8_wrongwrongwrongwrong'));
  await assert.rejects(bad.submit({ model: FLUX, input: { prompt: 'x' } }), isErr('auth'));
  await assert.rejects(bad.testConnection(), (e: unknown) => isErr('auth')(e) && !(e as Error).message.includes('r8_wrong'));
  await createReplicateProvider(testCtx(f.baseUrl, KEY)).testConnection();
  assert.ok(f.captured.some((c) => c.url === '/api.replicate.com/v1/account'));
  await assert.rejects(createReplicateProvider(testCtx(f.baseUrl, undefined)).testConnection(), isErr('auth'));
});

test('replicate: 422 becomes validation with field paths', async () => {
  const f = await fake();
  const p = createReplicateProvider(testCtx(f.baseUrl, KEY));
  await assert.rejects(p.submit({ model: FLUX, input: { width: 100 } }), (e: unknown) => {
    assert.ok(e instanceof ProviderError && e.kind === 'validation');
    assert.deepEqual(e.fieldErrors?.map((x) => x.path), [['prompt'], ['width']]);
    assert.equal(e.action, 'fix-input');
    return true;
  });
  await assert.rejects(p.submit({ model: 'not a model', input: {} }), isErr('validation'));
  await assert.rejects(p.submit({ model: 'nobody/thing', input: { prompt: 'x' } }), isErr('not_found'));
});

test('replicate: 429 honours Retry-After with our fetch (the client does not multiply the attempts)', async () => {
  const f = await fake();
  f.addFault({ route: 'create', status: 429, headers: { 'retry-after': '3' }, body: { detail: 'Request was throttled. Your rate limit resets in ~3s.' }, times: 2 });
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createReplicateProvider(ctx);
  await p.submit({ model: FLUX, input: { prompt: 'x' } });
  assert.deepEqual(ctx.sleeps, [3000, 3000]);
  assert.equal(f.captured.filter((c) => c.method === 'POST').length, 3);
  assert.equal(f.predictions.size, 1);
  // Without a header, the "resets in ~Ns" of the body is used.
  f.addFault({ route: 'get', status: 429, body: { detail: 'Request was throttled. Your rate limit resets in ~2s.' } });
  ctx.sleeps.length = 0;
  await p.status({ model: FLUX, requestId: [...f.predictions.keys()][0] });
  assert.deepEqual(ctx.sleeps, [2000]);
});

test('replicate: throttling that outlasts the retries ends in rate_limited, with exactly our attempts', async () => {
  const f = await fake();
  f.addFault({ route: 'create', status: 429, headers: { 'retry-after': '1' }, times: Infinity });
  const ctx = testCtx(f.baseUrl, KEY);
  const p = new ReplicateProvider(ctx, { retry: { maxAttempts: 3 } });
  await assert.rejects(p.submit({ model: FLUX, input: { prompt: 'x' } }), (e: unknown) => isErr('rate_limited')(e) && (e as ProviderError).retryAfterMs === 1000);
  assert.equal(f.captured.filter((c) => c.method === 'POST').length, 3);
  assert.deepEqual(ctx.sleeps, [1000, 1000]);
});

test('replicate: 5xx on GET retried then provider_down; on create not retried', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createReplicateProvider(ctx);
  const sub = await p.submit({ model: FLUX, input: { prompt: 'x' } });
  f.addFault({ route: 'get', status: 502, times: 2 });
  assert.equal((await p.status({ model: FLUX, requestId: sub.requestId })).state, 'submitted');
  assert.deepEqual(ctx.sleeps, [250, 500]);
  f.addFault({ route: 'get', status: 500, times: Infinity });
  const before = f.captured.length;
  await assert.rejects(p.status({ model: FLUX, requestId: sub.requestId }), isErr('provider_down'));
  assert.equal(f.captured.length - before, 5);
  f.addFault({ route: 'create', status: 503 });
  const creates = f.captured.filter((c) => c.method === 'POST').length;
  await assert.rejects(p.submit({ model: FLUX, input: { prompt: 'x' } }), (e: unknown) => isErr('provider_down')(e) && (e as ProviderError).maybeAccepted === true);
  assert.equal(f.captured.filter((c) => c.method === 'POST').length - creates, 1);
});

test('replicate: malformed JSON → bad_response; dropped connections → network', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createReplicateProvider(ctx);
  const sub = await p.submit({ model: FLUX, input: { prompt: 'x' } });
  f.addFault({ route: 'get', malformed: true });
  await assert.rejects(p.status({ model: FLUX, requestId: sub.requestId }), isErr('bad_response'));
  f.addFault({ route: 'get', drop: true, times: Infinity });
  await assert.rejects(p.status({ model: FLUX, requestId: sub.requestId }), isErr('network'));
  // A create whose connection dropped may have been accepted: one attempt only.
  f.addFault({ route: 'create', drop: true });
  const posts = f.captured.filter((c) => c.method === 'POST').length;
  await assert.rejects(p.submit({ model: FLUX, input: { prompt: 'x' } }), (e: unknown) => isErr('network')(e) && (e as ProviderError).maybeAccepted === true);
  assert.equal(f.captured.filter((c) => c.method === 'POST').length - posts, 1);
});

test('replicate: failed, aborted and canceled predictions all end', async () => {
  const f = await fake();
  const p = createReplicateProvider(testCtx(f.baseUrl, KEY));
  f.nextJob({ end: 'failed', error: 'NSFW content detected' });
  const a = await p.submit({ model: FLUX, input: { prompt: 'x' } });
  const ua = (await collect(p.watch({ model: FLUX, requestId: a.requestId }, { intervalMs: 1 }))).at(-1)!;
  assert.equal(ua.state, 'failed');
  assert.match(ua.error!.message, /NSFW content detected/);
  await assert.rejects(p.result({ model: FLUX, requestId: a.requestId }), isErr('failed'));
  f.nextJob({ end: 'aborted' });
  const b = await p.submit({ model: FLUX, input: { prompt: 'x' } });
  const ub = await collect(p.watch({ model: FLUX, requestId: b.requestId }, { intervalMs: 1 }));
  assert.equal(ub.at(-1)!.state, 'failed');
  assert.equal(ub.at(-1)!.providerStatus, 'aborted');
  assert.match(ub.at(-1)!.error!.message, /aborted/);
  assert.equal(ub.length, 3);
});

test('replicate: cancel mid-run reaches the fake and the watch ends canceled', async () => {
  const f = await fake();
  f.nextJob({ processingSteps: 100 });
  const p = createReplicateProvider(testCtx(f.baseUrl, KEY));
  const ref = { model: FLUX, requestId: (await p.submit({ model: FLUX, input: { prompt: 'x' } })).requestId };
  const states: string[] = [];
  for await (const u of p.watch(ref, { intervalMs: 1 })) {
    states.push(u.state);
    if (u.state === 'running' && f.cancels.length === 0) await p.cancel(ref);
  }
  assert.deepEqual(f.cancels, [ref.requestId]);
  assert.equal(states.at(-1), 'canceled');
  assert.ok(f.captured.some((c) => c.method === 'POST' && c.url === `/api.replicate.com/v1/predictions/${ref.requestId}/cancel`));
});

test('replicate: a fresh adapter resumes from the persisted prediction id; the deadline ends slow ones', async () => {
  const f = await fake();
  const first = createReplicateProvider(testCtx(f.baseUrl, KEY));
  const sub = await first.submit({ model: FLUX, input: { prompt: 'resume', seed: 99 } });
  const persisted = JSON.parse(JSON.stringify({ model: FLUX, requestId: sub.requestId, handle: sub.handle })) as { model: string; requestId: string };
  const fresh = new ReplicateProvider(testCtx(f.baseUrl, KEY));
  assert.equal((await collect(fresh.watch(persisted, { intervalMs: 1 }))).at(-1)!.state, 'succeeded');
  const r = await new ReplicateProvider(testCtx(f.baseUrl, KEY)).result(persisted);
  assert.equal(r.seed, 99);
  f.nextJob({ startingSteps: 10_000 });
  const ctx = testCtx(f.baseUrl, KEY);
  const slow = new ReplicateProvider(ctx);
  const ref = { model: FLUX, requestId: (await slow.submit({ model: FLUX, input: { prompt: 'x' } })).requestId };
  const last = (await collect(slow.watch(ref, { intervalMs: 2000, timeoutMs: 9000 }))).at(-1)!;
  assert.equal(last.error?.kind, 'timeout');
  assert.deepEqual(ctx.sleeps, [2000, 2000, 2000, 2000, 1000]);
});

test('replicate: schema from the model latest version with $refs inlined; version-specific too', async () => {
  const f = await fake();
  const p = createReplicateProvider(testCtx(f.baseUrl, KEY));
  const s = await p.getInputSchema('someone/img2img-model');
  assert.ok(!JSON.stringify(s).includes('$ref'));
  const props = s.properties as Record<string, { allOf?: { enum?: string[] }[]; default?: unknown }>;
  assert.deepEqual(props.aspect_ratio.allOf?.[0].enum, ['1:1', '16:9', '9:16']);
  assert.equal(props.aspect_ratio.default, '1:1');
  const info = await p.describeModel('someone/img2img-model');
  assert.deepEqual(info.imageFields, ['image']);
  assert.equal(info.custom, true);
  await p.getInputSchema('someone/model:abc123');
  assert.ok(f.captured.some((c) => c.url === '/api.replicate.com/v1/models/someone/model/versions/abc123'));
  await assert.rejects(p.getInputSchema('nobody/x'), isErr('not_found'));
});
