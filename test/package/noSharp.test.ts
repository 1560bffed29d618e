// The issue's own case: a VSIX whose sharp is built for another platform (as a Linux build on a
// Mac). Its command line, run from the unpacked VSIX, resolves sharp from the VSIX's own
// dist/node_modules; sharp's loader finds no binary for this machine and throws, as it would
// in the extension host. Jobs against the fal fake must still store every product, checked by
// its bytes; a truncated download must still be refused; one warning says what is missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readEmbeddedParameters } from '../../src/media/a1111.ts';
import { createProject, openProjectDb, thumbsDir } from '../../src/storage/index.ts';
import { GalleryController } from '../../src/webviews/galleryController.ts';
import { fileUrl } from '../fakes/common.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { walkFiles } from '../files.ts';
import { ensureVsix, readVsix, type Target } from './vsix.ts';

const run = promisify(execFile);
const KEY = 'fal-nosharp-key-0123456789abcdef';
// A platform that is not this one, so its sharp cannot load here.
const FOREIGN: Target = process.platform === 'darwin' && process.arch === 'arm64' ? 'linux-x64' : 'darwin-arm64';

let fake: FalFake;
let base: string;
let cli: string;

/** The outputs a job returns: one of each still format, at realistic sizes. */
const OUTPUTS: { name: string; type: string; width: number; height: number; make: (s: sharp.Sharp) => sharp.Sharp }[] = [
  { name: 'a.png', type: 'image/png', width: 512, height: 384, make: (s) => s.png() },
  { name: 'b.jpg', type: 'image/jpeg', width: 768, height: 512, make: (s) => s.jpeg({ quality: 85, progressive: true }) },
  { name: 'c.webp', type: 'image/webp', width: 640, height: 640, make: (s) => s.webp({ quality: 80 }) },
  { name: 'd.gif', type: 'image/gif', width: 300, height: 200, make: (s) => s.gif() },
  { name: 'e.avif', type: 'image/avif', width: 400, height: 300, make: (s) => s.avif({ effort: 0 }) },
];

async function generate(project: string, file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, FAL_KEY: KEY, ARTFACTORY_FAL_BASE_URL: fake.baseUrl };
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, 'generate', file, '--project', project, '--json'], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function paramFile(project: string, name: string, content: object): Promise<string> {
  const file = path.join(project, 'params', name);
  await fs.writeFile(file, JSON.stringify(content));
  return file;
}

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'af-nosharp-'));
  await readVsix(ensureVsix(FOREIGN), path.join(base, 'vsix'));
  cli = path.join(base, 'vsix', 'extension', 'dist', 'cli.js');
  fake = await startFalFake({ key: KEY });
});

after(async () => {
  await fake?.close();
  await fs.rm(base, { recursive: true, force: true });
});

test(`sharp really cannot load from the ${FOREIGN} VSIX here`, async () => {
  const probe = await run(process.execPath, ['-e', "try { require('sharp'); console.log('loaded') } catch (e) { console.log(e.message.split('\\n')[0]) }"], { cwd: path.dirname(cli) });
  assert.match(probe.stdout, /Could not load the "sharp" module/);
});

test('without sharp, every output of every job is checked by its bytes and stored; one warning for the whole run', async () => {
  const project = path.join(base, 'stored');
  await createProject(project, 'No sharp');
  const images = [];
  for (const o of OUTPUTS) {
    const noise = await sharp({ create: { width: o.width, height: o.height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 50 } } }).png().toBuffer();
    const bytes = await o.make(sharp(noise)).toBuffer();
    fake.files.set(`/v3.fal.media/files/nosharp/${o.name}`, { bytes, contentType: o.type });
    images.push({ url: fileUrl('v3.fal.media', `/files/nosharp/${o.name}`), content_type: o.type, width: o.width, height: o.height, bytes });
  }
  // The provider reports no sizes: what the product records must come from the bytes.
  fake.plan({ output: { images: images.map(({ url, content_type }) => ({ url, content_type })), seed: 7 } });
  const file = await paramFile(project, 'five.art.json', { provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'a harbour without sharp' }, count: 3 });
  const r = await generate(project, file);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { products: { id: string; path: string }[]; failed: unknown[] };
  assert.equal(out.failed.length, 0);
  assert.equal(out.products.length, 3 * OUTPUTS.length, 'every output of every job is a product');

  const warnings = r.stderr.split('\n').filter((l) => l.includes('image library (sharp) could not load'));
  assert.equal(warnings.length, 1, `one warning, not one per job or product:\n${r.stderr}`);
  assert.match(warnings[0], /Could not load the "sharp" module/);
  assert.match(warnings[0], /Install the Art Factory build for/);
  assert.ok(!/thumbnail for/.test(r.stderr), 'no per-product thumbnail warnings');

  const db = await openProjectDb(project);
  try {
    for (const p of out.products) {
      const rec = (await db.getProduct(p.id))!;
      const o = OUTPUTS[Number(p.id.split('-').at(-1))];
      assert.equal(rec.mediaType, o.type, p.id);
      assert.deepEqual([rec.width, rec.height], [o.width, o.height], `${p.id}: the size read from the bytes`);
      const stored = await fs.readFile(p.path);
      assert.equal(createHash('sha256').update(stored).digest('hex'), rec.sha256, p.id);
      if (o.type === 'image/png') assert.equal(readEmbeddedParameters(stored)?.parameters?.prompt, 'a harbour without sharp', 'the PNG still carries its parameters');
      else assert.ok(stored.equals(images[OUTPUTS.indexOf(o)].bytes), `${p.id}: stored unchanged`);
      // No thumbnail: the gallery tile shows the original, which the webview scales.
      const tile = new GalleryController({ projects: () => [], scope: project, toUri: (f) => `uri:${f}`, actions: { run: async () => undefined, delete: async () => ({ deleted: [] }), undoDelete: async () => undefined }, post: () => undefined, log: { info() {}, warn() {}, error() {} } }).productTile(project, rec);
      assert.equal(tile?.thumb, `uri:${p.path}`, `${p.id}: the tile points at the original`);
    }
  } finally {
    await db.close();
  }
  assert.deepEqual(existsSync(thumbsDir(project)) ? await walkFiles(thumbsDir(project)) : [], [], 'no thumbnails were made');
});

test('without sharp, a truncated or corrupt download is still refused and the job says why', async () => {
  const project = path.join(base, 'refused');
  await createProject(project, 'Refused');
  const good = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 50 } } }).jpeg().toBuffer();
  fake.files.set('/v3.fal.media/files/nosharp/cut.jpg', { bytes: good.subarray(0, Math.floor(good.length * 0.7)), contentType: 'image/jpeg' });
  fake.plan({ output: { images: [{ url: fileUrl('v3.fal.media', '/files/nosharp/cut.jpg'), content_type: 'image/jpeg' }] } });
  const file = await paramFile(project, 'cut.art.json', { provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'a cut download' } });
  const r = await generate(project, file);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { products: unknown[]; failed: { error: { kind: string; message: string } }[] };
  assert.equal(out.products.length, 0);
  assert.equal(out.failed[0].error.kind, 'bad_output');
  assert.match(out.failed[0].error.message, /JPG file is truncated/);
  assert.deepEqual((await walkFiles(path.join(project, 'products'))).filter((f) => !f.endsWith('.json')), [], 'nothing half-stored');
});

test('without sharp, the Sample provider says it needs sharp and how to get it', async () => {
  const project = path.join(base, 'sample');
  await createProject(project, 'Sample');
  const file = await paramFile(project, 'sample.art.json', { provider: 'sample', model: 'sample/gradient', input: { prompt: 'a lighthouse', duration_ms: 0 } });
  const r = await generate(project, file);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { failed: { error: { message: string } }[] };
  assert.match(out.failed[0].error.message, /The Sample provider needs the image library sharp, which could not load on this machine \([\w-]+\)\. Install the Art Factory build for/);
});
