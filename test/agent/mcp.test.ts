// The MCP server as a client sees it: `art-factory mcp --project DIR` started over stdio by the
// official SDK's client, its tools listed and called (the Sample provider for real images, the
// fal fake for a provider that fails), its product resources read, and its errors checked to be
// clean sentences with no stack trace and no key.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { TOOLS } from '../../src/agent/definitions.ts';
import { createProject } from '../../src/storage/index.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';

const CLI = path.join(__dirname, '../../src/cli/main.ts');
const FAL_KEY = 'fal-mcp-wrong-key-0123456789abcdef';

let dir: string;
let client: Client;
let fal: FalFake;
let stderr = '';

type Content = { type: string; text?: string; uri?: string; mimeType?: string };
type Result = { isError?: boolean; content: Content[] };

async function call(name: string, args: Record<string, unknown>, onprogress?: (p: { progress: number; total?: number; message?: string }) => void): Promise<{ isError: boolean; text: string; json: Record<string, unknown>; content: Content[] }> {
  const r = (await client.callTool({ name, arguments: args }, undefined, { onprogress, timeout: 120_000 })) as Result;
  const text = r.content.find((c) => c.type === 'text')?.text ?? '';
  let json: Record<string, unknown> = {};
  if (!r.isError) json = JSON.parse(text) as Record<string, unknown>;
  return { isError: r.isError === true, text, json, content: r.content };
}

/** A tool error: a sentence, not a stack or a key. */
function assertClean(text: string): void {
  assert.ok(text.length > 10, text);
  assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(text, /\.ts:\d+/, 'no source positions');
  assert.ok(!text.includes(FAL_KEY), 'no key');
}

before(async () => {
  dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-mcp-')), 'site');
  await createProject(dir, 'Site art');
  fal = await startFalFake({ key: 'fal-the-right-key-0123456789abcdef' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI, 'mcp', '--project', dir, '--max-jobs', '6'],
    env: { ...(process.env as Record<string, string>), FAL_KEY, ARTFACTORY_FAL_BASE_URL: fal.baseUrl, REPLICATE_API_TOKEN: '', CIVITAI_API_TOKEN: '' },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  client = new Client({ name: 'art-factory-test', version: '1.0.0' });
  await client.connect(transport);
});

after(async () => {
  await client?.close();
  await fal?.close();
  assert.ok(!stderr.includes(FAL_KEY), 'the server never logs the key');
});

test('lists the five tools with their schemas and annotations', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(
    tools.map((t) => t.name),
    TOOLS.map((t) => t.name),
  );
  const generate = tools.find((t) => t.name === 'artfactory_generate')!;
  assert.equal(generate.inputSchema.type, 'object');
  assert.ok(generate.inputSchema.properties && 'prompt' in generate.inputSchema.properties && 'file' in generate.inputSchema.properties);
  assert.equal(generate.annotations?.readOnlyHint, false);
  assert.equal(tools.find((t) => t.name === 'artfactory_search_products')!.annotations?.readOnlyHint, true);
});

test('generate with the Sample provider, search, get, curate, read the product resource', async () => {
  const progress: number[] = [];
  const gen = await call('artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'a red fox for the hero banner', count: 2, input: { width: 384, height: 256, duration_ms: 200 } }, (p) => progress.push(p.progress));
  assert.equal(gen.isError, false, gen.text);
  const products = gen.json.products as { id: string; file: string; width: number; height: number }[];
  assert.equal(products.length, 2);
  assert.equal(gen.json.projectDir, dir);
  for (const p of products) {
    assert.match(p.file, /^products\/\d{4}\/\d{2}\/\d{2}\/[\w-]+\.png$/, 'project-relative path');
    const meta = await sharp(path.join(dir, p.file)).metadata();
    assert.deepEqual([meta.width, meta.height], [384, 256]);
  }
  assert.deepEqual(gen.json.failed, []);
  assert.ok(progress.includes(2), `progress reported up to 2 of 2 (got ${progress.join(',')})`);
  // Each product is linked as a resource too.
  assert.deepEqual(
    gen.content.filter((c) => c.type === 'resource_link').map((c) => c.uri),
    products.map((p) => `artfactory://product/${p.id}`),
  );

  // A product of another prompt, so the search has something to leave out.
  const other = await call('artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'blue lighthouse icon', input: { width: 256, height: 256, duration_ms: 100 } });
  assert.equal(other.isError, false, other.text);

  const found = await call('artfactory_search_products', { text: 'fox' });
  assert.equal(found.isError, false, found.text);
  assert.equal(found.json.total, 2);
  assert.deepEqual(new Set((found.json.products as { id: string }[]).map((p) => p.id)), new Set(products.map((p) => p.id)));
  const all = await call('artfactory_search_products', { limit: 1 });
  assert.equal(all.json.total, 3);
  assert.equal((all.json.products as unknown[]).length, 1);
  assert.equal(typeof all.json.next, 'string');

  const got = await call('artfactory_get_product', { id: products[0].id });
  assert.equal(got.isError, false, got.text);
  assert.equal((got.json.input as { prompt: string }).prompt, 'a red fox for the hero banner');
  assert.equal(typeof got.json.seed, 'number');
  assert.equal(got.json.file, products[0].file);

  // Curate: the rating and tags reach the sidecar (the durable record), and searches.
  const rated = await call('artfactory_update_products', { ids: [products[0].id], rating: 4, favorite: true, addTags: ['hero', 'fox'] });
  assert.equal(rated.isError, false, rated.text);
  const sidecar = JSON.parse(await fs.readFile(path.join(dir, products[0].file.replace(/\.png$/, '.json')), 'utf8')) as { rating: number; favorite: boolean; tags: string[] };
  assert.deepEqual([sidecar.rating, sidecar.favorite, sidecar.tags], [4, true, ['hero', 'fox']]);
  const untagged = await call('artfactory_update_products', { ids: [products[0].id], removeTags: ['fox'] });
  assert.deepEqual((untagged.json.updated as { tags: string[] }[])[0].tags, ['hero']);
  const best = await call('artfactory_search_products', { minRating: 4, tags: ['hero'], favorite: true });
  assert.deepEqual((best.json.products as { id: string }[]).map((p) => p.id), [products[0].id]);

  // The product as a resource: its thumbnail as image content, and its summary.
  const { resources } = await client.listResources();
  assert.ok(resources.some((r) => r.uri === `artfactory://product/${products[0].id}`));
  const read = await client.readResource({ uri: `artfactory://product/${products[0].id}` });
  const image = read.contents.find((c) => 'blob' in c) as { blob: string; mimeType: string };
  assert.equal(image.mimeType, 'image/webp');
  const thumb = await sharp(Buffer.from(image.blob, 'base64')).metadata();
  assert.equal(thumb.format, 'webp');
  assert.deepEqual([thumb.width, thumb.height], [384, 256], 'the large thumbnail never upscales');
  const summary = read.contents.find((c) => 'text' in c) as { text: string };
  assert.equal(JSON.parse(summary.text).id, products[0].id);

  // Image to image from a product: lineage says what it was made from.
  const tinted = await call('artfactory_generate', { provider: 'sample', model: 'sample/image-to-image', prompt: 'tint it green', input: { image_url: `product:${products[0].id}`, width: 256, height: 256, duration_ms: 100 } });
  assert.equal(tinted.isError, false, tinted.text);
  const made = (tinted.json.products as { id: string }[])[0];
  const lineage = await call('artfactory_get_product', { id: made.id });
  assert.equal((lineage.json.madeFrom as { product: string }[])[0].product, products[0].id);
  const source = await call('artfactory_get_product', { id: products[0].id });
  assert.deepEqual(source.json.usedIn, [made.id]);
});

test('list models: the catalogue with key states, and one model with its input fields', async () => {
  const listed = await call('artfactory_list_models', { provider: 'sample' });
  assert.equal(listed.isError, false, listed.text);
  const models = listed.json.models as { id: string; keySet: boolean; capabilities: string[] }[];
  assert.ok(models.some((m) => m.id === 'sample/image-to-image' && m.capabilities.includes('image-to-image')));
  const falModels = (await call('artfactory_list_models', { provider: 'fal' })).json.models as { keySet: boolean }[];
  assert.ok(falModels.length > 0 && falModels.every((m) => m.keySet === true), 'FAL_KEY is set in the server environment');
  const one = await call('artfactory_list_models', { model: 'sample/gradient' });
  const inputs = one.json.inputs as { name: string; required?: boolean; values?: number[]; default?: unknown }[];
  assert.equal(inputs.find((f) => f.name === 'prompt')?.required, true);
  assert.ok(inputs.find((f) => f.name === 'width')?.values?.includes(768));
});

test('bad arguments and refused requests are clean tool errors, and nothing is sent', async () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', count: 'two' }, /"count": .*expected number/],
    ['artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', colour: 'red' }, /Unknown field "colour"/],
    ['artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', input: { width: 300 } }, /Nothing was sent: .*"width" must be one of: 256, 384/],
    ['artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', count: 200 }, /"count": .*100/],
    ['artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', count: 7 }, /7 jobs; this server starts at most 6/],
    ['artfactory_generate', { provider: 'nope', model: 'x', prompt: 'x' }, /Unknown provider "nope"/],
    ['artfactory_generate', { prompt: 'x' }, /Give either "file" .* or "provider" and "model"/],
    ['artfactory_generate', { file: '../outside.art.json' }, /There is no parameter file|outside the project/],
    ['artfactory_generate', { provider: 'sample', model: 'sample/image-to-image', prompt: 'x', input: { image_url: 'product:does-not-exist' } }, /There is no product "does-not-exist"/],
    ['artfactory_generate', { provider: 'sample', model: 'sample/image-to-image', prompt: 'x', input: { image_url: '/etc/passwd' } }, /is not an image/],
    ['artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', project: 'elsewhere' }, /"elsewhere" is not a project open here/],
    ['artfactory_get_product', { id: 'no-such-product' }, /There is no product "no-such-product"/],
    ['artfactory_get_product', { id: '../../etc/passwd' }, /is not a product id/],
    ['artfactory_update_products', { ids: ['no-such-product'], rating: 3 }, /No product was changed/],
    ['artfactory_update_products', { ids: ['x'] }, /Say what to change/],
    ['artfactory_search_products', { from: 'yesterday' }, /"from": Write a date as YYYY-MM-DD/],
    ['artfactory_list_models', { provider: 'midjourney' }, /Unknown provider "midjourney"/],
    ['artfactory_teleport', {}, /There is no Art Factory tool "artfactory_teleport"/],
  ];
  const before = (await call('artfactory_search_products', {})).json.total;
  for (const [name, args, expected] of cases) {
    const r = await call(name, args);
    assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail: ${r.text}`);
    assert.match(r.text, expected, `${name} ${JSON.stringify(args)}`);
    assertClean(r.text);
  }
  assert.equal((await call('artfactory_search_products', {})).json.total, before, 'no refused call made a product');

  // A parameter file outside the project that exists is refused too; one inside runs.
  const outside = path.join(path.dirname(dir), 'outside.art.json');
  await fs.writeFile(outside, JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'x' } }));
  const refused = await call('artfactory_generate', { file: outside });
  assert.match(refused.text, /is outside the project "Site art"/);
  await fs.writeFile(path.join(dir, 'params', 'bad.art.json'), '{ "provider": "sample", "model": "sample/gradient", "input": { "prompt": 5 } }');
  const bad = await call('artfactory_generate', { file: 'params/bad.art.json' });
  assert.match(bad.text, /Nothing was sent: params\/bad\.art\.json has problems: "prompt" must be string \(line 1\)/);
  await fs.writeFile(path.join(dir, 'params', 'ok.art.json'), JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'from a file', width: 256, height: 256, duration_ms: 100 } }));
  const ok = await call('artfactory_generate', { file: 'params/ok.art.json' });
  assert.equal(ok.isError, false, ok.text);
  assert.equal((ok.json.products as unknown[]).length, 1);
});

test('a key never reaches a result: echoed input and a provider refusing the key', async () => {
  const echoed = await call('artfactory_generate', { file: `params/${FAL_KEY}.art.json` });
  assert.equal(echoed.isError, true);
  assert.match(echoed.text, /There is no parameter file "params\/«redacted»\.art\.json"/);
  assertClean(echoed.text);
  // The fal fake wants another key: the job fails with the provider's reason, and no key.
  const failed = await call('artfactory_generate', { provider: 'fal', model: 'fal-ai/flux/schnell', prompt: 'a fox' });
  assert.ok(!failed.text.includes(FAL_KEY), failed.text);
  const reason = failed.isError ? failed.text : JSON.stringify(failed.json.failed);
  assert.match(reason, /key|auth|401|credential/i);
  assertClean(reason);
});

test('a resource that is no product is a clean error', async () => {
  await assert.rejects(client.readResource({ uri: 'artfactory://product/nothing-here' }), (e: Error) => {
    assert.match(e.message, /There is no product "nothing-here"/);
    assertClean(e.message);
    return true;
  });
});

test('a client that goes away mid-generation: the server cancels the jobs, closes the database and exits', async () => {
  const own = path.join(path.dirname(dir), 'closing');
  await createProject(own, 'Closing');
  const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', CLI, 'mcp', '--project', own], env: { ...(process.env as Record<string, string>), FAL_KEY: '' }, stderr: 'pipe' });
  const other = new Client({ name: 'art-factory-test-2', version: '1.0.0' });
  await other.connect(transport);
  const pid = transport.pid!;
  void other.callTool({ name: 'artfactory_generate', arguments: { provider: 'sample', model: 'sample/slow', prompt: 'left behind', count: 2 } }).catch(() => undefined);
  // Wait until both jobs are stored, then go away.
  const { openProjectDb } = await import('../../src/storage/index.ts');
  let started = 0;
  for (let i = 0; i < 100 && started < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const db = await openProjectDb(own);
    started = (await db.listJobs({ limit: 10 })).length;
    await db.close();
  }
  assert.equal(started, 2);
  await other.close();
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.throws(() => process.kill(pid, 0), 'the server process has exited');
  const db = await openProjectDb(own);
  try {
    assert.deepEqual((await db.listJobs({ limit: 10 })).map((j) => j.state), ['canceled', 'canceled']);
  } finally {
    await db.close();
  }
});
