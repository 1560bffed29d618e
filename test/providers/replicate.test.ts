import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { ReplicateProvider, createReplicateProvider } from '../../src/providers/replicate.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import { createProviderFetch } from '../../src/providers/net/fetch.ts';
import { startReplicateFake, type ReplicateFake } from '../fakes/replicate.ts';
import { findSecretLeaks, pngBytes } from '../fakes/common.ts';
import { collect, testCtx } from './helpers.ts';
import { listProducts, REPLICATE_KEY, rig } from '../engine/helpers.ts';
import { exactModel } from '../../src/engine/reuse.ts';

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
  // An official model's prediction reports "version": "hidden": nothing to pin, nothing recorded.
  assert.equal(f.predictions.get(sub.requestId)?.version, 'hidden');
  assert.equal(r.modelVersion, undefined);
  const dl = createProviderFetch('replicate', testCtx(f.baseUrl, KEY), 'call');
  const res = await dl(r.artifacts[0].url!);
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(r.artifacts[0].mediaType, 'image/png');
});

test('replicate image-to-image by version: a large input through /files, a small one inline; create with {version, input}', async () => {
  const f = await fake();
  f.nextJob({ outputAsString: true });
  const p = createReplicateProvider(testCtx(f.baseUrl, KEY));
  assert.equal(p.uploadTtlMs, 24 * 60 * 60 * 1000);
  // Over 256 KB: the files API (multipart `content`).
  const big = new Uint8Array(randomBytes(300 * 1024));
  const url = await p.upload(big, 'image/png');
  assert.match(url, /^https:\/\/api\.replicate\.com\/v1\/files\//);
  const up = [...f.uploads.values()][0];
  assert.equal(Buffer.compare(up.bytes, big), 0);
  assert.equal(up.contentType, 'image/png');
  // Up to 256 KB: a data: URI, no request at all.
  const png = await pngBytes(16, 16, [1, 2, 3]);
  const posts = f.captured.length;
  const inline = await p.upload(png, 'image/png');
  assert.equal(inline, `data:image/png;base64,${png.toString('base64')}`);
  assert.equal(f.captured.length, posts);
  assert.equal(f.uploads.size, 1);
  const model = 'stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc';
  const sub = await p.submit({ model, input: { prompt: 'oil painting', image: url, prompt_strength: 0.7 } });
  const create = f.captured.find((c) => c.method === 'POST' && c.url === '/api.replicate.com/v1/predictions')!;
  assert.deepEqual(JSON.parse(create.body.toString()).version, '7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc');
  const last = (await collect(p.watch({ model, requestId: sub.requestId }, { intervalMs: 1 }))).at(-1)!;
  assert.equal(last.state, 'succeeded');
  const r = await p.result({ model, requestId: sub.requestId });
  assert.equal(r.artifacts.length, 1);
  assert.equal(r.modelVersion, '7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc');
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
  // Without a header, the "resets in ~Ns" of the body is used. The two 429s slowed every
  // request down to the floor of 6 a minute, so this one first waits its 10 s turn.
  f.addFault({ route: 'get', status: 429, body: { detail: 'Request was throttled. Your rate limit resets in ~2s.' } });
  ctx.sleeps.length = 0;
  await p.status({ model: FLUX, requestId: [...f.predictions.keys()][0] });
  assert.deepEqual(ctx.sleeps, [10_000, 2000]);
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

test('replicate: a community owner/name is 404 on the official route, so it runs its latest version via /v1/predictions; the version is recorded and pinned', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = new ReplicateProvider(ctx);
  const model = 'fofr/lighthouse-video';
  const version = f.versionOf(model);
  const calls = (from: number) => f.captured.slice(from).map((c) => `${c.method} ${c.url}`);
  const sub = await p.submit({ model, input: { prompt: 'a lighthouse' } });
  assert.deepEqual(calls(0), [
    `POST /api.replicate.com/v1/models/${model}/predictions`, // 404: official models only
    `GET /api.replicate.com/v1/models/${model}`, // latest_version.id
    'POST /api.replicate.com/v1/predictions',
  ]);
  assert.equal(JSON.parse(f.captured.at(-1)!.body.toString()).version, version);
  assert.equal(f.predictions.size, 1, 'the 404 created nothing');
  assert.equal((await collect(p.watch({ model, requestId: sub.requestId }, { intervalMs: 1 }))).at(-1)!.state, 'succeeded');
  const r = await p.result({ model, requestId: sub.requestId });
  assert.equal(r.modelVersion, version);
  // Re-run pins it; an official model's "hidden" version, or a pinned id, is left alone.
  assert.equal(p.pinModel(model, r.modelVersion!), `${model}:${version}`);
  assert.equal(p.pinModel(FLUX, 'hidden'), undefined);
  assert.equal(p.pinModel(`${model}:${version}`, version), undefined);
  // The next job of that model goes straight to /v1/predictions with the same version.
  let from = f.captured.length;
  await p.submit({ model, input: { prompt: 'again' } });
  assert.deepEqual(calls(from), ['POST /api.replicate.com/v1/predictions']);
  // Ten minutes on, its latest version is read again (the official route is not tried again).
  ctx.clock.t += 11 * 60_000;
  from = f.captured.length;
  await p.submit({ model, input: { prompt: 'later' } });
  assert.deepEqual(calls(from), [`GET /api.replicate.com/v1/models/${model}`, 'POST /api.replicate.com/v1/predictions']);
  // owner/name:version keeps working as before.
  from = f.captured.length;
  await p.submit({ model: `${model}:${version}`, input: { prompt: 'pinned' } });
  assert.deepEqual(calls(from), ['POST /api.replicate.com/v1/predictions']);
  // A model that does not exist: 404 on both, not_found on "model", nothing created.
  const before = f.predictions.size;
  await assert.rejects(p.submit({ model: 'nobody/ghost', input: { prompt: 'x' } }), (e: unknown) => isErr('not_found')(e) && /has no model "nobody\/ghost"/.test((e as ProviderError).message) && (e as ProviderError).fieldErrors?.[0].path[0] === 'model');
  assert.equal(f.predictions.size, before);
});

test('replicate: a 429 with only "resets in ~30s" pauses every request, the queue slows to a few a minute, and the watch goes on', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createReplicateProvider(ctx);
  f.nextJob({ processingSteps: 2 });
  const ref = { model: FLUX, requestId: (await p.submit({ model: FLUX, input: { prompt: 'x' } })).requestId };
  // An account without a payment method: 12 status checks in a row are throttled, no Retry-After.
  f.addFault({ route: 'get', status: 429, body: { detail: 'Request was throttled. Your rate limit resets in ~30s.' }, times: 12 });
  const updates = await collect(p.watch(ref, { intervalMs: 1000, timeoutMs: 30 * 60_000 }));
  assert.equal(updates.at(-1)!.state, 'succeeded', JSON.stringify(updates.at(-1)));
  assert.equal(f.pendingFaults(), 0);
  // Each 429 waited (at least) the 30 s its body named before anything else went out.
  assert.ok(ctx.sleeps.reduce((a, b) => a + b, 0) >= 12 * 30_000, `waited ${ctx.sleeps.join(', ')}`);
  assert.equal(ctx.logs.filter((l) => /HTTP 429; retry \d\/4 in 30000 ms/.test(l)).length, 10); // 4 + 4 + 2: the 5th of a call ends it, the watch goes on
  assert.ok(ctx.logs.some((l) => /Replicate is throttling requests \(HTTP 429\): every Replicate request now waits 30 s, then goes at about 6 a minute/.test(l)), ctx.logs.join('\n'));
  // A submission right after waits its turn under the same ceiling (6 a minute: 10 s apart).
  ctx.sleeps.length = 0;
  await p.submit({ model: FLUX, input: { prompt: 'next' } });
  await p.submit({ model: FLUX, input: { prompt: 'next' } });
  assert.ok(ctx.sleeps.some((ms) => ms > 5000), `the second submission waited: ${ctx.sleeps.join(', ')}`);
});

test('replicate: long predictions are polled less often, up to every 30 s', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createReplicateProvider(ctx);
  f.nextJob({ processingSteps: 60 });
  const ref = { model: FLUX, requestId: (await p.submit({ model: FLUX, input: { prompt: 'a long video' } })).requestId };
  assert.equal((await collect(p.watch(ref, { intervalMs: 1000 }))).at(-1)!.state, 'succeeded');
  const s = ctx.sleeps;
  assert.equal(s[0], 1000);
  assert.equal(Math.max(...s), 30_000);
  assert.ok(s.every((ms, i) => i === 0 || ms >= s[i - 1]), `never faster again: ${s.join(', ')}`);
  // 60 polls at a steady second would have taken a minute; the last ones were 30 s apart.
  assert.ok(s.length < 62);
});

test('replicate: an output given as a data: URI becomes an in-memory artifact', async () => {
  const f = await fake();
  const png = await pngBytes(32, 32, [9, 99, 199]);
  f.nextJob({ output: [`data:image/png;base64,${png.toString('base64')}`] });
  const p = createReplicateProvider(testCtx(f.baseUrl, KEY));
  const ref = { model: FLUX, requestId: (await p.submit({ model: FLUX, input: { prompt: 'x' } })).requestId };
  await collect(p.watch(ref, { intervalMs: 1 }));
  const r = await p.result(ref);
  assert.equal(r.artifacts.length, 1);
  assert.equal(r.artifacts[0].url, undefined);
  assert.equal(r.artifacts[0].mediaType, 'image/png');
  assert.equal(Buffer.compare(Buffer.from(r.artifacts[0].data!), png), 0);
});

test('replicate: outputs deleted after an hour: data_removed, or a 404/410 download of an old prediction, is "expired"; a fresh one is a plain download failure', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY, { now: () => Date.now() });
  const p = new ReplicateProvider(ctx);
  const run = async () => {
    const ref = { model: FLUX, requestId: (await p.submit({ model: FLUX, input: { prompt: 'x' } })).requestId };
    await collect(p.watch(ref, { intervalMs: 1 }));
    return ref;
  };
  const gone = (e: unknown) => isErr('expired')(e) && (e as ProviderError).message === 'Replicate no longer has this output; it keeps outputs for an hour. Retry runs the job again.' && (e as ProviderError).action === 'retry';
  // The prediction says so.
  const a = await run();
  f.removeData(a.requestId);
  await assert.rejects(new ReplicateProvider(ctx).result(a), gone);
  // The prediction does not say so yet, but it ended two hours ago and its file answers 404.
  f.nextJob({ completedAgoMs: 2 * 60 * 60_000 });
  const b = await run();
  const stale = (await p.result(b)).artifacts[0];
  for (const status of [404, 410]) await assert.rejects(p.refreshArtifact(b, stale, status), gone);
  // A prediction that ended a minute ago: the output should be there, so it is a download failure.
  f.nextJob({ completedAgoMs: 60_000 });
  const c = await run();
  await assert.rejects(p.refreshArtifact(c, (await p.result(c)).artifacts[0], 404), (e: unknown) => isErr('bad_output')(e) && /HTTP 404/.test((e as ProviderError).message));
});

test('engine + Replicate: a resumed job whose outputs were deleted fails "expired"; Retry runs it again; a data: URI output is stored', async () => {
  const f = await startReplicateFake({ key: REPLICATE_KEY });
  const r = await rig({ replicateBaseUrl: f.baseUrl });
  try {
    // A job submitted before a restart, whose prediction ended (and was cleaned up) meanwhile.
    const p = createReplicateProvider({ getKey: async () => REPLICATE_KEY, baseUrl: f.baseUrl });
    const sub = await p.submit({ model: FLUX, input: { prompt: 'before the restart' } });
    await collect(p.watch({ model: FLUX, requestId: sub.requestId }, { intervalMs: 1 }));
    f.removeData(sub.requestId);
    const now = new Date().toISOString();
    await r.db.putJob({ id: 'job-resumed', provider: 'replicate', model: FLUX, input: { prompt: 'before the restart' }, state: 'running', requestId: sub.requestId, productIds: [], attempts: 1, createdAt: now, updatedAt: now, submittedAt: now });
    assert.equal(await r.engine.resume(), 1);
    const [failed] = await r.engine.waitFor(['job-resumed']);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.kind, 'expired');
    assert.match(failed.error!.message, /^Replicate no longer has this output; it keeps outputs for an hour\./);
    assert.deepEqual(await listProducts(r.dir), []);
    // Retry submits it again, and this time the output is a data: URI.
    const png = await pngBytes(48, 48, [200, 10, 10]);
    f.nextJob({ output: `data:image/png;base64,${png.toString('base64')}` });
    await r.engine.retry('job-resumed');
    const [done] = await r.engine.waitFor(['job-resumed']);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.notEqual(done.requestId, sub.requestId);
    const product = (await r.db.getProduct(done.productIds[0]))!;
    assert.equal((await sharp(await fs.readFile(path.join(r.dir, product.file))).metadata()).width, 48);
    // A prediction that ended two hours ago whose output answers 404 (the clean-up has not
    // reached the prediction record yet): the engine asks the adapter, which says "expired".
    f.nextJob({ completedAgoMs: 2 * 60 * 60_000 });
    f.addFault({ when: (req) => req.host === 'replicate.delivery', status: 404, body: { detail: 'Not found' } });
    const [old] = await r.engine.submit([{ provider: 'replicate', model: FLUX, input: { prompt: 'an old one' } }]);
    const [expired] = await r.engine.waitFor([old.id]);
    assert.equal(expired.error?.kind, 'expired', JSON.stringify(expired.error));
    assert.equal(f.pendingFaults(), 0);
  } finally {
    await r.close();
    await f.close();
  }
});

test('engine + Replicate: a community model runs by version and the product records it', async () => {
  const f = await startReplicateFake({ key: REPLICATE_KEY });
  const r = await rig({ replicateBaseUrl: f.baseUrl });
  try {
    const [job] = await r.engine.submit([{ provider: 'replicate', model: 'fofr/lighthouse-video', input: { prompt: 'waves' } }]);
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    const product = (await r.db.getProduct(done.productIds[0]))!;
    assert.equal(product.model, 'fofr/lighthouse-video');
    assert.equal(product.modelVersion, f.versionOf('fofr/lighthouse-video'));
    const sidecar = JSON.parse(await fs.readFile(path.join(r.dir, product.file.replace(/\.png$/, '.json')), 'utf8'));
    assert.equal(sidecar.modelVersion, product.modelVersion);
    // Re-run (the gallery's recipesFor with exact: true) runs that very version again.
    const model = exactModel(product, r.registry.get('replicate'));
    assert.equal(model, `fofr/lighthouse-video:${product.modelVersion}`);
    const [again] = await r.engine.submit([{ provider: 'replicate', model, input: product.input }]);
    assert.equal((await r.engine.waitFor([again.id]))[0].state, 'succeeded');
    assert.equal(f.predictions.get((await r.db.getJob(again.id))!.requestId!)!.version, product.modelVersion);
    // Nothing to pin: an official model ("hidden"), or a provider without versions to ask for.
    assert.equal(exactModel({ model: FLUX, modelVersion: undefined }, r.registry.get('replicate')), FLUX);
    assert.equal(exactModel({ model: 'fal-ai/flux/dev', modelVersion: 'abc' }, r.registry.get('fal')), 'fal-ai/flux/dev');
  } finally {
    await r.close();
    await f.close();
  }
});
