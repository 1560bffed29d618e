import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { FalProvider, createFalProvider } from '../../src/providers/fal.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import { createProviderFetch } from '../../src/providers/net/fetch.ts';
import { rewriteUrl } from '../../src/providers/net/url.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { findSecretLeaks, pngBytes } from '../fakes/common.ts';
import { collect, testCtx } from './helpers.ts';

const KEY = '3f2a9c1e-1111-4222-8333-444455556666:0123456789abcdef0123456789abcdef';
const fakes: FalFake[] = [];
async function fake(): Promise<FalFake> {
  const f = await startFalFake({ key: KEY });
  fakes.push(f);
  return f;
}
after(async () => {
  // Every byte every fal fake received in this file: the key only ever in Authorization.
  const leaks = fakes.flatMap((f) => findSecretLeaks(f.captured, KEY));
  assert.deepEqual(leaks, []);
  assert.ok(fakes.some((f) => f.captured.some((c) => c.headers.authorization === `Key ${KEY}`)), 'the key was sent where it belongs');
  await Promise.all(fakes.map((f) => f.close()));
});

function isErr(kind: ProviderError['kind']) {
  return (e: unknown) => e instanceof ProviderError && e.kind === kind;
}

async function download(url: string, baseUrl: string): Promise<Buffer> {
  const f = createProviderFetch('fal', testCtx(baseUrl, KEY), 'call');
  const res = await f(url);
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

test('fal text-to-image: submit, watch through queue and progress with logs, result with a real PNG', async () => {
  const f = await fake();
  f.plan({ queueSteps: 2, progressSteps: 2, logs: ['step 1', 'step 2'] });
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createFalProvider(ctx);
  const sub = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'a red fox', seed: 7 } });
  assert.ok(f.jobs.has(sub.requestId));
  const updates = await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: sub.requestId }, { intervalMs: 5 }));
  assert.deepEqual(updates.map((u) => u.state), ['submitted', 'submitted', 'running', 'running', 'succeeded']);
  assert.deepEqual(updates.map((u) => u.queuePosition), [1, 0, undefined, undefined, undefined]);
  assert.deepEqual(updates.flatMap((u) => u.logs ?? []), ['step 1', 'step 2']);
  assert.deepEqual(ctx.sleeps, [5, 5, 5, 5]);
  const r = await p.result({ model: 'fal-ai/flux/dev', requestId: sub.requestId });
  assert.equal(r.seed, 7);
  assert.equal(r.artifacts.length, 1);
  assert.equal(r.artifacts[0].mediaType, 'image/png');
  assert.equal(r.artifacts[0].kind, 'image');
  assert.equal(r.timings?.inference, 0.42);
  assert.deepEqual(r.nsfw, [false]);
  assert.match(r.artifacts[0].url!, /^https:\/\/v3\.fal\.media\//);
  const bytes = await download(r.artifacts[0].url!, f.baseUrl);
  assert.equal((await sharp(bytes).metadata()).format, 'png');
  // The client used the full endpoint id for submit and owner/alias for the rest.
  assert.ok(f.captured.some((c) => c.method === 'POST' && c.url === '/queue.fal.run/fal-ai/flux/dev'));
  assert.ok(f.captured.some((c) => c.url.startsWith(`/queue.fal.run/fal-ai/flux/requests/${sub.requestId}/status?logs=1`)));
});

test('fal image-to-image: upload through fal storage (initiate + PUT), then submit with the file URL', async () => {
  const f = await fake();
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const png = await pngBytes(32, 32, [10, 200, 30]);
  const url = await p.upload(png, 'image/png');
  assert.match(url, /^https:\/\/v3\.fal\.media\/files\/uploads\//);
  const stored = [...f.uploads.values()].find((u) => u.bytes.length > 0);
  assert.ok(stored && Buffer.compare(stored.bytes, png) === 0, 'the fake received the exact bytes');
  const put = f.captured.find((c) => c.method === 'PUT');
  assert.ok(put && put.headers.authorization === undefined, 'the signed upload PUT carries no key');
  // The upload asks to live a day, and the adapter says so to the engine's upload cache.
  assert.deepEqual(stored.lifecycle, { expiration_duration_seconds: 86_400 });
  assert.equal(p.uploadTtlMs, 86_400_000);
  const model = 'fal-ai/flux/dev/image-to-image';
  const sub = await p.submit({ model, input: { prompt: 'as a watercolour', image_url: url, strength: 0.8 } });
  const updates = await collect(p.watch({ model, requestId: sub.requestId }, { intervalMs: 1 }));
  assert.equal(updates.at(-1)?.state, 'succeeded');
  const r = await p.result({ model, requestId: sub.requestId });
  assert.equal(r.artifacts.length, 1);
  assert.equal(f.jobs.get(sub.requestId)?.input.image_url, url);
});

test('fal: a wrong key ends in auth, a missing key too (without any request)', async () => {
  const f = await fake();
  const p = createFalProvider(testCtx(f.baseUrl, 'not-the-key'));
  await assert.rejects(p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } }), (e: unknown) => isErr('auth')(e) && (e as ProviderError).action === 'set-key');
  await assert.rejects(p.testConnection(), isErr('auth'));
  const n = f.captured.length;
  await assert.rejects(createFalProvider(testCtx(f.baseUrl, undefined)).submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } }), isErr('auth'));
  assert.equal(f.captured.length, n);
  await createFalProvider(testCtx(f.baseUrl, KEY)).testConnection();
});

test('fal: 422 becomes validation with field paths relative to the input', async () => {
  const f = await fake();
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  await assert.rejects(p.submit({ model: 'fal-ai/flux/dev', input: { num_images: 9 } }), (e: unknown) => {
    assert.ok(e instanceof ProviderError);
    assert.equal(e.kind, 'validation');
    assert.deepEqual(e.fieldErrors?.map((x) => x.path), [['prompt'], ['num_images']]);
    assert.match(e.message, /num_images: Input should be less than or equal to 4/);
    return true;
  });
  await assert.rejects(p.submit({ model: '../etc/passwd', input: { prompt: 'x' } }), isErr('validation'));
});

test('fal: 429 on submit waits exactly Retry-After (3 s → one 3000 ms sleep), then submits once', async () => {
  const f = await fake();
  f.addFault({ route: 'submit', status: 429, body: { detail: 'Too many requests' }, headers: { 'retry-after': '3' } });
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createFalProvider(ctx);
  const sub = await p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } });
  assert.ok(sub.requestId);
  assert.deepEqual(ctx.sleeps, [3000]);
  assert.equal(f.jobs.size, 1);
  assert.equal(f.captured.filter((c) => c.method === 'POST').length, 2);
});

test('fal: 429 with an HTTP-date Retry-After is measured on the injected clock', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  f.addFault({ route: 'status', status: 429, headers: { 'retry-after': new Date(ctx.clock.t + 5000).toUTCString() } });
  const p = createFalProvider(ctx);
  const sub = await p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } });
  await p.status({ model: 'fal-ai/flux/schnell', requestId: sub.requestId });
  assert.equal(ctx.sleeps.length, 1);
  assert.ok(ctx.sleeps[0] > 4000 && ctx.sleeps[0] <= 5000, `slept ${ctx.sleeps[0]}`);
});

test('fal: 5xx bursts on status are retried with backoff; a longer outage ends in provider_down', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createFalProvider(ctx);
  const sub = await p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } });
  const ref = { model: 'fal-ai/flux/schnell', requestId: sub.requestId };
  f.addFault({ route: 'status', status: 503, body: { detail: 'No runner', error_type: 'runner_scheduling_failure' }, times: 2 });
  const u = await p.status(ref);
  assert.equal(u.state, 'submitted');
  assert.deepEqual(ctx.sleeps, [250, 500]); // full jitter with random()=0.5 of 500, 1000
  ctx.sleeps.length = 0;
  f.addFault({ route: 'status', status: 502, times: Infinity });
  const before = f.captured.length;
  await assert.rejects(p.status(ref), (e: unknown) => isErr('provider_down')(e) && (e as ProviderError).action === 'retry');
  assert.deepEqual(ctx.sleeps, [250, 500, 1000, 2000]);
  // Exactly our 5 attempts: the client's own retry loop (up to 5 more per call) never ran.
  assert.equal(f.captured.length - before, 5);
});

test('fal: a 5xx on submit is not retried (it may have been accepted)', async () => {
  const f = await fake();
  f.addFault({ route: 'submit', status: 500, body: { detail: 'boom' } });
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  await assert.rejects(p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } }), (e: unknown) => isErr('provider_down')(e) && (e as ProviderError).maybeAccepted === true);
  assert.equal(f.captured.filter((c) => c.method === 'POST').length, 1);
});

test('fal: malformed JSON is bad_response; a dropped connection on status is network after retries', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createFalProvider(ctx);
  f.addFault({ route: 'submit', malformed: true });
  await assert.rejects(p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } }), isErr('bad_response'));
  const sub = await p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } });
  f.addFault({ route: 'status', drop: true, times: Infinity });
  await assert.rejects(p.status({ model: 'fal-ai/flux/schnell', requestId: sub.requestId }), isErr('network'));
  assert.equal(ctx.sleeps.length, 4);
});

test('fal: connection refused ends in network with an actionable message', async () => {
  const f = await startFalFake({ key: KEY });
  const base = f.baseUrl;
  await f.close();
  const p = createFalProvider(testCtx(base, KEY));
  await assert.rejects(p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } }), (e: unknown) => {
    assert.ok(e instanceof ProviderError && e.kind === 'network');
    assert.match(e.message, /ECONNREFUSED/);
    assert.equal(e.maybeAccepted, false);
    return true;
  });
});

test('fal: COMPLETED but the result call fails → failed with the error (fal has no failed state)', async () => {
  const f = await fake();
  f.nextJob({ fail: { status: 500, body: { detail: 'CUDA out of memory', error_type: 'internal_error' } } });
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createFalProvider(ctx);
  const sub = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } });
  const updates = await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: sub.requestId }, { intervalMs: 1 }));
  const last = updates.at(-1)!;
  assert.equal(last.state, 'failed');
  assert.equal(last.providerStatus, 'COMPLETED');
  assert.equal(last.error?.kind, 'failed');
  assert.match(last.error!.message, /CUDA out of memory/);
  // A model-level 422 on the result keeps its field paths.
  f.nextJob({ fail: { status: 422, body: { detail: [{ loc: ['body', 'image_size'], msg: 'too large', type: 'value_error' }] } } });
  const sub2 = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } });
  const u2 = (await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: sub2.requestId }, { intervalMs: 1 }))).at(-1)!;
  assert.equal(u2.error?.kind, 'validation');
  assert.deepEqual(u2.error?.fieldErrors?.[0].path, ['image_size']);
  await assert.rejects(p.result({ model: 'fal-ai/flux/dev', requestId: sub2.requestId }), isErr('validation'));
});

test('fal: cancel mid-run reaches the fake and the job ends canceled', async () => {
  const f = await fake();
  f.nextJob({ queueSteps: 1, progressSteps: 100 });
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const ref = { model: 'fal-ai/flux/dev', requestId: (await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } })).requestId };
  const states: string[] = [];
  for await (const u of p.watch(ref, { intervalMs: 1 })) {
    states.push(u.state);
    if (u.state === 'running' && !f.cancels.length) await p.cancel(ref);
  }
  assert.deepEqual(f.cancels, [ref.requestId]);
  assert.equal(states.at(-1), 'canceled');
  assert.ok(f.captured.some((c) => c.method === 'PUT' && c.url === `/queue.fal.run/fal-ai/flux/requests/${ref.requestId}/cancel`));
  // Canceling a finished job is not an error.
  await p.cancel(ref);
});

test('fal: aborting the watch signal stops polling with canceled, and reaches the HTTP request', async () => {
  const f = await fake();
  f.nextJob({ progressSteps: 1000 });
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const ref = { model: 'fal-ai/flux/dev', requestId: (await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } })).requestId };
  const ac = new AbortController();
  let n = 0;
  await assert.rejects(
    (async () => {
      for await (const _u of p.watch(ref, { intervalMs: 1, signal: ac.signal })) if (++n === 3) ac.abort();
    })(),
    isErr('canceled'),
  );
  assert.equal(n, 3);
  // A request already in flight is aborted too.
  f.addFault({ route: 'status', delayMs: 2000, status: 200, body: {} });
  const ac2 = new AbortController();
  const pending = p.status(ref, ac2.signal);
  setTimeout(() => ac2.abort(), 20);
  await assert.rejects(pending, isErr('canceled'));
});

test('fal: a fresh adapter resumes from the persisted request id', async () => {
  const f = await fake();
  f.nextJob({ queueSteps: 2, progressSteps: 2 });
  const first = createFalProvider(testCtx(f.baseUrl, KEY));
  const sub = await first.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'resume me' } });
  const persisted = JSON.parse(JSON.stringify({ model: 'fal-ai/flux/dev', requestId: sub.requestId, handle: sub.handle })) as { model: string; requestId: string; handle: Record<string, string> };
  await first.status(persisted);
  const fresh = new FalProvider(testCtx(f.baseUrl, KEY));
  const updates = await collect(fresh.watch(persisted, { intervalMs: 1 }));
  assert.equal(updates.at(-1)?.state, 'succeeded');
  const r = await fresh.result(persisted);
  assert.equal(r.artifacts.length, 1);
});

test('fal: the overall timeout ends a slow job in failed/timeout', async () => {
  const f = await fake();
  f.nextJob({ queueSteps: 1000 });
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createFalProvider(ctx);
  const ref = { model: 'fal-ai/flux/dev', requestId: (await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } })).requestId };
  const updates = await collect(p.watch(ref, { intervalMs: 1000, timeoutMs: 5000 }));
  const last = updates.at(-1)!;
  assert.equal(last.state, 'failed');
  assert.equal(last.error?.kind, 'timeout');
  assert.equal(ctx.sleeps.reduce((a, b) => a + b, 0), 5000);
});

test('fal: input schema from the endpoint OpenAPI, self-contained; custom model description', async () => {
  const f = await fake();
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const schema = await p.getInputSchema('fal-ai/some/new-model/image-to-image');
  assert.ok(!JSON.stringify(schema).includes('$ref'));
  const props = schema.properties as Record<string, Record<string, unknown>>;
  assert.deepEqual(props.output_format.enum, ['jpeg', 'png']);
  assert.deepEqual(props.seed.type, ['integer', 'null']);
  assert.deepEqual(schema.required, ['prompt', 'image_url']);
  const info = await p.describeModel('fal-ai/some/new-model/image-to-image');
  assert.equal(info.promptField, 'prompt');
  assert.equal(info.seedField, 'seed');
  assert.deepEqual(info.imageFields, ['image_url']);
  assert.ok(info.capabilities.includes('image-to-image'));
  await assert.rejects(p.getInputSchema('fal-ai/does-not-exist'), isErr('not_found'));
  assert.ok(f.captured.some((c) => c.url === `/fal.ai/api/openapi/queue/openapi.json?endpoint_id=${encodeURIComponent('fal-ai/some/new-model/image-to-image')}`));
});

test('fal: catalog entries carry prompt/seed/image fields', () => {
  const models = createFalProvider(testCtx('http://127.0.0.1:9', KEY)).listModels();
  assert.ok(models.length >= 5);
  const i2i = models.find((m) => m.id === 'fal-ai/flux/dev/image-to-image')!;
  assert.deepEqual(i2i.imageFields, ['image_url']);
  assert.ok(models.some((m) => m.capabilities.includes('video')));
  assert.equal(rewriteUrl('https://fal.ai/x', undefined), 'https://fal.ai/x');
});

test('fal fake: truncated and oversized downloads are served as scripted', async () => {
  const f = await fake();
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const ref = { model: 'fal-ai/flux/dev', requestId: (await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } })).requestId };
  await collect(p.watch(ref, { intervalMs: 1 }));
  const r = await p.result(ref);
  const path = new URL(rewriteUrl(r.artifacts[0].url!, f.baseUrl)).pathname;
  const file = f.files.get(path)!;
  file.truncateAt = 10;
  const fetcher = createProviderFetch('fal', testCtx(f.baseUrl, KEY), 'call');
  const res = await fetcher(r.artifacts[0].url!);
  await assert.rejects(res.arrayBuffer());
  f.files.set(path, { bytes: new Uint8Array(3 * 1024 * 1024), contentType: 'image/png' });
  const big = await fetcher(r.artifacts[0].url!);
  assert.equal(big.headers.get('content-length'), String(3 * 1024 * 1024));
  await big.arrayBuffer();
});

test('fal: sync_mode data: URI outputs become in-memory artifacts', async () => {
  const f = await fake();
  const png = await pngBytes(8, 8, [9, 9, 9]);
  f.nextJob({ output: { images: [{ url: `data:image/png;base64,${png.toString('base64')}`, width: 8, height: 8, content_type: 'image/png' }], seed: 5 } });
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const ref = { model: 'fal-ai/flux/schnell', requestId: (await p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x', sync_mode: true } })).requestId };
  await collect(p.watch(ref, { intervalMs: 1 }));
  const r = await p.result(ref);
  assert.equal(r.artifacts[0].url, undefined);
  assert.equal(Buffer.compare(Buffer.from(r.artifacts[0].data!), png), 0);
  assert.equal(r.artifacts[0].mediaType, 'image/png');
  // An output with no files at all is bad_output, not success.
  f.nextJob({ output: { images: [] } });
  const ref2 = { model: 'fal-ai/flux/schnell', requestId: (await p.submit({ model: 'fal-ai/flux/schnell', input: { prompt: 'x' } })).requestId };
  const last = (await collect(p.watch(ref2, { intervalMs: 1 }))).at(-1)!;
  assert.equal(last.state, 'failed');
  assert.equal(last.error?.kind, 'bad_output');
});

test('fal: a runner error on the result (5xx, x-fal-request-id, error type) is asked for twice at most and quoted', async () => {
  const f = await fake();
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const results = (id: string) => f.captured.filter((c) => c.method === 'GET' && c.url.endsWith(`/requests/${id}`)).length;
  // The type in the header and the body (docs "Request Error Types").
  f.nextJob({ fail: { status: 503, body: { detail: 'Runner disconnected unexpectedly', error_type: 'runner_disconnected' }, headers: { 'x-fal-error-type': 'runner_disconnected' } } });
  const a = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } });
  const ua = (await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: a.requestId }, { intervalMs: 1 }))).at(-1)!;
  assert.equal(ua.state, 'failed');
  assert.equal(ua.error?.kind, 'failed');
  assert.equal(ua.error?.message, 'The fal.ai run failed on fal\'s side: "Runner disconnected unexpectedly" (runner_disconnected, HTTP 503). fal retries such failures itself before giving up, and does not bill them; retry the job later.');
  assert.doesNotMatch(ua.error!.message, /key and input were not the problem/);
  assert.equal(results(a.requestId), 2);
  // Only in the header (a 504 request_timeout), read by a fresh adapter's result(): twice again.
  f.nextJob({ fail: { status: 504, body: { detail: 'Request timed out' }, headers: { 'x-fal-error-type': 'request_timeout' } } });
  const b = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } });
  await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: b.requestId }, { intervalMs: 1 }));
  await assert.rejects(new FalProvider(testCtx(f.baseUrl, KEY)).result({ model: 'fal-ai/flux/dev', requestId: b.requestId }), (e: unknown) => isErr('failed')(e) && /"Request timed out" \(request_timeout, HTTP 504\)/.test((e as ProviderError).message));
  assert.equal(results(b.requestId), 4);
  // A gateway 502 without x-fal-request-id is still ridden out as before.
  f.addFault({ route: 'result', status: 502, times: 3 });
  const c = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } });
  assert.equal((await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: c.requestId }, { intervalMs: 1 }))).at(-1)!.state, 'succeeded');
});

test('fal: a 404 for the result of a request we submitted says it expired, not "check the model id"', async () => {
  const f = await fake();
  const p = createFalProvider(testCtx(f.baseUrl, KEY));
  const gone = (e: unknown) => isErr('expired')(e) && /no longer has the result of this request: it keeps results for an hour/.test((e as ProviderError).message) && !/model id/.test((e as ProviderError).message) && (e as ProviderError).action === 'retry';
  // Read later by a fresh adapter (a resumed job).
  const a = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } });
  await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: a.requestId }, { intervalMs: 1 }));
  f.expireResult(a.requestId);
  await assert.rejects(new FalProvider(testCtx(f.baseUrl, KEY)).result({ model: 'fal-ai/flux/dev', requestId: a.requestId }), gone);
  // Met while watching: the job ends failed with the same, after a single result call.
  const b = await p.submit({ model: 'fal-ai/flux/dev', input: { prompt: 'x' } });
  f.expireResult(b.requestId);
  const last = (await collect(p.watch({ model: 'fal-ai/flux/dev', requestId: b.requestId }, { intervalMs: 1 }))).at(-1)!;
  assert.equal(last.state, 'failed');
  assert.ok(gone(last.error), last.error?.message);
  assert.equal(f.captured.filter((c) => c.method === 'GET' && c.url.endsWith(`/requests/${b.requestId}`)).length, 1);
});

test('fal: a custom model is titled from the models API (display name), never "Queue OpenAPI for …"; the id when that fails', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createFalProvider(ctx);
  const id = 'fal-ai/some/new-model/image-to-image';
  f.displayNames.set(id, 'New Model Image-to-Image');
  const info = await p.describeModel(id);
  assert.equal(info.title, 'New Model Image-to-Image');
  assert.equal(info.description, 'Fake New Model Image-to-Image');
  const call = f.captured.find((c) => c.url.startsWith('/api.fal.ai/v1/models'))!;
  assert.equal(call.url, `/api.fal.ai/v1/models?endpoint_id=${encodeURIComponent(id)}`);
  assert.equal(call.headers.authorization, `Key ${KEY}`);
  // Not listed, or the models API failing (twice at most): the id, and describeModel still works.
  assert.equal((await p.describeModel('fal-ai/unlisted/model')).title, 'fal-ai/unlisted/model');
  f.addFault({ route: 'models', status: 500, body: { detail: 'boom' }, times: 5 });
  const before = f.captured.length;
  const fallback = await p.describeModel(id);
  assert.equal(fallback.title, id);
  assert.deepEqual(fallback.imageFields, ['image_url']);
  assert.equal(f.captured.slice(before).filter((c) => c.url.startsWith('/api.fal.ai/')).length, 2);
  assert.ok(ctx.logs.some((l) => /no metadata for fal-ai\/some\/new-model\/image-to-image from the models API/.test(l)));
  for (const m of [info, fallback]) assert.doesNotMatch(m.title, /Queue OpenAPI/);
});
