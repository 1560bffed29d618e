// The key reaches the fakes only in the Authorization header, and never appears in an error
// message, a status update or a log line, even when a server echoes it back.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFalProvider } from '../../src/providers/fal.ts';
import { createReplicateProvider } from '../../src/providers/replicate.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import type { Provider } from '../../src/providers/types.ts';
import { startFalFake } from '../fakes/fal.ts';
import { startReplicateFake } from '../fakes/replicate.ts';
import { findSecretLeaks, pngBytes, type FakeServer, type Fault } from '../fakes/common.ts';
import { collect, testCtx } from './helpers.ts';

// Deliberately unlike the redact() patterns, so only the known-secret scrub can catch it.
const FAL_KEY = 'plainsecretfal-9f8e7d6c5b4a';
const REP_KEY = 'plainsecretrep-1a2b3c4d5e6f';

async function exercise(p: Provider, fake: FakeServer & { addFault(f: Fault): void }, model: string, key: string, routes: { submit: string; status: string; model?: string }): Promise<string[]> {
  const texts: string[] = [];
  const record = (e: unknown) => {
    assert.ok(e instanceof ProviderError, String(e));
    texts.push(e.message, JSON.stringify(e.toJSON()), JSON.stringify(e.fieldErrors ?? []));
  };
  // Happy path with an upload and logs.
  const url = await p.upload(await pngBytes(8, 8), 'image/png');
  const sub = await p.submit({ model, input: { prompt: 'x', image_url: url, image: url } });
  for (const u of await collect(p.watch({ model, requestId: sub.requestId }, { intervalMs: 1 }))) texts.push(JSON.stringify(u));
  texts.push(JSON.stringify(await p.result({ model, requestId: sub.requestId })));
  // Servers that echo the key back in every kind of error.
  const echo = { detail: `token ${key} is not valid`, title: `bad ${key}` };
  for (const status of [401, 402, 404, 422, 429, 500]) {
    fake.addFault({ route: routes.submit, status, body: status === 422 ? { detail: [{ loc: ['body', 'prompt'], msg: `no ${key}`, type: 'x' }], invalid_fields: [{ field: 'input.prompt', description: `no ${key}` }] } : echo, headers: status === 429 ? { 'retry-after': '999' } : {} });
    // Replicate takes a 404 on the official route for a community model and looks the model up.
    if (status === 404 && routes.model) fake.addFault({ route: routes.model, status, body: echo });
    await p.submit({ model, input: { prompt: 'x' } }).then(() => assert.fail('should fail'), record);
    assert.equal(fake.pendingFaults(), 0); // Retry-After 999 s is beyond the wait cap: no retry
  }
  fake.addFault({ route: routes.status, status: 403, body: echo });
  for (const u of await collect(p.watch({ model, requestId: sub.requestId }, { intervalMs: 1 }))) texts.push(JSON.stringify(u), u.error?.message ?? '');
  await p.testConnection().catch(record);
  return texts;
}

test('no key in any byte outside Authorization, nor in errors, updates or logs (fal and Replicate)', async () => {
  const fal = await startFalFake({ key: FAL_KEY });
  const rep = await startReplicateFake({ key: REP_KEY });
  try {
    const falCtx = testCtx(fal.baseUrl, FAL_KEY);
    const repCtx = testCtx(rep.baseUrl, REP_KEY);
    const falTexts = await exercise(createFalProvider(falCtx), fal, 'fal-ai/flux/dev/image-to-image', FAL_KEY, { submit: 'submit', status: 'status' });
    const repTexts = await exercise(createReplicateProvider(repCtx), rep, 'black-forest-labs/flux-dev', REP_KEY, { submit: 'create', status: 'get', model: 'model' });
    assert.deepEqual(findSecretLeaks(fal.captured, FAL_KEY), []);
    assert.deepEqual(findSecretLeaks(rep.captured, REP_KEY), []);
    assert.ok(fal.captured.filter((c) => c.headers.authorization === `Key ${FAL_KEY}`).length > 5);
    assert.ok(rep.captured.filter((c) => c.headers.authorization === `Bearer ${REP_KEY}`).length > 5);
    for (const t of [...falTexts, ...falCtx.logs]) assert.ok(!t.includes(FAL_KEY), `fal leak: ${t}`);
    for (const t of [...repTexts, ...repCtx.logs]) assert.ok(!t.includes(REP_KEY), `replicate leak: ${t}`);
    assert.ok(falTexts.some((t) => t.includes('«redacted»')), 'the echoed key was seen and scrubbed');
  } finally {
    await fal.close();
    await rep.close();
  }
});

test('findSecretLeaks reports a key in a URL, a non-Authorization header or a body', () => {
  const k = 'plainsecret-xyz';
  const leaks = findSecretLeaks(
    [
      { method: 'GET', url: `/a?k=${k}`, headers: { authorization: `Key ${k}` }, body: Buffer.alloc(0) },
      { method: 'POST', url: '/b', headers: { 'x-api-key': k }, body: Buffer.from(`{"token":"${k}"}`) },
      { method: 'GET', url: '/c', headers: { authorization: `Bearer ${k}` }, body: Buffer.alloc(0) },
    ],
    k,
  );
  assert.equal(leaks.length, 3);
});
