import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { expandJobs, parseParamFile, validateInput } from '../../src/engine/paramFile.ts';
import { GalleryController } from '../../src/webviews/galleryController.ts';
import { startFalFake } from '../fakes/fal.ts';
import { pngBytes } from '../fakes/common.ts';
import { pngTexts } from '../readers.ts';
import type { JobRecord } from '../../src/storage/types.ts';
import { FAL_KEY, lines, listProducts, rig, untilEvent } from './helpers.ts';

test('a parameter file runs end to end against the fal fake: product, sidecar, thumbnails, row, embedded parameters', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    const text = JSON.stringify({ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'a lighthouse at dusk', seed: 42, num_inference_steps: 28, guidance_scale: 3.5 } }, null, 2);
    const parsed = parseParamFile(text);
    const schema = await r.registry.get('fal')!.getInputSchema('fal-ai/flux/dev');
    assert.deepEqual(validateInput(parsed, schema), []);
    const thumbs: string[] = [];
    r.engine.on('thumbnail', (t) => thumbs.push(t.productId));
    const thumbnailed = untilEvent((l) => r.engine.on('thumbnail', l));
    const [job] = await r.engine.submit(expandJobs(parsed.value!), { sourceFile: 'params/a.art.json' });
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.productIds.length, 1);
    const product = (await r.db.getProduct(done.productIds[0]))!;
    assert.match(product.file, /^products\/\d{4}\/\d{2}\/\d{2}\/[\w-]+\.png$/);
    assert.equal(product.requestId, done.requestId);
    assert.equal(product.sourceFile, 'params/a.art.json');
    assert.equal(product.prompt, 'a lighthouse at dusk');
    const bytes = await fs.readFile(path.join(r.dir, product.file));
    assert.equal(bytes.length, product.bytes);
    const sidecar = JSON.parse(await fs.readFile(path.join(r.dir, product.file.replace(/\.png$/, '.json')), 'utf8'));
    assert.deepEqual(sidecar.input, product.input);
    const chunks = pngTexts(bytes);
    assert.equal(chunks.parameters.split('\n')[0], 'a lighthouse at dusk');
    assert.match(chunks.parameters.split('\n')[1], /^Steps: 28, CFG scale: 3\.5, Seed: 42, Size: 64x64, Model: fal-ai\/flux\/dev$/);
    assert.equal(JSON.parse(chunks.artfactory).id, product.id);
    await thumbnailed;
    assert.deepEqual(thumbs, [product.id]);
    const thumb = path.join(r.dir, '.artfactory', 'thumbs', `${product.id}-256.webp`);
    assert.equal((await sharp(thumb).metadata()).format, 'webp');
  } finally {
    await r.close();
    await fake.close();
  }
});

test("a video gets the provider's still as its poster frame and thumbnail; a bad still never fails the job", async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    const thumbs: string[] = [];
    r.engine.on('thumbnail', (t) => thumbs.push(t.productId));
    const thumbnailed = untilEvent((l) => r.engine.on('thumbnail', l));
    const [job] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/minimax/video-01', input: { prompt: 'waves at night' } }]);
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    const video = (await r.db.getProduct(done.productIds[0]))!;
    assert.equal(video.kind, 'video');
    assert.match(video.file, /\.mp4$/);
    assert.equal(video.poster, video.file.replace(/\.mp4$/, '.poster.png'));
    assert.equal((await sharp(path.join(r.dir, video.poster!)).metadata()).format, 'png');
    const sidecar = JSON.parse(await fs.readFile(path.join(r.dir, video.file.replace(/\.mp4$/, '.json')), 'utf8'));
    assert.equal(sidecar.poster, video.poster);
    // The gallery tile shows the poster (then its thumbnail); the detail plays the video.
    const controller = new GalleryController({ projects: () => [], scope: r.dir, toUri: (p) => `uri:${p}`, actions: { run: async () => undefined, delete: async () => ({ deleted: [] }), undoDelete: async () => undefined }, post: () => undefined, log: { info() {}, warn() {}, error() {} } });
    const tile = controller.productTile(r.dir, video)!;
    assert.ok(tile.thumb === `uri:${path.join(r.dir, video.poster!)}` || tile.thumb?.endsWith('-256.webp'), tile.thumb);
    assert.equal(tile.src, `uri:${path.join(r.dir, video.file)}`);
    await thumbnailed;
    assert.deepEqual(thumbs, [video.id], 'the thumbnail is made from the poster');
    assert.equal(controller.productTile(r.dir, video)?.thumb, `uri:${path.join(r.dir, '.artfactory', 'thumbs', `${video.id}-256.webp`)}`);

    // A still that is an error page: the video is kept without a poster, and the log says why.
    fake.addFault({ when: (req) => req.host === 'v3.fal.media' && req.path.endsWith('/0.png'), status: 200, body: { error: 'not found' } });
    const [job2] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/minimax/video-01', input: { prompt: 'rain on glass' } }]);
    const [done2] = await r.engine.waitFor([job2.id]);
    assert.equal(done2.state, 'succeeded', JSON.stringify(done2.error));
    const video2 = (await r.db.getProduct(done2.productIds[0]))!;
    assert.equal(video2.poster, undefined);
    assert.equal(fake.pendingFaults(), 0, 'the still was requested');
    assert.ok(lines.some((l) => l.includes(job2.id) && /poster frame was not stored/.test(l)));
  } finally {
    await r.close();
    await fake.close();
  }
});

test('a sweep of 2 prompts × 3 guidance values makes 6 products with the right inputs', async () => {
  const r = await rig();
  try {
    const parsed = parseParamFile(JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'x', width: 256, height: 256, duration_ms: 50 }, sweep: { prompt: ['a red fox', 'a blue whale'], guidance_scale: [3, 5, 7] } }));
    const specs = expandJobs(parsed.value!);
    assert.equal(specs.length, 6);
    const jobs = await r.engine.submit(specs, { batchId: 'sweep-1' });
    const done = await r.engine.waitFor(jobs.map((j) => j.id));
    assert.ok(done.every((j) => j.state === 'succeeded'));
    const products = await Promise.all(done.map((j) => r.db.getProduct(j.productIds[0])));
    const combos = products.map((p) => `${p!.input.prompt}|${p!.input.guidance_scale}`).sort();
    assert.deepEqual(combos, ['a blue whale|3', 'a blue whale|5', 'a blue whale|7', 'a red fox|3', 'a red fox|5', 'a red fox|7']);
    assert.equal((await listProducts(r.dir)).length, 12, '6 images + 6 sidecars');
  } finally {
    await r.close();
  }
});

test('cancel mid-run reaches the provider and ends the job canceled', async () => {
  const fake = await startFalFake({ key: FAL_KEY, plan: { queueSteps: 2, progressSteps: 10_000 } });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    // Canceled once fal reports the job IN_PROGRESS (its request id is saved by then): no fixed
    // wait, so a busy machine only makes the test slower.
    const running = untilEvent<JobRecord>((l) => r.engine.on('job', l), (j) => j.state === 'running');
    const [job] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'slow' } }]);
    assert.equal((await running).requestId, [...fake.jobs.keys()][0]);
    await r.engine.cancel(job.id);
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'canceled');
    assert.deepEqual(fake.cancels, [done.requestId]);
    assert.deepEqual(await listProducts(r.dir), []);
  } finally {
    await r.close();
    await fake.close();
  }
});

test('corrupt, truncated, mislabelled and oversized downloads fail the job and leave nothing in products/', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl, engine: { downloadLimitBytes: 64 * 1024 } });
  try {
    const good = await pngBytes(64, 64);
    const cases: [string, { bytes: Uint8Array; contentType: string; truncateAt?: number }, RegExp][] = [
      ['corrupt', { bytes: Buffer.concat([good.subarray(0, 60), Buffer.alloc(200, 7)]), contentType: 'image/png' }, /damaged|truncated/],
      ['html', { bytes: Buffer.from('<html><body>502 Bad Gateway</body></html>'), contentType: 'image/png' }, /HTML page/],
      ['truncated', { bytes: good, contentType: 'image/png', truncateAt: 40 }, /broke off|truncated/],
      ['mislabelled', { bytes: good, contentType: 'image/jpeg' }, /said image\/jpeg/],
      ['oversized', { bytes: Buffer.concat([good, Buffer.alloc(100 * 1024)]), contentType: 'image/png' }, /limit/],
    ];
    for (const [name, file, why] of cases) {
      fake.files.set(`/v3.fal.media/files/${name}.png`, file);
      fake.nextJob({ output: { images: [{ url: `https://v3.fal.media/files/${name}.png`, content_type: file.contentType, width: 64, height: 64 }], seed: 1 } });
      const [job] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: name } }]);
      const [done] = await r.engine.waitFor([job.id]);
      assert.equal(done.state, 'failed', name);
      assert.equal(done.error?.kind, 'bad_output', `${name}: ${done.error?.message}`);
      assert.match(done.error!.message, why, name);
    }
    assert.deepEqual(await listProducts(r.dir), []);
  } finally {
    await r.close();
    await fake.close();
  }
});

test('an output URL that is file:, plain http elsewhere, or relative is refused', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    for (const url of ['file:///etc/passwd', 'http://example.com/x.png', '../../x.png']) {
      fake.nextJob({ output: { images: [{ url, content_type: 'image/png' }] } });
      const [job] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'x' } }]);
      const [done] = await r.engine.waitFor([job.id]);
      assert.equal(done.state, 'failed', url);
    }
    assert.deepEqual(await listProducts(r.dir), []);
  } finally {
    await r.close();
    await fake.close();
  }
});

test('a schema-invalid parameter file gets positioned problems and nothing is sent', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    const text = '{\n  "provider": "fal",\n  "model": "fal-ai/flux/dev",\n  "input": {\n    "prompt": 12,\n    "num_images": 99\n  },\n  "colour": "red"\n}';
    const parsed = parseParamFile(text);
    assert.equal(parsed.value, undefined);
    assert.equal(parsed.diagnostics[0].range.start.line, 7, 'the unknown top-level field is pointed at');
    const fixed = parseParamFile(text.replace(',\n  "colour": "red"', ''));
    const schema = await r.registry.get('fal')!.getInputSchema('fal-ai/flux/dev');
    const problems = validateInput(fixed, schema);
    assert.ok(problems.some((p) => p.path.join('.') === 'input.prompt' && p.range.start.line === 4), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.message === '"num_images" must be <= 4.' && p.range.start.line === 5), 'the message names the field');
    // An anyOf (an enum or an object) that fails gives one message listing what is accepted.
    const size = validateInput(parseParamFile('{"provider":"fal","model":"fal-ai/flux/dev","input":{"prompt":"x","image_size":"huge"}}'), schema);
    assert.equal(size.length, 1, JSON.stringify(size));
    assert.match(size[0].message, /^"image_size" must be "square_hd", .*"landscape_16_9" or an object\.$/);
    const before = fake.captured.filter((c) => c.method === 'POST').length;
    assert.equal(before, 0, 'nothing was submitted');
    // Huge and deep input is refused with a message, never a crash.
    assert.match(parseParamFile('['.repeat(100) + ']'.repeat(100)).diagnostics[0].message, /nests deeper|root|object/);
    assert.match(parseParamFile('x'.repeat(2 * 1024 * 1024)).diagnostics[0].message, /limited/);
  } finally {
    await r.close();
    await fake.close();
  }
});
