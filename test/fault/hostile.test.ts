// Hostile input: none of it is acted on, each piece gets a clear answer.
//   1. 10,000 random and malformed webview messages into the gallery controller's entry point
//      (plain Node): random JSON, wrong types, unknown types, huge strings, prototype keys, deep
//      nesting, valid-looking requests with hostile ids and paths. Nothing throws, nothing is
//      written (database and files, inside and outside the project), no action runs, the
//      prototype stays clean, and every refused message is logged.
//   2. Parameter files with huge values, 10,000- and 100,000-level nesting, wrong types and giant
//      arrays, through the command line's generate: positioned errors, exit code 2, and the
//      fal fake receives nothing at all.
//   3. Provider outputs whose URLs and names are `../`, absolute paths, `file:`, `data:` of the
//      wrong type, non-loopback `http:`: refused with a clear error, nothing written outside
//      products/ (and nothing at all for a refused output).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { main as cli } from '../../src/cli/main.ts';
import { createSchemaCache } from '../../src/engine/schemas.ts';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import type { ProjectDb } from '../../src/storage/types.ts';
import { rng } from '../../src/providers/sample.ts';
import { GalleryController } from '../../src/webviews/galleryController.ts';
import type { HostMessage } from '../../src/webviews/protocol.ts';
import { fileUrl, pngBytes } from '../fakes/common.ts';
import { startFalFake } from '../fakes/fal.ts';
import { product } from '../storage/helpers.ts';
import { FaultReport, diffSnapshots, guardUnhandled, sha256, snapshot, tempFiles } from './helpers.ts';
import { providerRig } from './rig.ts';

const report = new FaultReport('hostile');
const guard = guardUnhandled();
const PROTO_KEYS = ['polluted', 'isAdmin', 'evil', 'shell', 'toString2'];

after(() => {
  report.write();
  guard.dispose();
});

function assertPrototypeClean(): void {
  const probe = {} as Record<string, unknown>;
  for (const k of PROTO_KEYS) assert.equal(probe[k], undefined, `Object.prototype.${k} was polluted`);
  assert.equal(typeof Object.prototype.toString, 'function');
}

const HOSTILE_IDS = ['../../etc/passwd', '..\\..\\windows\\system32', '/etc/shadow', 'C:\\Windows\\win.ini', 'file:///etc/passwd', '%2e%2e%2f%2e%2e%2fetc', '\u0000', 'a'.repeat(101), '', '__proto__', 'constructor', 'prototype', '<img src=x onerror=alert(1)>', "' OR 1=1 --", 'P00000001/../../../x', '\\\\server\\share', 'NOPE-does-not-exist'];
const HOSTILE_TEXT = ['../../etc/passwd', "'; DROP TABLE products; --", '" OR ""="', 'NEAR(a b) OR c*', '*', '\u202e\u0000\uffff', '${process.exit()}', '{{constructor.constructor("return process")()}}', 'x'.repeat(499)];

function deep(n: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < n; i++) v = i % 2 ? { a: v } : [v];
  return v;
}

/** One hostile message; `kind` says which family it is from (for the report). */
function hostileMessage(rand: () => number, i: number): { kind: string; msg: unknown } {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const id = () => pick(HOSTILE_IDS);
  const randomJson = (depth: number): unknown => {
    const r = rand();
    if (depth > 4 || r < 0.3) return pick([null, true, false, 0, -1, 1e308, -0, NaN, Infinity, 'x', '', '\u0000', 42.5, Number.MAX_SAFE_INTEGER + 2]);
    if (r < 0.55) return Array.from({ length: Math.floor(rand() * 5) }, () => randomJson(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [pick(['type', 'id', 'method', 'params', 'filter', 'ids', 'patch', 'action', '__proto__', 'constructor', 'x']), randomJson(depth + 1)]));
  };
  const request = (method: unknown, params: unknown, reqId: unknown = i) => ({ type: 'request', id: reqId, method, params });
  const families: [string, () => unknown][] = [
    ['random JSON', () => randomJson(0)],
    ['wrong types', () => pick([{ type: 7 }, { type: ['request'] }, { type: 'request', id: 'one', method: 'query', params: {} }, request('query', { filter: 'all' }), request('query', { filter: { status: 5 } }), request('update', { ids: 'P00000001', patch: {} }), request('update', { ids: [1, 2], patch: { rating: '5' } }), request('getProduct', { id: 12 }), request('action', { ids: [id()], action: 7 }), request('query', { filter: { sort: 'newest', status: 'all' }, limit: -5 }), request('query', { filter: {}, limit: 1e9 })])],
    ['unknown types and methods', () => pick([{ type: 'evil' }, { type: 'reply', id: 1, ok: true }, { type: 'productAdded', tile: {} }, request('deleteAll', {}), request('__proto__', {}), request('constructor', {}), request('toString', {}), request('hasOwnProperty', {}), request('eval', 'process.exit(1)'), request('action', { ids: ['P00000001'], action: 'rm -rf /' }), request('action', { ids: [id()], action: 'undoDelete' }), request('undoDelete', { ids: [id()] })])],
    ['huge strings', () => pick([request('query', { filter: { text: 'x'.repeat(1_000_000) } }), request('getProduct', { id: 'P'.repeat(1_000_000) }), { type: 'x'.repeat(2_000_000) }, request('update', { ids: ['P00000001'], patch: { notes: 'n'.repeat(100_000) } }), request('update', { ids: ['P00000001'], patch: { tags: ['t'.repeat(1_000)] } }), request('query', { filter: { status: 'all', sort: 'newest' }, after: 'A'.repeat(10_000) })])],
    ['prototype keys', () => pick([JSON.parse('{"__proto__":{"polluted":true},"type":"request","id":1,"method":"query","params":{"filter":{}}}'), JSON.parse('{"type":"request","id":1,"method":"update","params":{"ids":["P00000001"],"patch":{"__proto__":{"isAdmin":true}}}}'), JSON.parse('{"type":"request","id":1,"method":"query","params":{"filter":{"__proto__":{"evil":1},"status":"all","sort":"newest"}}}'), JSON.parse('{"type":"request","id":1,"method":"action","params":{"ids":["P00000001"],"action":"reveal","constructor":{"prototype":{"shell":true}}}}'), JSON.parse('{"type":"stateChanged","filter":{"constructor":{"prototype":{"toString2":1}}},"tileSize":100}')])],
    ['deep nesting', () => pick([deep(10_000), request('query', deep(5_000)), request('update', { ids: ['P00000001'], patch: { tags: deep(3_000) } }), { type: 'stateChanged', filter: deep(2_000), tileSize: 100 }])],
    ['hostile ids and paths', () => pick([request('getProduct', { id: id() }), request('update', { ids: [id(), id()], patch: { rating: 5, favorite: true, tags: ['../../etc'], notes: '/etc/passwd' } }), request('action', { ids: [id()], action: pick(['reveal', 'openFile', 'delete', 'export', 'rerun', 'reuse']) }), request('action', { ids: ['NOPE-1'], action: 'delete' }), request('update', { ids: ['NOPE-1'], patch: { rating: 5 } })])],
    ['hostile searches and cursors', () => pick([request('query', { filter: { text: pick(HOSTILE_TEXT), status: 'all', sort: 'newest' } }), request('query', { filter: { provider: [pick(HOSTILE_TEXT)], model: [id()], tags: [pick(HOSTILE_TEXT)], status: 'products', sort: 'rating' } }), request('query', { filter: { status: 'all', sort: 'newest' }, after: Buffer.from(JSON.stringify({ '/etc': 'x', __proto__: { polluted: 1 } })).toString('base64url') }), request('query', { filter: { status: 'all', sort: 'newest' }, after: Buffer.from('not json').toString('base64url') }), request('query', { filter: { status: 'all', sort: 'newest', from: '0000', to: "'; --" }, after: '!!!' })])],
  ];
  const [kind, make] = families[i % families.length];
  return { kind, msg: make() };
}

test('10,000 random and malformed webview messages: none acted on, nothing written, nothing thrown, each refusal logged', { timeout: 300_000 }, async () => {
  const faults = report.category('hostile webview messages');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-fault-hostile-'));
  const dir = path.join(root, 'project');
  await createProject(dir, 'Hostile');
  // Files outside the project that a path traversal would reach.
  await fs.mkdir(path.join(root, 'outside', 'etc'), { recursive: true });
  await fs.writeFile(path.join(root, 'outside', 'etc', 'passwd'), 'root:x:0:0\n');
  const db: ProjectDb = await openProjectDb(dir, { saveDelayMs: 5, backups: 0 });
  try {
    await db.putProducts(Array.from({ length: 50 }, (_, i) => product(i)));
    await db.flush();
    const dbFile = path.join(dir, '.artfactory', 'index.db');
    const before = await snapshot(root);
    const rowsBefore = JSON.stringify(await db.queryProducts({ limit: 1000 }));
    const jobsBefore = JSON.stringify(await db.listJobs({}));
    const dbBefore = sha256(await fs.readFile(dbFile));
    const actions: string[] = [];
    const posted: HostMessage[] = [];
    const logged: string[] = [];
    const controller = new GalleryController({
      projects: () => [{ dir, name: 'Hostile', db: async () => db }],
      scope: dir,
      toUri: (abs) => `vscode-webview-resource:${abs}`,
      actions: {
        run: async (action, items) => void actions.push(`${action} ${items.map((x) => x.product.id).join(',')}`),
        delete: async (items) => {
          actions.push(`delete ${items.map((x) => x.product.id).join(',')}`);
          return { deleted: [] };
        },
        undoDelete: async () => void actions.push('undoDelete'),
      },
      post: (m) => posted.push(m),
      log: { info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    // A page that listens, so a notification a bad message caused would be posted (and caught below).
    await controller.handle({ type: 'ready' });
    assert.deepEqual(posted.splice(0), [{ type: 'undoable', ids: [] }]);
    const seed = Number(process.env.ARTFACTORY_HOSTILE_SEED ?? 20260101);
    const rand = rng(seed);
    const outcomes: Record<string, number> = { 'dropped by the schema (logged)': 0, 'refused with an error reply (logged)': 0, 'answered a read-only query': 0, 'ignored (a valid notification)': 0 };
    const byKind: Record<string, number> = {};
    const threw: string[] = [];
    const N = 10_000;
    for (let i = 0; i < N; i++) {
      const { kind, msg } = hostileMessage(rand, i);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      faults.injected++;
      const dropped = controller.dropped;
      const logs = logged.length;
      const replies = posted.length;
      try {
        await controller.handle(msg);
      } catch (e) {
        threw.push(`#${i} (${kind}): ${String(e).slice(0, 200)}`);
        continue;
      }
      const reply = posted.slice(replies).find((p): p is Extract<HostMessage, { type: 'reply' }> => p.type === 'reply');
      if (controller.dropped > dropped) {
        assert.ok(logged.length > logs, `#${i} (${kind}) was dropped without a log line`);
        outcomes['dropped by the schema (logged)']++;
      } else if (reply && !reply.ok) {
        assert.ok(logged.length > logs, `#${i} (${kind}) was refused without a log line: ${reply.error}`);
        assert.ok(reply.error && reply.error.length > 0, `#${i}: the refusal says why`);
        outcomes['refused with an error reply (logged)']++;
      } else if (reply?.ok) {
        // Only reads may succeed, and only with nothing to act on.
        const m = msg as { method?: string; params?: { ids?: string[] } };
        assert.ok(m.method === 'query' || (m.method === 'update' && reply.result === 0), `#${i} (${kind}) was answered ok: ${JSON.stringify(msg).slice(0, 300)}`);
        outcomes['answered a read-only query']++;
      } else {
        assert.equal(posted.length, replies, `#${i} (${kind}) posted something without a reply`);
        outcomes['ignored (a valid notification)']++;
      }
      faults.survived++;
    }
    assert.deepEqual(threw, [], 'handle() never throws');
    assert.deepEqual(actions, [], 'no action ran');
    for (const p of posted) if (p.type === 'productsChanged') assert.deepEqual(p.tiles, [], 'no product changed');
    assert.ok(!posted.some((p) => p.type === 'productsDeleted' || p.type === 'reset'), 'nothing was deleted');
    assertPrototypeClean();
    await db.flush();
    assert.equal(JSON.stringify(await db.queryProducts({ limit: 1000 })), rowsBefore, 'no product row changed');
    assert.equal(JSON.stringify(await db.listJobs({})), jobsBefore, 'no job changed');
    assert.equal(sha256(await fs.readFile(dbFile)), dbBefore, 'the database file was not rewritten');
    assert.deepEqual(diffSnapshots(before, await snapshot(root)), [], 'no file inside or outside the project was touched');
    guard.check();
    faults.notes = { ...outcomes, ...Object.fromEntries(Object.entries(byKind).map(([k, v]) => [`sent: ${k}`, v])), seed };
    console.log(`# hostile messages: ${JSON.stringify(faults.notes)}`);
  } finally {
    await db.close();
  }
});

test('hostile parameter files get positioned errors from the command line, and the provider receives nothing', { timeout: 300_000 }, async () => {
  const faults = report.category('hostile parameter files');
  const KEY = 'fal-hostile-key-0123456789abcdef';
  const fake = await startFalFake({ key: KEY });
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-fault-params-')), 'project');
  await createProject(dir, 'Params');
  const env = { FAL_KEY: process.env.FAL_KEY, ARTFACTORY_FAL_BASE_URL: process.env.ARTFACTORY_FAL_BASE_URL };
  process.env.FAL_KEY = KEY;
  process.env.ARTFACTORY_FAL_BASE_URL = fake.baseUrl;
  const write = process.stderr.write.bind(process.stderr);
  try {
    // The model's schema is cached in the project first, so a refused file causes no request at all.
    const { createBuiltinRegistry, envContext } = await import('../../src/providers/index.ts');
    await createBuiltinRegistry((id) => envContext(id)).inputSchema('fal', 'fal-ai/flux/dev', undefined, createSchemaCache(dir));
    fake.captured.length = 0;
    const projectBefore = await snapshot(dir);

    const env1 = (extra: string, input = '"prompt": "a lighthouse"') => `{\n  "provider": "fal",\n  "model": "fal-ai/flux/dev",\n  "input": {\n    ${input}\n  }${extra}\n}\n`;
    const nest = (n: number, open: string, close: string) => env1('', `"prompt": "x",\n    "deep": ${open.repeat(n)}1${close.repeat(n)}`);
    const big = Array.from({ length: 100_000 }, (_, i) => i);
    const files: { name: string; text: string; at?: string; why: RegExp }[] = [
      { name: 'over 1 MB', text: env1('', `"prompt": "${'x'.repeat(2 * 1024 * 1024)}"`), why: /limited to 1024 KB/ },
      { name: 'nested 10,000 levels (arrays)', text: nest(10_000, '[', ']'), at: '"deep"', why: /nests deeper than 32/ },
      { name: 'nested 10,000 levels (objects)', text: nest(10_000, '{"a":', '}'), at: '"deep"', why: /nests deeper than 32/ },
      { name: 'nested 100,000 levels', text: nest(100_000, '[', ']'), at: '"deep"', why: /nests deeper than 32/ },
      { name: 'a number beyond a double (1e400)', text: env1('', '"prompt": "x",\n    "guidance_scale": 1e400'), at: '"guidance_scale"', why: /finite|too large/i },
      { name: 'a huge step count', text: env1('', '"prompt": "x",\n    "num_inference_steps": 1e300'), at: '"num_inference_steps"', why: /<= 50|at most|maximum/i },
      { name: 'count of 10^12', text: env1(',\n  "count": 1000000000000'), at: '"count"', why: /count/ },
      { name: 'seeds past 2^64', text: env1(',\n  "seeds": [99999999999999999999]'), at: '"seeds"', why: /seeds/ },
      { name: 'a million jobs', text: env1(',\n  "count": 100,\n  "seeds": [' + Array.from({ length: 100 }, (_, i) => i).join(',') + '],\n  "sweep": { "guidance_scale": [' + Array.from({ length: 100 }, (_, i) => i / 10).join(',') + '] }'), at: '"sweep"', why: /1000000 jobs; the limit is 1000/ },
      { name: 'a sweep of 100,000 values', text: env1(`,\n  "sweep": { "seed": [${big.join(',')}] }`), at: '"seed"', why: /sweep\.seed/ },
      { name: 'seeds with 100,000 entries', text: env1(`,\n  "seeds": [${big.join(',')}]`), at: '"seeds"', why: /seeds/ },
      { name: 'a giant array as a model field', text: env1('', `"prompt": "x",\n    "image_size": [${big.join(',')}]`), at: '"image_size"', why: /image_size/ },
      { name: 'provider is a number', text: '{\n  "provider": 5,\n  "model": "fal-ai/flux/dev",\n  "input": { "prompt": "x" }\n}', at: '"provider"', why: /provider/ },
      { name: 'model is a list', text: '{\n  "provider": "fal",\n  "model": [],\n  "input": { "prompt": "x" }\n}', at: '"model"', why: /model/ },
      { name: 'input is a string', text: '{\n  "provider": "fal",\n  "model": "fal-ai/flux/dev",\n  "input": "prompt=x"\n}', at: '"input"', why: /input/ },
      { name: 'input is a list', text: '{\n  "provider": "fal",\n  "model": "fal-ai/flux/dev",\n  "input": ["x"]\n}', at: '"input"', why: /input/ },
      { name: 'count is text', text: env1(',\n  "count": "3"'), at: '"count"', why: /count/ },
      { name: 'a sweep that is not a list', text: env1(',\n  "sweep": { "prompt": "x" }'), at: '"sweep"', why: /sweep/ },
      { name: 'the prompt is a number', text: env1('', '"prompt": 12'), at: '"prompt"', why: /prompt/ },
      { name: 'num_images is text', text: env1('', '"prompt": "x",\n    "num_images": "4"'), at: '"num_images"', why: /num_images/ },
      { name: 'the safety checker is "yes"', text: env1('', '"prompt": "x",\n    "enable_safety_checker": "yes"'), at: '"enable_safety_checker"', why: /enable_safety_checker/ },
      { name: 'a __proto__ field at the top', text: '{\n  "provider": "fal",\n  "model": "fal-ai/flux/dev",\n  "input": { "prompt": "x" },\n  "__proto__": { "polluted": true }\n}', at: '"__proto__"', why: /Unknown field "__proto__"/ },
      { name: 'a constructor.prototype field at the top', text: '{\n  "provider": "fal",\n  "model": "fal-ai/flux/dev",\n  "input": { "prompt": "x" },\n  "constructor": { "prototype": { "isAdmin": true } }\n}', at: '"constructor"', why: /Unknown field "constructor"/ },
      { name: 'not JSON at all', text: '\u0000\u0001binary\uffff garbage', why: /JSON syntax/ },
      { name: 'JSON cut short', text: '{\n  "provider": "fal",\n  "model": "fal-ai/fl', why: /JSON syntax/ },
      { name: 'a lone string', text: '"provider: fal"', why: /expected object|The file/ },
      { name: 'null', text: 'null', why: /expected object|The file/ },
    ];
    const rows: string[] = [];
    for (const f of files) {
      faults.injected++;
      const file = path.join(dir, 'params', `${f.name.replace(/[^\w]+/g, '-')}.art.json`);
      await fs.writeFile(file, f.text);
      let err = '';
      process.stderr.write = ((chunk: string | Uint8Array) => {
        err += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
        return true;
      }) as typeof process.stderr.write;
      let code: number;
      try {
        code = await cli(['generate', file, '--project', dir]);
      } finally {
        process.stderr.write = write;
      }
      await fs.rm(file);
      assert.equal(code, 2, `${f.name}: exit code 2 (${err.slice(0, 400)})`);
      const positioned = err.split('\n').filter((l) => l.startsWith(`${file}:`));
      assert.ok(positioned.length > 0, `${f.name}: a positioned problem: ${err.slice(0, 400)}`);
      const [, line, , message] = /^.*:(\d+):(\d+): error: (.*)$/.exec(positioned[0]) ?? [];
      assert.ok(line && message, `${f.name}: ${positioned[0].slice(0, 300)}`);
      assert.ok(positioned.some((l) => f.why.test(l)), `${f.name}: ${positioned.join(' | ').slice(0, 400)}`);
      if (f.at) {
        const expected = f.text.slice(0, f.text.indexOf(f.at)).split('\n').length;
        const lines = positioned.map((l) => Number(/:(\d+):\d+: error:/.exec(l)?.[1]));
        assert.ok(lines.includes(expected), `${f.name}: points at line ${expected} (${f.at}), got ${lines.join(', ')}`);
      }
      assert.match(err, /nothing was sent/, f.name);
      assert.deepEqual(fake.captured.map((c) => `${c.method} ${c.url}`), [], `${f.name}: the provider received nothing`);
      assertPrototypeClean();
      rows.push(`${f.name}: ${positioned[0].slice(file.length, file.length + 110)}`);
      faults.survived++;
    }
    assert.deepEqual(diffSnapshots(projectBefore, await snapshot(dir)), [], 'the project is untouched (no database, no job)');
    console.log(`# parameter files:\n${rows.map((r) => `#   ${r}`).join('\n')}`);
  } finally {
    process.stderr.write = write;
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await fake.close();
  }
});

test('provider output URLs and names with ../, absolute paths, file:, wrong data:, non-loopback http: refused clearly, nothing written outside products/', { timeout: 300_000 }, async () => {
  const faults = report.category('hostile provider output URLs and names');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-fault-urls-'));
  const dir = path.join(root, 'project');
  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc', 'passwd'), 'root:x:0:0\n');
  const r = await providerRig({ dir });
  try {
    const png = await pngBytes(64, 64, [1, 2, 3]);
    r.fal.files.set('/v3.fal.media/files/ok.png', { bytes: png, contentType: 'image/png' });
    r.replicate.files.set('/replicate.delivery/ok.png', { bytes: png, contentType: 'image/png' });
    const html = Buffer.from('<html><script>alert(1)</script></html>').toString('base64');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="64" height="64"/></svg>').toString('base64');
    const refused = /refused|only https|not an https URL|HTML page|not an image, video or audio/i;
    const urls = [
      'file:///etc/passwd',
      `file://${path.join(root, 'etc', 'passwd')}`,
      '/etc/passwd',
      '../../etc/passwd',
      '..\\..\\etc\\passwd',
      'C:\\Windows\\win.ini',
      '\\\\server\\share\\x.png',
      'http://example.com/x.png',
      'http://169.254.169.254/latest/meta-data/',
      `http://127.0.0.1:${new URL(r.fal.baseUrl).port === '1' ? '2' : '1'}/x.png`,
      'javascript:alert(1)',
      'ftp://example.com/x.png',
      `data:text/html;base64,${html}`,
      `data:image/png;base64,${html}`,
      `data:image/svg+xml;base64,${svg}`,
      'data:image/png;base64,!!!not base64!!!',
    ];
    const outcomes: string[] = [];
    const outsideBefore = await snapshot(root);
    const check = async (label: string, provider: 'fal' | 'replicate' | 'civitai', setup: () => void, expectSuccess = false) => {
      faults.injected++;
      const productsBefore = await snapshot(path.join(dir, 'products'));
      setup();
      const model = provider === 'fal' ? 'fal-ai/flux/dev' : provider === 'replicate' ? 'black-forest-labs/flux-schnell' : 'urn:air:sdxl:checkpoint:civitai:101055@128078';
      const job = await r.run(provider, model, { prompt: `hostile output ${label}`, ...(provider === 'civitai' ? { width: 64, height: 64 } : {}) });
      outcomes.push(`${provider} ${label.slice(0, 60)}: ${job.state}${job.error ? ` (${job.error.kind}: ${job.error.message.slice(0, 100)})` : ''}`);
      if (expectSuccess) {
        assert.equal(job.state, 'succeeded', `${provider} ${label}: ${JSON.stringify(job.error)}`);
        for (const id of job.productIds) {
          const p = (await r.db.getProduct(id))!;
          assert.match(p.file, /^products\/\d{4}\/\d{2}\/\d{2}\/[\w-]+\.(png|mp4)$/, `${label}: stored under our own name`);
        }
      } else {
        assert.equal(job.state, 'failed', `${provider} ${label}`);
        assert.ok(['insecure', 'bad_output', 'bad_response'].includes(job.error!.kind), `${provider} ${label}: ${job.error!.kind}`);
        assert.match(job.error!.message, refused, `${provider} ${label}: ${job.error!.message}`);
        assert.deepEqual(diffSnapshots(productsBefore, await snapshot(path.join(dir, 'products'))), [], `${provider} ${label}: nothing stored`);
      }
      // Nothing outside the project changed, ever.
      const outside = diffSnapshots(outsideBefore, await snapshot(root)).filter((c) => !c.includes(' project/'));
      assert.deepEqual(outside, [], `${provider} ${label}: nothing outside the project`);
      assert.deepEqual(await tempFiles(dir), []);
      guard.check();
      faults.survived++;
    };
    for (const url of urls) {
      await check(url, 'fal', () => r.fal.nextJob({ output: { images: [{ url, content_type: 'image/png', file_name: '../../../etc/passwd' }] } }));
      await check(url, 'replicate', () => r.replicate.nextJob({ output: [url] }));
      await check(url, 'civitai', () => r.civitai.nextJob({ output: { images: [{ type: 'image', id: '../../etc/passwd', available: true, url, urlExpiresAt: '2099-01-01T00:00:00Z', width: 64, height: 64 }] } }));
    }
    // A good URL whose name, id and type fields are hostile: stored, but only ever under our own name.
    await check('a sound file named ../../../etc/passwd', 'fal', () =>
      r.fal.nextJob({ output: { images: [{ url: fileUrl('v3.fal.media', '/files/ok.png'), content_type: 'image/png', file_name: '../../../../etc/passwd', width: 64, height: 64 }] } }), true);
    await check('a path that climbs out of the file host', 'replicate', () => r.replicate.nextJob({ output: [fileUrl('replicate.delivery', '/a/b/../../ok.png')] }), true);
    assert.equal(await fs.readFile(path.join(root, 'etc', 'passwd'), 'utf8'), 'root:x:0:0\n');
    console.log(`# provider outputs:\n${outcomes.map((o) => `#   ${o}`).join('\n')}`);
  } finally {
    await r.close();
  }
});
