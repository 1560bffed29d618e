import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { CivitaiProvider, MAX_UNAVAILABLE_POLLS, createCivitaiProvider } from '../../src/providers/civitai/adapter.ts';
import { parseAir } from '../../src/providers/civitai/air.ts';
import { civitaiInputSchema } from '../../src/providers/civitai/input.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import { createProviderFetch } from '../../src/providers/net/fetch.ts';
import { expandJobs, parseParamFile, validateInput } from '../../src/engine/paramFile.ts';
import { addLora } from '../../src/engine/civitaiParams.ts';
import { startCivitaiFake, type CivitaiFake } from '../fakes/civitai.ts';
import { findSecretLeaks, pngBytes } from '../fakes/common.ts';
import { CIVITAI_KEY, listProducts, rig } from '../engine/helpers.ts';
import { collect, testCtx } from './helpers.ts';

const KEY = CIVITAI_KEY;
const SDXL = 'urn:air:sdxl:checkpoint:civitai:101055@128078';
const SD1 = 'urn:air:sd1:checkpoint:civitai:4384@128713';
// A LoRA of the fake's site catalog (model 200002 is a LORA with one version, 2000020).
const LORA = 'urn:air:sdxl:lora:civitai:200002@2000020';

const fakes: CivitaiFake[] = [];
async function fake(opts: Parameters<typeof startCivitaiFake>[0] = {}): Promise<CivitaiFake> {
  const f = await startCivitaiFake({ key: KEY, ...opts });
  fakes.push(f);
  return f;
}
after(async () => {
  // Every byte every Civitai fake received in this file: the token only in Authorization.
  const leaks = fakes.flatMap((f) => findSecretLeaks(f.captured, KEY));
  assert.deepEqual(leaks, []);
  assert.ok(fakes.some((f) => f.captured.some((c) => c.headers.authorization === `Bearer ${KEY}`)), 'the token reached the fakes in the Authorization header');
  await Promise.all(fakes.map((f) => f.close()));
});

/** A ProviderError of this kind (and, when given, meeting `also`). */
function isErr(kind: ProviderError['kind'], also: (e: ProviderError) => boolean = () => true) {
  return (e: unknown) => e instanceof ProviderError && e.kind === kind && also(e);
}
const posts = (f: CivitaiFake) => f.captured.filter((c) => c.method === 'POST').length;

test('civitai text-to-image with a checkpoint AIR and a LoRA: the exact body, scheduled → processing → succeeded, a real PNG', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createCivitaiProvider(ctx);
  const sub = await p.submit({
    model: SDXL,
    input: { prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', steps: 25, cfgScale: 7, width: 64, height: 64, seed: 42, scheduler: 'eulerA', loras: [{ air: LORA, strength: 0.8 }] },
  });
  assert.match(sub.requestId, /^wf_[0-9A-F]+$/);
  const create = f.captured.find((c) => c.method === 'POST')!;
  assert.equal(create.url, '/orchestration.civitai.com/v2/consumer/workflows?wait=0');
  assert.equal(create.headers.authorization, `Bearer ${KEY}`);
  assert.equal(create.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(create.body.toString()), {
    steps: [
      {
        $type: 'textToImage',
        input: {
          model: SDXL,
          prompt: 'a lighthouse at dusk',
          negativePrompt: 'blurry',
          steps: 25,
          cfgScale: 7,
          width: 64,
          height: 64,
          seed: 42,
          scheduler: 'eulerA',
          additionalNetworks: { [LORA]: { strength: 0.8 } },
        },
      },
    ],
    tags: ['art-factory'],
    allowMatureContent: false,
  });
  const updates = await collect(p.watch({ model: SDXL, requestId: sub.requestId }, { intervalMs: 7 }));
  assert.deepEqual(updates.map((u) => u.state), ['submitted', 'running', 'succeeded']);
  assert.deepEqual(updates.map((u) => u.providerStatus), ['scheduled', 'processing', 'succeeded']);
  assert.equal(updates[0].queuePosition, 1);
  assert.equal(updates[1].progress, 1);
  assert.deepEqual(updates.flatMap((u) => u.logs ?? []), [`workflow ${sub.requestId}: scheduled`, `workflow ${sub.requestId}: processing`, `workflow ${sub.requestId}: succeeded`]);
  // Civitai's guide cadence: 2 s, then 5 s (…10, 15, then every 30 s).
  assert.deepEqual(ctx.sleeps, [2000, 5000]);
  const r = await p.result({ model: SDXL, requestId: sub.requestId });
  assert.equal(r.artifacts.length, 1);
  assert.match(r.artifacts[0].url!, /^https:\/\/orchestration\.civitai\.com\/v2\/consumer\/blobs\/[0-9A-F]+\.png\?sig=/);
  assert.equal(r.artifacts[0].mediaType, 'image/png');
  assert.equal(r.artifacts[0].width, 64);
  assert.equal(r.seed, 42);
  assert.deepEqual(r.cost, { amount: 8, currency: 'Buzz' });
  // Queue and run time, from the workflow's own timestamps (the fake's clock steps 1.5 s).
  const w = f.workflows.get(sub.requestId)!;
  const at = (iso: string | undefined) => Date.parse(iso!) / 1000;
  assert.deepEqual(r.timings, { queue: at(w.startedAt) - at(w.createdAt), run: at(w.completedAt) - at(w.startedAt) });
  assert.ok(r.timings.queue > 0 && r.timings.run > 0, JSON.stringify(r.timings));
  assert.equal(r.modelVersion, SDXL);
  // The signed blob URL downloads without credentials, like the engine does it.
  const res = await createProviderFetch('civitai', testCtx(f.baseUrl, undefined), 'download')(r.artifacts[0].url!);
  assert.equal((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format, 'png');
  const download = f.captured.at(-1)!;
  assert.equal(download.headers.authorization, undefined);
});

test('civitai: a missing seed gets a recorded random one; quantity × batchSize images become artifacts', async () => {
  const f = await fake();
  const p = new CivitaiProvider(testCtx(f.baseUrl, KEY)); // random() is 0.5
  const sub = await p.submit({ model: SD1, input: { prompt: 'a fox', quantity: 2, batchSize: 2 } });
  assert.equal(f.workflows.get(sub.requestId)!.input.seed, 1073741823);
  assert.equal((await collect(p.watch({ model: SD1, requestId: sub.requestId }, { intervalMs: 1 }))).at(-1)!.state, 'succeeded');
  const r = await p.result({ model: SD1, requestId: sub.requestId });
  assert.equal(r.seed, 1073741823);
  assert.equal(r.artifacts.length, 4);
  assert.equal(new Set(r.artifacts.map((a) => a.url)).size, 4);
});

test('civitai image-to-image: upload gives a data: URI that goes in sourceImage; an https URL passes through', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  const png = await pngBytes(16, 16, [1, 2, 3]);
  const uri = await p.upload(png, 'image/png');
  assert.equal(uri, `data:image/png;base64,${png.toString('base64')}`);
  assert.equal(p.uploadTtlMs, Infinity, 'an inline upload never expires');
  const sub = await p.submit({ model: SD1, input: { prompt: 'oil painting', sourceImage: uri, sourceImageDenoiseStrenght: 0.6, seed: 3 } });
  assert.equal(f.workflows.get(sub.requestId)!.input.sourceImage, uri);
  assert.equal(f.workflows.get(sub.requestId)!.input.sourceImageDenoiseStrenght, 0.6);
  assert.equal((await collect(p.watch({ model: SD1, requestId: sub.requestId }, { intervalMs: 1 }))).at(-1)!.state, 'succeeded');
  assert.equal((await p.result({ model: SD1, requestId: sub.requestId })).artifacts.length, 1);
  const sub2 = await p.submit({ model: SD1, input: { prompt: 'x', sourceImage: 'https://image.civitai.com/abc/source.jpeg' } });
  assert.equal(f.workflows.get(sub2.requestId)!.input.sourceImage, 'https://image.civitai.com/abc/source.jpeg');
  await assert.rejects(p.upload(new Uint8Array(4), 'text/plain'), isErr('validation'));
  // The fake refuses what Civitai documents as invalid: a source image that is no URL.
  await assert.rejects(p.submit({ model: SD1, input: { prompt: 'x', sourceImage: 'C:/pictures/me.png' } }), (e: unknown) => {
    assert.ok(e instanceof ProviderError && e.kind === 'validation', 'a validation error');
    assert.deepEqual(e.fieldErrors?.map((x) => x.path), [['sourceImage']]);
    return true;
  });
});

test('civitai: a wrong token ends in auth (never echoed); testConnection uses QueryWorkflows take=1; no token sends nothing', async () => {
  const f = await fake();
  const bad = createCivitaiProvider(testCtx(f.baseUrl, 'civitai-wrong-token-zzzzzzzz'));
  await assert.rejects(bad.submit({ model: SDXL, input: { prompt: 'x' } }), isErr('auth'));
  await assert.rejects(bad.testConnection(), isErr('auth', (e) => e.status === 401 && !e.message.includes('civitai-wrong') && e.action === 'set-key'));
  await createCivitaiProvider(testCtx(f.baseUrl, KEY)).testConnection();
  assert.ok(f.captured.some((c) => c.url === '/orchestration.civitai.com/v2/consumer/workflows?take=1' && c.headers.authorization === `Bearer ${KEY}`), 'testConnection calls QueryWorkflows with the token');
  const before = f.captured.length;
  await assert.rejects(createCivitaiProvider(testCtx(f.baseUrl, undefined)).submit({ model: SDXL, input: { prompt: 'x' } }), isErr('auth', (e) => /CIVITAI_API_TOKEN/.test(e.message)));
  assert.equal(f.captured.length, before);
});

test('civitai: bad AIRs are validation errors on "model" before anything is sent', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  const cases = ['sdxl/checkpoint', 'urn:air:sdxl:checkpoint:civitai:101055', 'urn:air:SDXL:checkpoint:civitai:101055@128078', 'urn:air:sdxl:checkpoint:civitai:abc@1', 'air:sdxl:checkpoint:civitai:1@2', ''];
  for (const model of cases) {
    await assert.rejects(p.submit({ model, input: { prompt: 'x' } }), (e: unknown) => {
      assert.ok(e instanceof ProviderError && e.kind === 'validation', model);
      assert.deepEqual(e.fieldErrors?.[0].path, ['model']);
      return true;
    });
  }
  await assert.rejects(p.submit({ model: LORA, input: { prompt: 'x' } }), isErr('validation', (e) => /input\.loras/.test(e.message)));
  await assert.rejects(p.submit({ model: SDXL, input: { prompt: 'x', loras: [{ air: 'not-an-air' }, { air: SDXL }, { air: LORA, strength: 'strong' }], model: SDXL } }), (e: unknown) => {
    assert.ok(e instanceof ProviderError && e.kind === 'validation', 'a validation error');
    assert.deepEqual(e.fieldErrors?.map((x) => x.path), [['model'], ['loras', 0, 'air'], ['loras', 1, 'air'], ['loras', 2, 'strength']]);
    return true;
  });
  assert.equal(posts(f), 0);
  assert.deepEqual(parseAir('urn:air:sdxl:checkpoint:civitai:827184@2514310+2402203'), { ecosystem: 'sdxl', type: 'checkpoint', source: 'civitai', id: '827184', version: '2514310', fileId: '2402203', format: undefined });
  assert.equal(parseAir('urn:air:other:upscaler:civitai-r2:civitai-worker-assets@sam_vit_b_01ec64.pth').source, 'civitai-r2');
});

test('civitai: 400 ProblemDetails field errors become paths relative to the input (LoRA networks point back at loras)', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  await assert.rejects(p.submit({ model: SDXL, input: { negativePrompt: 'x', steps: 200, width: 10 } }), (e: unknown) => {
    assert.ok(e instanceof ProviderError && e.kind === 'validation', 'a validation error');
    assert.equal(e.status, 400);
    assert.deepEqual(e.fieldErrors?.map((x) => x.path), [['prompt'], ['steps'], ['width']]);
    assert.match(e.message, /steps: The field steps must be between 1 and 150/);
    assert.equal(e.action, 'fix-input');
    return true;
  });
  f.addFault({ route: 'submit', status: 422, body: { title: 'One or more validation errors occurred.', status: 422, errors: { [`steps[0].input.additionalNetworks.${LORA}`]: ['Resource is not available for generation.'] } } });
  await assert.rejects(p.submit({ model: SDXL, input: { prompt: 'x', loras: [{ air: LORA }] } }), (e: unknown) => {
    assert.ok(e instanceof ProviderError && e.kind === 'validation' && e.status === 422, 'a 422 validation error');
    assert.deepEqual(e.fieldErrors, [{ path: ['loras', 0, 'air'], message: 'Resource is not available for generation.' }]);
    return true;
  });
  // Unknown fields are refused by Civitai (additionalProperties: false).
  await assert.rejects(p.submit({ model: SDXL, input: { prompt: 'x', guidance_scale: 3 } }), isErr('validation', (e) => e.fieldErrors?.[0].path[0] === 'guidance_scale'));
  // The fake itself refuses a bad AIR the way Civitai documents it (our adapter never sends one).
  const raw = await fetch(`${f.baseUrl}/orchestration.civitai.com/v2/consumer/workflows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ steps: [{ $type: 'textToImage', input: { model: 'not an air', prompt: 'x' } }] }),
  });
  assert.equal(raw.status, 400);
  assert.deepEqual(Object.keys(((await raw.json()) as { errors: object }).errors), ['steps[0].input.model']);
  // A 403 about Buzz is a quota problem.
  f.addFault({ route: 'submit', status: 403, body: { title: 'Forbidden', status: 403, detail: 'Insufficient Buzz to run this workflow.' } });
  await assert.rejects(p.submit({ model: SDXL, input: { prompt: 'x' } }), isErr('quota', (e) => e.action === 'top-up'));
});

test('civitai: 429 honours Retry-After (seconds and HTTP dates on the injected clock); endless throttling ends rate_limited', async () => {
  const f = await fake();
  // Limits high enough that only Retry-After decides the waits (Civitai's default is 10 creates/min).
  const limits = { createsPerMinute: 60_000, callsPerMinute: 60_000 };
  const ctx = testCtx(f.baseUrl, KEY, { limits });
  const p = createCivitaiProvider(ctx);
  f.addFault({ route: 'submit', status: 429, headers: { 'retry-after': '3' }, body: { title: 'Too Many Requests', status: 429 }, times: 2 });
  const sub = await p.submit({ model: SDXL, input: { prompt: 'x' } });
  assert.deepEqual(ctx.sleeps, [3000, 3000]);
  assert.equal(posts(f), 3);
  assert.equal(f.workflows.size, 1);
  ctx.sleeps.length = 0;
  // An hour later (the limiter slowed down by the 429s has recovered).
  ctx.clock.t += 60 * 60_000;
  f.addFault({ route: 'get', status: 429, headers: { 'retry-after': new Date(ctx.clock.t + 5000).toUTCString() } });
  await p.status({ model: SDXL, requestId: sub.requestId });
  assert.deepEqual(ctx.sleeps, [5000]);
  const ctx2 = testCtx(f.baseUrl, KEY, { limits });
  f.addFault({ route: 'submit', status: 429, headers: { 'retry-after': '1' }, times: Infinity });
  const before = posts(f);
  await assert.rejects(new CivitaiProvider(ctx2, { retry: { maxAttempts: 3 } }).submit({ model: SDXL, input: { prompt: 'x' } }), isErr('rate_limited', (e) => e.retryAfterMs === 1000 && e.action === 'wait'));
  assert.equal(posts(f) - before, 3);
  assert.deepEqual(ctx2.sleeps, [1000, 1000]);
});

test('civitai: 5xx on a poll is retried with backoff, then provider_down; a 5xx to the submission is not resent', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createCivitaiProvider(ctx);
  const sub = await p.submit({ model: SDXL, input: { prompt: 'x' } });
  f.addFault({ route: 'get', status: 502, times: 2 });
  assert.equal((await p.status({ model: SDXL, requestId: sub.requestId })).state, 'submitted');
  assert.deepEqual(ctx.sleeps, [250, 500]);
  f.addFault({ route: 'get', status: 500, body: { title: 'Internal Server Error', status: 500 }, times: Infinity });
  const before = f.captured.length;
  await assert.rejects(p.status({ model: SDXL, requestId: sub.requestId }), isErr('provider_down', (e) => e.action === 'retry'));
  assert.equal(f.captured.length - before, 5);
  f.addFault({ route: 'submit', status: 503 });
  const n = posts(f);
  await assert.rejects(p.submit({ model: SDXL, input: { prompt: 'x' } }), isErr('provider_down', (e) => e.maybeAccepted === true && /dashboard/.test(e.message)));
  assert.equal(posts(f) - n, 1);
});

test('civitai: malformed JSON → bad_response; a dropped connection → network (a submission is not resent)', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  const sub = await p.submit({ model: SDXL, input: { prompt: 'x' } });
  f.addFault({ route: 'get', malformed: true });
  await assert.rejects(p.status({ model: SDXL, requestId: sub.requestId }), isErr('bad_response'));
  f.addFault({ route: 'get', status: 200, body: { status: 'processing' } });
  await assert.rejects(p.status({ model: SDXL, requestId: sub.requestId }), isErr('bad_response', (e) => /id/.test(e.message)));
  f.addFault({ route: 'submit', malformed: true });
  await assert.rejects(p.submit({ model: SDXL, input: { prompt: 'x' } }), isErr('bad_response', (e) => e.maybeAccepted === true));
  f.addFault({ route: 'get', drop: true, times: Infinity });
  await assert.rejects(p.status({ model: SDXL, requestId: sub.requestId }), isErr('network'));
  f.addFault({ route: 'submit', drop: true });
  const n = posts(f);
  await assert.rejects(p.submit({ model: SDXL, input: { prompt: 'x' } }), isErr('network', (e) => e.maybeAccepted === true));
  assert.equal(posts(f) - n, 1);
});

test('civitai: failed, blocked, expired and canceled workflows all end with typed errors', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  const run = async (plan: Parameters<CivitaiFake['nextJob']>[0]) => {
    f.nextJob(plan);
    const { requestId } = await p.submit({ model: SDXL, input: { prompt: 'x' } });
    return { requestId, updates: await collect(p.watch({ model: SDXL, requestId }, { intervalMs: 1 })) };
  };
  const a = await run({ end: 'failed' });
  assert.equal(a.updates.at(-1)!.state, 'failed');
  assert.equal(a.updates.at(-1)!.error?.kind, 'failed');
  assert.match(a.updates.at(-1)!.error!.message, /no_provider_available/);
  await assert.rejects(p.result({ model: SDXL, requestId: a.requestId }), isErr('failed'));
  const b = await run({ end: 'failed', reason: 'blocked', blockedReason: 'prompt flagged' });
  assert.match(b.updates.at(-1)!.error!.message, /moderation blocked the generation \(prompt flagged\)/);
  const c = await run({ end: 'expired' });
  assert.equal(c.updates.at(-1)!.state, 'failed');
  assert.equal(c.updates.at(-1)!.providerStatus, 'expired');
  assert.match(c.updates.at(-1)!.error!.message, /expire/);
  const d = await run({ end: 'canceled', sequence: ['scheduled'] });
  assert.deepEqual(d.updates.map((u) => u.state), ['submitted', 'canceled']);
  assert.equal(d.updates.at(-1)!.error?.kind, 'canceled');
  await assert.rejects(p.result({ model: SDXL, requestId: d.requestId }), isErr('canceled'));
});

test('civitai: a succeeded workflow whose images are not available yet is polled until they are, within a bound', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  f.nextJob({ unavailableGets: 2 });
  const a = await p.submit({ model: SDXL, input: { prompt: 'x' } });
  const ua = await collect(p.watch({ model: SDXL, requestId: a.requestId }, { intervalMs: 1 }));
  assert.deepEqual(ua.map((u) => `${u.state}/${u.providerStatus}`), ['submitted/scheduled', 'running/processing', 'running/succeeded', 'running/succeeded', 'succeeded/succeeded']);
  assert.ok(ua.flatMap((u) => u.logs ?? []).some((l) => /waiting for 1 of 1 image to become available/.test(l)), 'the wait for available images is logged');
  assert.equal((await p.result({ model: SDXL, requestId: a.requestId })).artifacts.length, 1);
  f.nextJob({ unavailableGets: 10_000, sequence: [] });
  const b = await p.submit({ model: SDXL, input: { prompt: 'x' } });
  const ub = await collect(p.watch({ model: SDXL, requestId: b.requestId }, { intervalMs: 1 }));
  assert.equal(ub.length, MAX_UNAVAILABLE_POLLS + 1);
  assert.equal(ub.at(-1)!.state, 'failed');
  assert.equal(ub.at(-1)!.error?.kind, 'bad_output');
  assert.match(ub.at(-1)!.error!.message, /none of its 1 image became available/);
});

test('civitai: a workflow stuck in processing ends at the deadline (timeout), not never', async () => {
  const f = await fake();
  const ctx = testCtx(f.baseUrl, KEY);
  const p = createCivitaiProvider(ctx);
  f.nextJob({ sequence: Array.from({ length: 10_000 }, () => 'processing') });
  const { requestId } = await p.submit({ model: SDXL, input: { prompt: 'x' } });
  const updates = await collect(p.watch({ model: SDXL, requestId }, { intervalMs: 2000, timeoutMs: 9000 }));
  assert.equal(updates.at(-1)!.state, 'failed');
  assert.equal(updates.at(-1)!.error?.kind, 'timeout');
  assert.deepEqual(ctx.sleeps, [2000, 5000, 2000]);
});

test('civitai: cancel mid-run is a PUT {status: "canceled"} that reaches the fake; the watch ends canceled', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  f.nextJob({ sequence: Array.from({ length: 100 }, () => 'processing') });
  const ref = { model: SDXL, requestId: (await p.submit({ model: SDXL, input: { prompt: 'x' } })).requestId };
  const states: string[] = [];
  for await (const u of p.watch(ref, { intervalMs: 1 })) {
    states.push(u.state);
    if (u.state === 'running' && f.cancels.length === 0) await p.cancel(ref);
  }
  assert.deepEqual(f.cancels, [ref.requestId]);
  assert.deepEqual(states, ['running', 'canceled']);
  const put = f.captured.find((c) => c.method === 'PUT')!;
  assert.equal(put.url, `/orchestration.civitai.com/v2/consumer/workflows/${ref.requestId}`);
  assert.deepEqual(JSON.parse(put.body.toString()), { status: 'canceled' });
  // Canceling what already ended (409) is not an error; an unknown id is.
  await p.cancel(ref);
  await assert.rejects(p.cancel({ model: SDXL, requestId: 'wf_NOPE' }), isErr('not_found'));
  await assert.rejects(p.cancel({ model: SDXL, requestId: '../x' }), isErr('not_found'));
});

test('civitai: a fresh adapter resumes from the persisted {model, requestId, handle}', async () => {
  const f = await fake();
  const first = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  const sub = await first.submit({ model: SDXL, input: { prompt: 'resume', seed: 99 } });
  const persisted = JSON.parse(JSON.stringify({ model: SDXL, requestId: sub.requestId, handle: sub.handle })) as { model: string; requestId: string };
  const fresh = new CivitaiProvider(testCtx(f.baseUrl, KEY));
  assert.equal((await collect(fresh.watch(persisted, { intervalMs: 1 }))).at(-1)!.state, 'succeeded');
  const r = await new CivitaiProvider(testCtx(f.baseUrl, KEY)).result(persisted);
  assert.equal(r.seed, 99);
  assert.equal(r.artifacts.length, 1);
});

test('civitai browsing: cursor paging to the end over the public site API, filters, versions with AIRs, no token sent', async () => {
  const f = await fake();
  const p = new CivitaiProvider(testCtx(f.baseUrl, KEY));
  const expected = f.models.filter((m) => m.type === 'LORA' && !m.nsfw).map((m) => m.id);
  const seen: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await p.searchModels({ types: ['LORA'], limit: 30, sort: 'Most Downloaded', cursor });
    assert.ok(page.items.every((m) => m.type === 'LORA'), 'only LoRAs');
    seen.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  assert.equal(pages, Math.ceil(expected.length / 30));
  assert.deepEqual([...seen].sort(), [...expected].sort());
  assert.equal(new Set(seen).size, seen.length);
  // The async iterator does the same; limit is clamped to Civitai's 100.
  let all = 0;
  for await (const items of p.allModels({ types: ['Checkpoint'], limit: 500 })) all += items.length;
  assert.equal(all, f.models.filter((m) => m.type === 'Checkpoint' && !m.nsfw).length);
  assert.ok(f.captured.some((c) => /^\/civitai\.com\/api\/v1\/models\?limit=100&types=Checkpoint/.test(c.url)), 'limit clamped to 100');
  const found = await p.searchModels({ query: 'watercolor style', baseModels: ['SDXL 1.0'] });
  const wanted = f.models.filter((m) => !m.nsfw && /watercolor style/i.test(m.name) && m.versions.some((v) => v.baseModel === 'SDXL 1.0'));
  assert.ok(wanted.length > 0 && wanted.length <= 20, `the catalog has ${wanted.length} watercolor SDXL models, one page`);
  assert.deepEqual(found.items.map((m) => m.id).sort(), wanted.map((m) => m.id).sort(), 'search by text and base model: every match, nothing else');
  const model = await p.getModel(200002);
  assert.equal(model.type, 'LORA');
  const version = await p.getModelVersion(model.modelVersions![0].id);
  assert.equal(version.air, LORA);
  assert.deepEqual(version.trainedWords, ['neon_style']);
  await assert.rejects(p.getModel(999), isErr('not_found'));
  await assert.rejects(p.getModelVersion(-1), isErr('not_found'));
  f.addFault({ route: 'models', status: 200, body: { items: [{ id: 'x' }] } });
  await assert.rejects(p.searchModels({}), isErr('bad_response'));
  const site = f.captured.filter((c) => c.url.startsWith('/civitai.com/'));
  assert.ok(site.length > 10 && site.every((c) => c.headers.authorization === undefined), 'the site API is called without the token');
});

test('civitai: describeModel reads a custom AIR from the site API; the input schema checks a parameter file with LoRAs', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  const custom = 'urn:air:sdxl:checkpoint:civitai:200001@2000011';
  const info = await p.describeModel(custom);
  assert.equal(info.title, 'Watercolor Mix 1 — v2.0');
  assert.equal(info.custom, true);
  assert.deepEqual(info.imageFields, ['sourceImage']);
  assert.match(info.description!, /SDXL 1\.0 checkpoint on Civitai/);
  await assert.rejects(p.describeModel(LORA), isErr('validation'));
  await assert.rejects(p.describeModel('urn:air:sdxl:checkpoint:civitai:424242@42424242'), isErr('not_found'));
  assert.equal((await p.describeModel(SDXL)).title, 'SDXL 1.0 (VAE fix)');
  const schema = await p.getInputSchema(SDXL);
  const props = schema.properties as Record<string, { default?: unknown; enum?: unknown[] }>;
  assert.equal(props.width.default, 1024);
  assert.equal(((await p.getInputSchema(SD1)).properties as Record<string, { default?: unknown }>).width.default, 512);
  assert.ok(props.scheduler.enum!.includes('dpM2MKarras'), 'the Scheduler enum of the OpenAPI');
  const file = (input: Record<string, unknown>) => parseParamFile(JSON.stringify({ provider: 'civitai', model: SDXL, input }, null, 2));
  assert.deepEqual(validateInput(file({ prompt: 'x', steps: 30, loras: [{ air: LORA, strength: 0.7 }] }), schema), []);
  const problems = validateInput(file({ prompt: 'x', steps: 500, lora: [], loras: [{ air: 'nope' }] }), schema);
  assert.deepEqual(problems.map((d) => d.path.join('.')).sort(), ['input.lora', 'input.loras.0.air', 'input.steps']);
  await assert.rejects(p.getInputSchema('nope'), isErr('validation'));
});

test('the engine runs a Civitai parameter file end to end: a product on disk with its sidecar and seed', async () => {
  const f = await fake();
  const r = await rig({ civitaiBaseUrl: f.baseUrl });
  try {
    assert.ok(r.registry.get('civitai') instanceof CivitaiProvider, 'Civitai is a built-in provider');
    const text = await fs.readFile(path.join(__dirname, '../../demo/params/civitai-sdxl.art.json'), 'utf8');
    const parsed = parseParamFile(text);
    assert.deepEqual(validateInput(parsed, await r.registry.inputSchema('civitai', parsed.value!.model)), []);
    // Small images keep the test fast; everything else is the demo file as shipped.
    const specs = expandJobs(parsed.value!).map((s) => ({ ...s, input: { ...s.input, width: 64, height: 64 } }));
    const [job] = await r.engine.submit(specs, { sourceFile: 'params/civitai-sdxl.art.json' });
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.match(done.requestId!, /^wf_/);
    const product = (await r.db.getProduct(done.productIds[0]))!;
    assert.equal(product.provider, 'civitai');
    assert.equal(product.model, parsed.value!.model);
    assert.equal(product.prompt, parsed.value!.input.prompt);
    assert.equal(product.negativePrompt, parsed.value!.input.negativePrompt);
    assert.equal(product.seed, f.workflows.get(done.requestId!)!.input.seed);
    assert.deepEqual(product.cost, { amount: 8, currency: 'Buzz' });
    const bytes = await fs.readFile(path.join(r.dir, product.file));
    assert.equal((await sharp(bytes).metadata()).format, 'png');
    const sidecar = JSON.parse(await fs.readFile(path.join(r.dir, product.file.replace(/\.png$/, '.json')), 'utf8'));
    assert.equal(sidecar.id, product.id);
    assert.deepEqual(sidecar.input.loras, parsed.value!.input.loras);
    const sent = f.submissions[0] as { steps: { input: Record<string, unknown> }[] };
    assert.deepEqual(Object.keys(sent.steps[0].input.additionalNetworks as object), (parsed.value!.input.loras as { air: string }[]).map((l) => l.air));
  } finally {
    await r.close();
  }
});

test('Browse Civitai Models adds a LoRA entry to input.loras of a Civitai parameter file, and nowhere else', () => {
  const file = (input: Record<string, unknown>, provider = 'civitai') => `${JSON.stringify({ provider, model: SDXL, input }, null, 2)}\n`;
  const once = addLora(file({ prompt: 'x' }), { air: LORA, strength: 1 })!;
  assert.deepEqual(JSON.parse(once).input, { prompt: 'x', loras: [{ air: LORA, strength: 1 }] });
  const other = 'urn:air:sdxl:lora:civitai:122359@135867';
  const twice = addLora(once, { air: other, strength: 1 })!;
  assert.deepEqual(JSON.parse(twice).input.loras, [{ air: LORA, strength: 1 }, { air: other, strength: 1 }]);
  assert.match(twice, /\n {4}"loras": \[\n {6}\{/);
  assert.equal(addLora(twice, { air: LORA, strength: 0.5 }), undefined, 'an AIR already listed');
  assert.equal(addLora(file({ prompt: 'x' }, 'fal'), { air: LORA, strength: 1 }), undefined, 'another provider');
  assert.equal(addLora(file({ prompt: 'x', loras: 'no' }), { air: LORA, strength: 1 }), undefined, 'loras that is not a list');
  assert.equal(addLora('{ "provider": "civitai", ', { air: LORA, strength: 1 }), undefined, 'broken JSON');
  // The edited file still passes the model's schema.
  assert.deepEqual(validateInput(parseParamFile(twice), civitaiInputSchema(parseAir(SDXL))), []);
});

test('civitai: a mature image withheld (available, url null) fails at once naming the setting; allowMatureContent is sent and lets it through', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  f.nextJob({ mature: 1 });
  const a = await p.submit({ model: SDXL, input: { prompt: 'x', width: 64, height: 64 } });
  assert.equal((f.submissions.at(-1) as { allowMatureContent?: unknown }).allowMatureContent, false);
  const ua = await collect(p.watch({ model: SDXL, requestId: a.requestId }, { intervalMs: 1 }));
  // No waiting for it to "become available": the first succeeded poll ends the job.
  assert.deepEqual(ua.map((u) => `${u.state}/${u.providerStatus}`), ['submitted/scheduled', 'running/processing', 'failed/succeeded']);
  assert.equal(ua.at(-1)!.error?.kind, 'failed');
  assert.match(ua.at(-1)!.error!.message, /^Civitai withheld the image as mature content \(available, but without a URL\)\. To receive it, set "artFactory\.providers\.civitai\.allowMatureContent" to true/);
  await assert.rejects(p.result({ model: SDXL, requestId: a.requestId }), isErr('failed', (e) => /allowMatureContent/.test(e.message)));
  // Two images, one mature: the other is kept, and the log says why one is missing.
  f.nextJob({ mature: 1 });
  const b = await p.submit({ model: SDXL, input: { prompt: 'x', width: 64, height: 64, quantity: 2 } });
  const ub = await collect(p.watch({ model: SDXL, requestId: b.requestId }, { intervalMs: 1 }));
  assert.equal(ub.at(-1)!.state, 'succeeded');
  assert.ok(ub.flatMap((u) => u.logs ?? []).some((l) => /1 image was withheld as mature content; to receive mature images, set "artFactory\.providers\.civitai\.allowMatureContent"/.test(l)));
  assert.equal((await p.result({ model: SDXL, requestId: b.requestId })).artifacts.length, 1);
  // With the setting on, the submission says so and the mature image comes.
  const allowed = createCivitaiProvider(testCtx(f.baseUrl, KEY, { allowMatureContent: true }));
  f.nextJob({ mature: 1 });
  const c = await allowed.submit({ model: SDXL, input: { prompt: 'x', width: 64, height: 64 } });
  assert.equal((f.submissions.at(-1) as { allowMatureContent?: unknown }).allowMatureContent, true);
  assert.equal((await collect(allowed.watch({ model: SDXL, requestId: c.requestId }, { intervalMs: 1 }))).at(-1)!.state, 'succeeded');
  assert.equal((await allowed.result({ model: SDXL, requestId: c.requestId })).artifacts.length, 1);
});

test('civitai: the input schema admits the documented engine and imageMetadata, and Civitai takes them', async () => {
  const f = await fake();
  const p = createCivitaiProvider(testCtx(f.baseUrl, KEY));
  const schema = await p.getInputSchema(SDXL);
  const file = (input: Record<string, unknown>) => parseParamFile(JSON.stringify({ provider: 'civitai', model: SDXL, input }));
  assert.deepEqual(validateInput(file({ prompt: 'x', engine: 'sdcpp', imageMetadata: '{"project":"harbour"}' }), schema), []);
  assert.deepEqual(validateInput(file({ prompt: 'x', engine: 7 }), schema).map((d) => d.path.join('.')), ['input.engine']);
  const sub = await p.submit({ model: SDXL, input: { prompt: 'x', width: 64, height: 64, engine: 'sdcpp', imageMetadata: '{"project":"harbour"}' } });
  assert.equal(f.workflows.get(sub.requestId)!.input.engine, 'sdcpp');
  assert.equal(f.workflows.get(sub.requestId)!.input.imageMetadata, '{"project":"harbour"}');
});

test('civitai: an expired signed blob URL (403) is refreshed from the workflow; in the engine every image of a large batch is stored', async () => {
  const f = await fake();
  const p = new CivitaiProvider(testCtx(f.baseUrl, KEY));
  const ref = { model: SDXL, requestId: (await p.submit({ model: SDXL, input: { prompt: 'x', width: 64, height: 64 } })).requestId };
  await collect(p.watch(ref, { intervalMs: 1 }));
  const [stale] = (await p.result(ref)).artifacts;
  f.expireUrls();
  const download = createProviderFetch('civitai', testCtx(f.baseUrl, undefined), 'download');
  assert.equal((await download(stale.url!)).status, 403);
  const fresh = await p.refreshArtifact(ref, stale, 403);
  assert.notEqual(fresh.url, stale.url);
  assert.equal(fresh.url!.split('?')[0], stale.url!.split('?')[0], 'the same blob');
  assert.equal((await download(fresh.url!)).status, 200);
  // The engine: 6 images whose URLs expire after every 2 downloads.
  const r = await rig({ civitaiBaseUrl: f.baseUrl });
  try {
    f.nextJob({ urlsExpireAfterDownloads: 2 });
    const [job] = await r.engine.submit([{ provider: 'civitai', model: SDXL, input: { prompt: 'a large batch', width: 64, height: 64, quantity: 3, batchSize: 2 } }]);
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.productIds.length, 6);
    assert.equal((await listProducts(r.dir)).filter((x) => x.endsWith('.png')).length, 6);
    // Images 1–2 as first signed; 3–6 each met a 403, got a fresh URL, and were downloaded.
    assert.equal(f.captured.filter((c) => c.url.includes('/blobs/')).length - 2 /* above */, 6 + 4);
  } finally {
    await r.close();
  }
  // A blob that is gone from the workflow: a clear failure, no second download.
  await assert.rejects(p.refreshArtifact(ref, { ...stale, url: stale.url!.replace(/blobs\/[^.]+/, 'blobs/NOPE') }, 403), isErr('bad_output', (e) => /no fresh URL/.test(e.message)));
});
