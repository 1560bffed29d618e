// Provider faults, through the engine with the REAL @fal-ai/client and replicate clients against
// their fakes (and our Civitai client against its fake): 429 storms (with and without Retry-After), 5xx bursts, jobs that never finish,
// connections reset mid-download or mid-poll, malformed JSON, HTML error pages (as API answers
// and as outputs, labelled image/png and text/html), and every corrupt PNG of PngSuite and every
// file of bad_images offered as a download. Each job must end in a terminal state of the
// expected kind whose message says what to do; failed jobs leave nothing in products/ and no
// temp file anywhere; nothing is rejected unhandled.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { JobRecord } from '../../src/storage/types.ts';
import type { Fault, FakeServer } from '../fakes/common.ts';
import { fileUrl, pngBytes } from '../fakes/common.ts';
import { BAD_IMAGES, fixtureFiles, needsFixtures, PNGSUITE, PNGSUITE_CORRUPT } from '../fixtures.ts';
import { FaultReport, diffSnapshots, guardUnhandled, sha256, snapshot, tempFiles } from './helpers.ts';
import { providerRig, type ProviderRig } from './rig.ts';

const MODELS = { fal: 'fal-ai/flux/dev', replicate: 'black-forest-labs/flux-schnell', civitai: 'urn:air:sdxl:checkpoint:civitai:101055@128078' } as const;
type ProviderId = keyof typeof MODELS;
/** Small images keep the Civitai cases fast (its checkpoints default to 1024×1024). */
const EXTRA_INPUT: Record<ProviderId, Record<string, unknown>> = { fal: {}, replicate: {}, civitai: { width: 64, height: 64 } };

/** Words that tell the user what to do next. */
const ACTION = /retry|try again|wait|lower the|check|fix|free some space|raise|open the log|report|top up|set a valid key/i;

const report = new FaultReport('providers');
const guard = guardUnhandled();
let r: ProviderRig;

before(async () => {
  r = await providerRig();
});

after(async () => {
  report.write();
  await r?.close();
  guard.dispose();
});

type Expect = { state: 'succeeded' } | { state: 'failed'; kind: string; message?: RegExp };

interface Case {
  name: string;
  provider: ProviderId;
  input?: Record<string, unknown>;
  /** Faults for this case (cleared afterwards, so an endless storm never leaks into the next). */
  faults?: Fault[];
  /** Other setup (plans, stored files). */
  setup?: () => void | Promise<void>;
  expect: Expect;
}

/** Run one case: the job ends as expected, and products/ changed only by a succeeded job's own files. */
async function runCase(c: Case, category: string): Promise<JobRecord> {
  const counts = report.category(category);
  counts.injected++;
  const fake: FakeServer = r[c.provider];
  const products = path.join(r.dir, 'products');
  const before = await snapshot(products);
  for (const f of c.faults ?? []) fake.addFault(f);
  try {
    await c.setup?.();
    const job = await r.run(c.provider, MODELS[c.provider], { prompt: `fault: ${c.name}`, ...EXTRA_INPUT[c.provider], ...c.input });
    const where = `${c.provider}: ${c.name}`;
    assert.equal(job.state, c.expect.state, `${where}: ${JSON.stringify(job.error)}`);
    const changes = diffSnapshots(before, await snapshot(products));
    if (c.expect.state === 'failed') {
      assert.equal(job.error?.kind, c.expect.kind, `${where}: ${job.error?.message}`);
      assert.match(job.error!.message, ACTION, `${where}: the message says what to do: ${job.error!.message}`);
      if (c.expect.message) assert.match(job.error!.message, c.expect.message, where);
      assert.deepEqual(changes, [], `${where}: a failed job stores nothing`);
    } else {
      // Only this job's products and their sidecars appeared, whole.
      assert.ok(job.productIds.length > 0, where);
      assert.equal(changes.length, job.productIds.length * 2, `${where}: ${changes.join(', ')}`);
      for (const id of job.productIds) {
        const p = (await r.db.getProduct(id))!;
        assert.equal(sha256(await fs.readFile(path.join(r.dir, p.file))), p.sha256, `${where}: ${p.file} is whole`);
        assert.ok(existsSync(path.join(r.dir, p.file.replace(/\.[^.]+$/, '.json'))), `${where}: sidecar`);
      }
    }
    assert.deepEqual(await tempFiles(r.dir), [], `${where}: no temp file`);
    guard.check();
    counts.survived++;
    return job;
  } finally {
    fake.clearFaults();
  }
}

test('429 storms, with and without Retry-After: short ones are ridden out, a throttled submission fails as rate_limited saying to wait, throttled status checks never fail a job (an endless storm ends at the deadline, canceled at the provider)', { timeout: 300_000 }, async () => {
  const throttled = { detail: 'Request was throttled. Your rate limit resets in ~7s.' };
  const endless = /throttled its status checks \(HTTP 429\) for the last \d+ min.*The job was canceled at/;
  const cases: Case[] = [
    { name: 'submit: 50 × 429, no Retry-After', provider: 'fal', faults: [{ route: 'submit', status: 429, times: 50 }], expect: { state: 'failed', kind: 'rate_limited', message: /Wait a minute/ } },
    { name: 'submit: 50 × 429, Retry-After 2', provider: 'fal', faults: [{ route: 'submit', status: 429, headers: { 'retry-after': '2' }, times: 50 }], expect: { state: 'failed', kind: 'rate_limited', message: /Wait about 2 s/ } },
    { name: 'submit: 3 × 429, Retry-After 1', provider: 'fal', faults: [{ route: 'submit', status: 429, headers: { 'retry-after': '1' }, times: 3 }], expect: { state: 'succeeded' } },
    { name: 'submit: 429 with Retry-After 999 (beyond the wait cap)', provider: 'fal', faults: [{ route: 'submit', status: 429, headers: { 'retry-after': '999' }, times: 50 }], expect: { state: 'failed', kind: 'rate_limited', message: /Wait about 999 s/ } },
    { name: 'status: 8 × 429 in a row', provider: 'fal', faults: [{ route: 'status', status: 429, times: 8 }], expect: { state: 'succeeded' } },
    // Throttled status checks say nothing about the job: polling goes on, slower, and the job gets its images.
    { name: 'status: 60 × 429, Retry-After 1', provider: 'fal', faults: [{ route: 'status', status: 429, headers: { 'retry-after': '1' }, times: 60 }], expect: { state: 'succeeded' } },
    { name: 'status: 429 without end', provider: 'fal', faults: [{ route: 'status', status: 429, headers: { 'retry-after': '1' }, times: Infinity }], expect: { state: 'failed', kind: 'timeout', message: endless } },
    { name: 'create: 50 × 429 with the "resets in ~7s" body', provider: 'replicate', faults: [{ route: 'create', status: 429, body: throttled, times: 50 }], expect: { state: 'failed', kind: 'rate_limited', message: /Wait about 7 s/ } },
    { name: 'create: 3 × 429, Retry-After 1', provider: 'replicate', faults: [{ route: 'create', status: 429, headers: { 'retry-after': '1' }, body: throttled, times: 3 }], expect: { state: 'succeeded' } },
    { name: 'get: 8 × 429', provider: 'replicate', faults: [{ route: 'get', status: 429, body: throttled, times: 8 }], expect: { state: 'succeeded' } },
    { name: 'get: 60 × 429 without Retry-After', provider: 'replicate', faults: [{ route: 'get', status: 429, times: 60 }], expect: { state: 'succeeded' } },
    { name: 'get: 429 without end, "resets in ~30s"', provider: 'replicate', faults: [{ route: 'get', status: 429, body: { detail: 'Request was throttled. Your rate limit resets in ~30s.' }, times: Infinity }], expect: { state: 'failed', kind: 'timeout', message: endless } },
  ];
  const cancels = { fal: r.fal.cancels.length, replicate: r.replicate.cancels.length };
  for (const c of cases) await runCase(c, '429 storms');
  // Given up while the job might still run: canceled at the provider, once each.
  assert.equal(r.fal.cancels.length - cancels.fal, 1);
  assert.equal(r.replicate.cancels.length - cancels.replicate, 1);
});

test('5xx bursts: a short burst is retried, a long one fails as provider_down, a 5xx to a submission is never resent', { timeout: 300_000 }, async () => {
  const cases: Case[] = [
    { name: 'status: 4 × 503', provider: 'fal', faults: [{ route: 'status', status: 503, times: 4 }], expect: { state: 'succeeded' } },
    { name: 'status: 60 × 500', provider: 'fal', faults: [{ route: 'status', status: 500, body: { detail: 'Internal error' }, times: 60 }], expect: { state: 'failed', kind: 'provider_down', message: /Retry later/ } },
    { name: 'result: 3 × 502', provider: 'fal', faults: [{ route: 'result', status: 502, times: 3 }], expect: { state: 'succeeded' } },
    { name: 'submit: 502 once (may have been accepted)', provider: 'fal', faults: [{ route: 'submit', status: 502 }], expect: { state: 'failed', kind: 'provider_down', message: /may have gone through/ } },
    { name: 'get: 4 × 503', provider: 'replicate', faults: [{ route: 'get', status: 503, times: 4 }], expect: { state: 'succeeded' } },
    { name: 'get: 60 × 500', provider: 'replicate', faults: [{ route: 'get', status: 500, times: 60 }], expect: { state: 'failed', kind: 'provider_down' } },
    { name: 'create: 500 once (may have been accepted)', provider: 'replicate', faults: [{ route: 'create', status: 500 }], expect: { state: 'failed', kind: 'provider_down', message: /may have gone through/ } },
  ];
  for (const c of cases) await runCase(c, '5xx bursts');
  // The 5xx'd submissions were not sent a second time.
  assert.equal(r.fal.captured.filter((x) => x.method === 'POST' && /fault: submit: 502/.test(x.body.toString())).length, 1);
  assert.equal(r.replicate.captured.filter((x) => x.method === 'POST' && /fault: create: 500/.test(x.body.toString())).length, 1);
});

test('jobs that never finish end at the job timeout (timeout, saying how to raise it); Replicate "aborted" ends too', { timeout: 300_000 }, async () => {
  const cases: Case[] = [
    { name: 'never leaves IN_PROGRESS', provider: 'fal', setup: () => r.fal.nextJob({ progressSteps: 1e9 }), expect: { state: 'failed', kind: 'timeout', message: /within 30 min.*artFactory\.jobs\.timeoutMinutes/ } },
    { name: 'never leaves IN_QUEUE', provider: 'fal', setup: () => r.fal.nextJob({ queueSteps: 1e9 }), expect: { state: 'failed', kind: 'timeout' } },
    { name: 'never leaves processing', provider: 'replicate', setup: () => r.replicate.nextJob({ processingSteps: 1e9 }), expect: { state: 'failed', kind: 'timeout', message: /timeoutMinutes/ } },
    { name: 'aborted (its deadline passed before it ran)', provider: 'replicate', setup: () => r.replicate.nextJob({ end: 'aborted' }), expect: { state: 'failed', kind: 'failed', message: /aborted/ } },
  ];
  const cancels = { fal: r.fal.cancels.length, replicate: r.replicate.cancels.length };
  for (const c of cases) await runCase(c, 'jobs that never finish');
  // A job past our deadline may still run (and bill) at the provider: it is canceled there.
  assert.equal(r.fal.cancels.length - cancels.fal, 2, 'both timed-out fal jobs were canceled at fal');
  assert.equal(r.replicate.cancels.length - cancels.replicate, 1, 'the timed-out Replicate prediction was canceled');
});

test('connections reset mid-download and mid-poll: retried when they recover, a clear failure when not, never a partial product', { timeout: 300_000 }, async () => {
  const good = await pngBytes(64, 64, [10, 200, 90]);
  const falFile = (name: string, truncateAt?: number) => () => {
    r.fal.files.set(`/v3.fal.media/files/reset/${name}.png`, { bytes: good, contentType: 'image/png', truncateAt });
    r.fal.nextJob({ output: { images: [{ url: fileUrl('v3.fal.media', `/files/reset/${name}.png`), content_type: 'image/png' }] } });
  };
  const repFile = (name: string, truncateAt?: number) => () => {
    r.replicate.files.set(`/replicate.delivery/reset/${name}.png`, { bytes: good, contentType: 'image/png', truncateAt });
    r.replicate.nextJob({ output: [fileUrl('replicate.delivery', `/reset/${name}.png`)] });
  };
  const download = (host: string) => (req: { host: string; method: string }) => req.host === host && req.method === 'GET';
  const cases: Case[] = [
    { name: 'download cut after 100 bytes', provider: 'fal', setup: falFile('cut100', 100), expect: { state: 'failed', kind: 'bad_output', message: /broke off|truncated/ } },
    { name: 'download cut after 1 byte', provider: 'fal', setup: falFile('cut1', 1), expect: { state: 'failed', kind: 'bad_output' } },
    { name: 'download dropped once', provider: 'fal', setup: falFile('drop1'), faults: [{ when: download('v3.fal.media'), drop: true }], expect: { state: 'succeeded' } },
    { name: 'download dropped every time', provider: 'fal', setup: falFile('drop-all'), faults: [{ when: download('v3.fal.media'), drop: true, times: 50 }], expect: { state: 'failed', kind: 'network', message: /Check the network connection/ } },
    { name: 'status dropped twice', provider: 'fal', faults: [{ route: 'status', drop: true, times: 2 }], expect: { state: 'succeeded' } },
    { name: 'status dropped every time', provider: 'fal', faults: [{ route: 'status', drop: true, times: 60 }], expect: { state: 'failed', kind: 'network' } },
    { name: 'submit dropped (may have been accepted)', provider: 'fal', faults: [{ route: 'submit', drop: true }], expect: { state: 'failed', kind: 'network' } },
    { name: 'download cut after 200 bytes', provider: 'replicate', setup: repFile('cut200', 200), expect: { state: 'failed', kind: 'bad_output' } },
    { name: 'download dropped once', provider: 'replicate', setup: repFile('drop1'), faults: [{ when: download('replicate.delivery'), drop: true }], expect: { state: 'succeeded' } },
    { name: 'get dropped every time', provider: 'replicate', faults: [{ route: 'get', drop: true, times: 60 }], expect: { state: 'failed', kind: 'network' } },
  ];
  for (const c of cases) await runCase(c, 'connection resets');
});

test('malformed JSON and HTML error pages from the API fail as bad_response or provider_down, never a crash', { timeout: 300_000 }, async () => {
  const page = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>';
  const html = (status: number) => ({ status, raw: { body: page, contentType: 'text/html' } });
  const cases: Case[] = [
    { name: 'submit answers {"oops', provider: 'fal', faults: [{ route: 'submit', malformed: true }], expect: { state: 'failed', kind: 'bad_response', message: /malformed/ } },
    { name: 'status answers {"oops', provider: 'fal', faults: [{ route: 'status', malformed: true, status: 202, times: 60 }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'result answers {"oops', provider: 'fal', faults: [{ route: 'result', malformed: true }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'status answers a captive-portal HTML page with 200', provider: 'fal', faults: [{ route: 'status', ...html(200), times: 60 }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'status answers an nginx 502 page', provider: 'fal', faults: [{ route: 'status', ...html(502), times: 60 }], expect: { state: 'failed', kind: 'provider_down' } },
    { name: 'submit answers an nginx 502 page', provider: 'fal', faults: [{ route: 'submit', ...html(502) }], expect: { state: 'failed', kind: 'provider_down' } },
    { name: 'result is JSON of the wrong shape', provider: 'fal', setup: () => r.fal.nextJob({ output: { images: 'not a list' } }), expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'create answers {"oops', provider: 'replicate', faults: [{ route: 'create', malformed: true, status: 201 }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'get answers {"oops', provider: 'replicate', faults: [{ route: 'get', malformed: true, times: 60 }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'get answers a captive-portal HTML page with 200', provider: 'replicate', faults: [{ route: 'get', ...html(200), times: 60 }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'create answers an nginx 502 page', provider: 'replicate', faults: [{ route: 'create', ...html(502) }], expect: { state: 'failed', kind: 'provider_down' } },
    { name: 'output is not a URL at all', provider: 'replicate', setup: () => r.replicate.nextJob({ output: { answer: 42 } }), expect: { state: 'failed', kind: 'bad_output' } },
  ];
  for (const c of cases) await runCase(c, 'malformed JSON and HTML from the API');
});

/** Offer `bytes` as the job's only output, on the provider's file host. */
function offer(provider: ProviderId, name: string, bytes: Uint8Array, servedAs: string, claimed = 'image/png'): () => void {
  const safe = name.replace(/[^\w.-]/g, '_');
  if (provider === 'fal') {
    return () => {
      r.fal.files.set(`/v3.fal.media/files/offered/${safe}`, { bytes, contentType: servedAs });
      r.fal.nextJob({ output: { images: [{ url: fileUrl('v3.fal.media', `/files/offered/${safe}`), content_type: claimed }] } });
    };
  }
  if (provider === 'civitai') {
    return () => {
      r.civitai.files.set(`/orchestration.civitai.com/v2/consumer/blobs/${safe}`, { bytes, contentType: servedAs });
      const url = `${fileUrl('orchestration.civitai.com', `/v2/consumer/blobs/${safe}`)}?sig=abc&exp=2099-01-01T00:00:00Z`;
      r.civitai.nextJob({ output: { images: [{ type: 'image', id: safe, available: true, url, urlExpiresAt: '2099-01-01T00:00:00Z', width: 64, height: 64 }] } });
    };
  }
  return () => {
    r.replicate.files.set(`/replicate.delivery/offered/${safe}`, { bytes, contentType: servedAs });
    r.replicate.nextJob({ output: [fileUrl('replicate.delivery', `/offered/${safe}`)] });
  };
}

test('outputs that are HTML error pages, labelled image/png or text/html, fail as bad_output', { timeout: 300_000 }, async () => {
  const page = Buffer.from('<html><head><title>Error</title></head><body>AccessDenied: Request has expired</body></html>');
  const xml = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code></Error>');
  const cases: Case[] = [];
  for (const provider of ['fal', 'replicate', 'civitai'] as const) {
    cases.push(
      { name: 'an HTML page served as image/png', provider, setup: offer(provider, 'page-as-png.png', page, 'image/png'), expect: { state: 'failed', kind: 'bad_output', message: /HTML page/ } },
      { name: 'an HTML page served as text/html', provider, setup: offer(provider, 'page-as-html.png', page, 'text/html'), expect: { state: 'failed', kind: 'bad_output', message: /HTML page/ } },
      { name: 'an S3 XML error served as image/png', provider, setup: offer(provider, 's3-error.png', xml, 'image/png'), expect: { state: 'failed', kind: 'bad_output' } },
    );
  }
  for (const c of cases) await runCase(c, 'HTML error pages as outputs');
});

test('every corrupt PngSuite file (x*.png) and every bad_images file offered as a download ends in a typed state; none is half-stored', { timeout: 600_000, ...needsFixtures(PNGSUITE, BAD_IMAGES) }, async () => {
  const corrupt = fixtureFiles(PNGSUITE, (n) => /^x.*\.png$/.test(n));
  const bad = fixtureFiles(BAD_IMAGES);
  assert.equal(corrupt.length, PNGSUITE_CORRUPT);
  const outcomes: string[] = [];
  for (const provider of ['fal', 'replicate', 'civitai'] as const) {
    for (const file of [...corrupt, ...bad]) {
      const name = path.basename(file);
      const bytes = await fs.readFile(file);
      // Every x*.png is corrupt by definition; a bad_images file may be a sound image in an odd shape.
      const mustFail = file.startsWith(PNGSUITE);
      const c: Case = { name: `offered ${name}`, provider, setup: offer(provider, `${provider}-${name}`, bytes, 'image/png', name.endsWith('.jpg') ? 'image/jpeg' : 'image/png'), expect: { state: 'failed', kind: 'bad_output' } };
      if (!mustFail) {
        // Find out what it is, then hold the job to the right standard.
        const { checkDownloaded } = await import('../../src/media/sniff.ts');
        const sound = await checkDownloaded(bytes, undefined, { minSide: 8 }).then(
          () => true,
          () => false,
        );
        if (sound) c.expect = { state: 'succeeded' };
      }
      const job = await runCase(c, mustFail ? 'corrupt PngSuite files as downloads' : 'bad_images files as downloads');
      outcomes.push(`${provider} ${name}: ${job.state}${job.error ? ` (${job.error.kind}: ${job.error.message.slice(0, 90)})` : ''}`);
    }
  }
  console.log(`# outcomes:\n${outcomes.map((o) => `#   ${o}`).join('\n')}`);
});

test('Civitai: 429 storms, 5xx bursts, a workflow that never ends or expires, resets, malformed and HTML answers', { timeout: 300_000 }, async () => {
  const good = await pngBytes(64, 64, [120, 30, 200]);
  const page = '<html><body><h1>502 Bad Gateway</h1></body></html>';
  const blob = (name: string, truncateAt?: number) => () => {
    r.civitai.files.set(`/orchestration.civitai.com/v2/consumer/blobs/${name}.png`, { bytes: good, contentType: 'image/png', truncateAt });
    const url = `${fileUrl('orchestration.civitai.com', `/v2/consumer/blobs/${name}.png`)}?sig=abc&exp=2099-01-01T00:00:00Z`;
    r.civitai.nextJob({ output: { images: [{ type: 'image', id: name, available: true, url, urlExpiresAt: '2099-01-01T00:00:00Z', width: 64, height: 64 }] } });
  };
  const download = (req: { host: string; path: string }) => req.host === 'orchestration.civitai.com' && req.path.includes('/blobs/');
  const problem = { type: 'https://tools.ietf.org/html/rfc9110#section-15.6.1', title: 'Internal Server Error', status: 500 };
  const cases: Case[] = [
    { name: 'submit: 50 × 429', provider: 'civitai', faults: [{ route: 'submit', status: 429, times: 50 }], expect: { state: 'failed', kind: 'rate_limited' } },
    { name: 'submit: 3 × 429, Retry-After 1', provider: 'civitai', faults: [{ route: 'submit', status: 429, headers: { 'retry-after': '1' }, times: 3 }], expect: { state: 'succeeded' } },
    { name: 'get: 8 × 429', provider: 'civitai', faults: [{ route: 'get', status: 429, times: 8 }], expect: { state: 'succeeded' } },
    { name: 'get: 4 × 503', provider: 'civitai', faults: [{ route: 'get', status: 503, body: problem, times: 4 }], expect: { state: 'succeeded' } },
    { name: 'get: 60 × 500', provider: 'civitai', faults: [{ route: 'get', status: 500, body: problem, times: 60 }], expect: { state: 'failed', kind: 'provider_down' } },
    { name: 'submit: 500 once (may have been accepted)', provider: 'civitai', faults: [{ route: 'submit', status: 500, body: problem }], expect: { state: 'failed', kind: 'provider_down' } },
    { name: 'a workflow that stays processing', provider: 'civitai', setup: () => r.civitai.nextJob({ sequence: Array.from({ length: 400 }, () => 'processing') }), expect: { state: 'failed', kind: 'timeout', message: /timeoutMinutes/ } },
    { name: 'a workflow that expires', provider: 'civitai', setup: () => r.civitai.nextJob({ end: 'expired' }), expect: { state: 'failed', kind: 'failed', message: /expire/ } },
    { name: 'a workflow that fails', provider: 'civitai', setup: () => r.civitai.nextJob({ end: 'failed', reason: 'no_provider_available' }), expect: { state: 'failed', kind: 'failed' } },
    { name: 'download cut after 100 bytes', provider: 'civitai', setup: blob('cut100', 100), expect: { state: 'failed', kind: 'bad_output' } },
    { name: 'download dropped once', provider: 'civitai', setup: blob('drop1'), faults: [{ when: download, drop: true }], expect: { state: 'succeeded' } },
    { name: 'download dropped every time', provider: 'civitai', setup: blob('dropall'), faults: [{ when: download, drop: true, times: 50 }], expect: { state: 'failed', kind: 'network' } },
    { name: 'get dropped every time', provider: 'civitai', faults: [{ route: 'get', drop: true, times: 60 }], expect: { state: 'failed', kind: 'network' } },
    { name: 'submit answers {"oops', provider: 'civitai', faults: [{ route: 'submit', malformed: true }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'get answers {"oops', provider: 'civitai', faults: [{ route: 'get', malformed: true, times: 60 }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'get answers a captive-portal HTML page with 200', provider: 'civitai', faults: [{ route: 'get', status: 200, raw: { body: page, contentType: 'text/html' }, times: 60 }], expect: { state: 'failed', kind: 'bad_response' } },
    { name: 'get answers an nginx 502 page', provider: 'civitai', faults: [{ route: 'get', status: 502, raw: { body: page, contentType: 'text/html' }, times: 60 }], expect: { state: 'failed', kind: 'provider_down' } },
    { name: 'result of the wrong shape', provider: 'civitai', setup: () => r.civitai.nextJob({ output: { images: 'not a list' } }), expect: { state: 'failed', kind: 'bad_response' } },
  ];
  for (const c of cases) await runCase(c, 'Civitai faults');
});
