import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProviderFetch, errorBodyText } from '../../src/providers/net/fetch.ts';
import { mapHttpError, parseRetryAfter, retryAfterFromBody } from '../../src/providers/net/httpErrors.ts';
import { RateLimiter, THROTTLED_MIN_PER_MINUTE } from '../../src/providers/net/limits.ts';
import { sleepWithSignal } from '../../src/providers/net/sleep.ts';
import { assertSafeUrl, rewriteUrl } from '../../src/providers/net/url.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import type { ProviderContext } from '../../src/providers/types.ts';

test('rewriteUrl maps https://HOST/PATH?Q under the base and leaves the rest alone', () => {
  const base = 'http://127.0.0.1:4000';
  assert.equal(rewriteUrl('https://queue.fal.run/fal-ai/flux/dev?x=1', base), 'http://127.0.0.1:4000/queue.fal.run/fal-ai/flux/dev?x=1');
  assert.equal(rewriteUrl('https://api.replicate.com/v1/predictions', `${base}/`), 'http://127.0.0.1:4000/api.replicate.com/v1/predictions');
  assert.equal(rewriteUrl('https://queue.fal.run/a', undefined), 'https://queue.fal.run/a');
  assert.equal(rewriteUrl(`${base}/v3.fal.media/files/a.png`, base), `${base}/v3.fal.media/files/a.png`);
  assert.equal(rewriteUrl('http://evil.example/x', base), 'http://evil.example/x');
});

test('assertSafeUrl allows https, and http only to loopback when allowed', () => {
  assert.equal(assertSafeUrl('https://fal.ai/x', 'fal').host, 'fal.ai');
  for (const u of ['http://127.0.0.1:1/x', 'http://localhost:9/x', 'http://[::1]:9/x', 'http://127.8.9.10/x']) {
    assert.ok(assertSafeUrl(u, 'fal', { allowLoopbackHttp: true }));
    assert.throws(() => assertSafeUrl(u, 'fal'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
  }
  for (const u of ['http://example.com/x', 'http://128.0.0.1/', 'file:///etc/passwd', 'data:image/png;base64,AAAA', '/relative/path', 'ftp://fal.ai/x', 'javascript:alert(1)', 'http://127.0.0.1.evil.com/']) {
    assert.throws(() => assertSafeUrl(u, 'fal', { allowLoopbackHttp: true }), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure', u);
  }
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 10_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

test('mapHttpError types each status with an actionable message', () => {
  assert.equal(mapHttpError('fal', 401, { detail: 'bad key' }).kind, 'auth');
  assert.equal(mapHttpError('fal', 403, { detail: 'User is locked. Reason: Exhausted balance.' }).kind, 'quota');
  assert.equal(mapHttpError('replicate', 402, {}).kind, 'quota');
  assert.equal(mapHttpError('replicate', 404, {}).kind, 'not_found');
  const v = mapHttpError('fal', 422, { detail: [{ loc: ['body', 'num_images'], msg: 'must be <= 4', type: 'x' }] });
  assert.equal(v.kind, 'validation');
  assert.deepEqual(v.fieldErrors, [{ path: ['num_images'], message: 'must be <= 4' }]);
  const r = mapHttpError('replicate', 422, { title: 'Input validation failed', invalid_fields: [{ type: 'required', field: 'input', description: 'prompt is required' }, { field: 'input.width', description: 'must be a multiple of 8' }] });
  assert.deepEqual(r.fieldErrors?.map((f) => f.path), [['prompt'], ['width']]);
  assert.match(r.message, /prompt: prompt is required/);
  const rl = mapHttpError('replicate', 429, { detail: 'Request was throttled. Your rate limit resets in ~7s.' });
  assert.equal(rl.kind, 'rate_limited');
  assert.equal(rl.retryAfterMs, 7000);
  assert.equal(mapHttpError('fal', 429, {}, new Headers({ 'retry-after': '2' })).retryAfterMs, 2000);
  assert.equal(mapHttpError('fal', 503, 'oops').kind, 'provider_down');
  const leaky = mapHttpError('replicate', 401, { detail: 'token r8_abcdefghijklmnopqrstu is invalid' }, undefined, ['sekrit-key']);
  assert.doesNotMatch(leaky.message, /r8_abcdef/);
});

test('RateLimiter spaces calls at the configured rate', async () => {
  let t = 0;
  const sleeps: number[] = [];
  const rl = new RateLimiter({ concurrency: 1, createsPerMinute: 6, callsPerMinute: 60 }, { now: () => t, sleep: async (ms) => { sleeps.push(ms); t += ms; } });
  await rl.acquire('create'); // bucket holds 1 (6/6)
  await rl.acquire('create');
  assert.deepEqual(sleeps, [10_000]);
  for (let i = 0; i < 10; i++) await rl.acquire('call'); // capacity 10
  assert.equal(sleeps.length, 1);
  await rl.acquire('call');
  assert.deepEqual(sleeps, [10_000, 1000]);
});

test('RateLimiter after a 429: everything pauses, creates and calls share half of the last minute, and it grows back slowly', async () => {
  let t = 0;
  const rl = new RateLimiter({ concurrency: 5, createsPerMinute: 600, callsPerMinute: 3000 }, { now: () => t, sleep: async (ms) => { t += ms; } });
  // 40 requests in the last minute, then a 429 naming 30 s.
  for (let i = 0; i < 40; i++) {
    assert.equal(rl.tryTake(i % 4 === 0 ? 'create' : 'call'), 0);
    t += 1000;
  }
  assert.equal(rl.ceiling(), undefined);
  assert.equal(rl.throttled(30_000), 20);
  // Both kinds wait out the pause.
  assert.equal(rl.tryTake('call'), 30_000);
  assert.equal(rl.tryTake('create'), 30_000);
  t += 30_000;
  // Then one goes at once, and the rest at 20 a minute, shared: 3 s apart.
  assert.equal(rl.tryTake('create'), 0);
  assert.equal(rl.tryTake('call'), 3000);
  t += 3000;
  assert.equal(rl.tryTake('call'), 0);
  // Another 429: half of the 29 sent in the last minute.
  assert.equal(rl.throttled(0), 14);
  // One after two quiet minutes: never below the floor, however few were sent.
  t += 2 * 60_000;
  assert.equal(rl.throttled(0), THROTTLED_MIN_PER_MINUTE);
  // Recovery: ×1.25 a quiet minute (6 → 18 after 5 minutes), gone once it passes the limits.
  t += 5 * 60_000;
  assert.equal(rl.ceiling(), Math.floor(6 * 1.25 ** 5));
  t += 40 * 60_000;
  assert.equal(rl.ceiling(), undefined);
  assert.equal(rl.tryTake('call'), 0);
});

test('retryAfterFromBody reads both of Replicate\'s throttle texts', () => {
  assert.equal(retryAfterFromBody('{"detail":"Request was throttled. Your rate limit resets in ~30s."}'), 30_000);
  assert.equal(retryAfterFromBody('{"detail":"Request was throttled. Expected available in 1 second."}'), 1000);
  assert.equal(retryAfterFromBody('{"detail":"Request was throttled. Expected available in 12 seconds."}'), 12_000);
  assert.equal(retryAfterFromBody('{"detail":"slow down"}'), undefined);
});

test('sleepWithSignal rejects when aborted', async () => {
  const ac = new AbortController();
  const p = sleepWithSignal(60_000, ac.signal);
  ac.abort();
  await assert.rejects(p);
});

async function server(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); }) };
}

/** Sleeping advances a virtual clock, as real sleeping advances the real one (the rate limiter
 * measures its pauses on `now`). */
function ctxWith(baseUrl: string, sleeps: number[]): ProviderContext {
  let t = 1_000_000;
  return { getKey: async () => 'k', baseUrl, now: () => t, sleep: async (ms) => { sleeps.push(ms); t += ms; }, random: () => 0.5 };
}

test('provider fetch retries 429 honouring Retry-After, then succeeds', async () => {
  let n = 0;
  const paths: string[] = [];
  const s = await server((req, res) => {
    paths.push(req.url!);
    n++;
    if (n <= 2) { res.writeHead(429, { 'retry-after': '3', 'content-type': 'application/json' }); res.end('{"detail":"slow down"}'); return; }
    res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}');
  });
  try {
    const sleeps: number[] = [];
    const f = createProviderFetch('replicate', ctxWith(s.url, sleeps), 'create');
    const res = await f('https://api.replicate.com/v1/predictions', { method: 'POST', body: '{}' });
    assert.deepEqual(await res.json(), { ok: true });
    assert.deepEqual(sleeps, [3000, 3000]);
    assert.deepEqual(paths, ['/api.replicate.com/v1/predictions', '/api.replicate.com/v1/predictions', '/api.replicate.com/v1/predictions']);
  } finally { await s.close(); }
});

test('provider fetch retries 5xx for calls with jittered backoff, then throws provider_down', async () => {
  let n = 0;
  const s = await server((_req, res) => { n++; res.writeHead(503); res.end('down'); });
  try {
    const sleeps: number[] = [];
    const f = createProviderFetch('fal', ctxWith(s.url, sleeps), 'call', { retry: { maxAttempts: 4, baseDelayMs: 1000 } });
    await assert.rejects(f('https://queue.fal.run/x'), (e: unknown) => e instanceof ProviderError && e.kind === 'provider_down' && e.status === 503);
    assert.equal(n, 4);
    assert.deepEqual(sleeps, [500, 1000, 2000]); // random() = 0.5 of 1000, 2000, 4000
  } finally { await s.close(); }
});

test('provider fetch never resends a submission that got a 5xx', async () => {
  let n = 0;
  const s = await server((_req, res) => { n++; res.writeHead(500); res.end('{}'); });
  try {
    const f = createProviderFetch('fal', ctxWith(s.url, []), 'create');
    await assert.rejects(f('https://queue.fal.run/x', { method: 'POST' }), (e: unknown) => e instanceof ProviderError && e.kind === 'provider_down' && e.maybeAccepted === true);
    assert.equal(n, 1);
  } finally { await s.close(); }
});

test('provider fetch returns 4xx with the body still readable, and retries refused connections', async () => {
  const s = await server((_req, res) => { res.writeHead(422, { 'content-type': 'application/json' }); res.end('{"detail":[]}'); });
  try {
    const f = createProviderFetch('fal', ctxWith(s.url, []), 'call');
    const res = await f('https://queue.fal.run/x');
    assert.equal(res.status, 422);
    assert.equal(errorBodyText(res), '{"detail":[]}');
    assert.equal(await res.text(), '{"detail":[]}');
  } finally { await s.close(); }
  // The server is closed now: connection refused. A create is retried (it was never sent).
  const sleeps: number[] = [];
  const f = createProviderFetch('fal', ctxWith(s.url, sleeps), 'create', { retry: { maxAttempts: 3 } });
  await assert.rejects(f('https://queue.fal.run/x', { method: 'POST' }), (e: unknown) => e instanceof ProviderError && e.kind === 'network' && !e.maybeAccepted);
  assert.equal(sleeps.length, 2);
});

test('provider fetch refuses plain http without a base URL and honours abort', async () => {
  const f = createProviderFetch('fal', { getKey: async () => undefined }, 'call');
  await assert.rejects(f('http://example.com/x'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
  const g = createProviderFetch('fal', { getKey: async () => undefined, baseUrl: 'http://10.0.0.1:80' }, 'call');
  await assert.rejects(g('https://queue.fal.run/x'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
  const ac = new AbortController();
  ac.abort();
  const h = createProviderFetch('fal', { getKey: async () => undefined, baseUrl: 'http://127.0.0.1:9' }, 'call');
  await assert.rejects(h('https://queue.fal.run/x', { signal: ac.signal }), (e: unknown) => e instanceof ProviderError && e.kind === 'canceled');
});

test('sticky failures: the same init fails again at once without a request', async () => {
  let n = 0;
  const s = await server((_req, res) => { n++; res.writeHead(503); res.end(); });
  try {
    const f = createProviderFetch('replicate', ctxWith(s.url, []), 'call', { stickyFailures: true, retry: { maxAttempts: 2 } });
    const init = { method: 'GET' };
    await assert.rejects(f('https://api.replicate.com/v1/x', init));
    await assert.rejects(f('https://api.replicate.com/v1/x', init));
    assert.equal(n, 2);
  } finally { await s.close(); }
});

test('provider fetch allows plain http only to the configured loopback base origin', async () => {
  const f = createProviderFetch('fal', { getKey: async () => undefined, baseUrl: 'http://127.0.0.1:9' }, 'call');
  await assert.rejects(f('http://127.0.0.1:8080/admin'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
  await assert.rejects(f('http://localhost:9/x'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
  const g = createProviderFetch('fal', { getKey: async () => undefined, baseUrl: 'https://proxy.example.com' }, 'call');
  await assert.rejects(g('http://127.0.0.1:9/x'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
});

test('provider fetch follows redirects through the rewrite, drops the key across origins, refuses unsafe hops', async () => {
  const seen: { url: string; auth?: string }[] = [];
  const s = await server((req, res) => {
    seen.push({ url: req.url!, auth: req.headers.authorization });
    if (req.url === '/api.example.com/file') { res.writeHead(302, { location: 'https://cdn.example.com/real.png' }); res.end(); return; }
    if (req.url === '/api.example.com/bad') { res.writeHead(302, { location: 'http://169.254.169.254/latest' }); res.end(); return; }
    if (req.url === '/api.example.com/file:') { res.writeHead(302, { location: 'file:///etc/passwd' }); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok');
  });
  try {
    const f = createProviderFetch('fal', ctxWith(s.url, []), 'call');
    const res = await f('https://api.example.com/file', { headers: { Authorization: 'Key secret' } });
    assert.equal(await res.text(), 'ok');
    assert.deepEqual(seen, [{ url: '/api.example.com/file', auth: 'Key secret' }, { url: '/cdn.example.com/real.png', auth: undefined }]);
    await assert.rejects(f('https://api.example.com/bad'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
    await assert.rejects(f('https://api.example.com/file:'), (e: unknown) => e instanceof ProviderError && e.kind === 'insecure');
  } finally { await s.close(); }
});

test('an attempt with no answer is given up after attemptTimeoutMs: a call is retried, a submission is not resent', async () => {
  let n = 0;
  const s = await server(() => {
    n++; // never answers
  });
  try {
    const sleeps: number[] = [];
    const call = createProviderFetch('fal', ctxWith(s.url, sleeps), 'call', { retry: { maxAttempts: 3, attemptTimeoutMs: 150 } });
    await assert.rejects(call('https://queue.fal.run/x'), (e: unknown) => e instanceof ProviderError && e.kind === 'network' && /no answer within/.test(e.message));
    assert.equal(n, 3, 'each attempt timed out and the call was tried again');
    n = 0;
    const create = createProviderFetch('fal', ctxWith(s.url, []), 'create', { retry: { attemptTimeoutMs: 150 } });
    await assert.rejects(create('https://queue.fal.run/x', { method: 'POST', body: '{}' }), (e: unknown) => e instanceof ProviderError && e.kind === 'network' && e.maybeAccepted === true);
    assert.equal(n, 1, 'a submission that may have arrived is not sent again');
    // The user's cancel is still a cancel, not a timeout.
    const ac = new AbortController();
    const pending = call('https://queue.fal.run/x', { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(pending, (e: unknown) => e instanceof ProviderError && e.kind === 'canceled');
  } finally {
    await s.close();
  }
});
