import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { acceptImageReferences, IMAGE_FIELD_HINT, rebaseImagePaths, setImageInput } from '../../src/engine/imageFields.ts';
import { ImageSource, imageFieldsOf, imageValueKind, paramFileImageRefs } from '../../src/engine/imageInputs.ts';
import { expandJobs, parseParamFile } from '../../src/engine/paramFile.ts';
import { modelSchemaPath, writeModelSchema } from '../../src/engine/schemas.ts';
import { openProjectDb, rebuildIndex } from '../../src/storage/index.ts';
import type { ProductRecord } from '../../src/storage/types.ts';
import { startFalFake } from '../fakes/fal.ts';
import { pngBytes } from '../fakes/common.ts';
import { FAL_KEY, rig } from './helpers.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** The opening boxes of an MP4: enough for magic bytes. */
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom\0\0\x02\0isomiso2', 'latin1'), Buffer.from([0, 0, 0, 8]), Buffer.from('mdat')]);

function product(id: string, extra: Partial<ProductRecord> = {}): ProductRecord {
  return {
    id, jobId: `J-${id}`, provider: 'sample', model: 'sample/gradient', kind: 'image', mediaType: 'image/png', file: `products/2026/01/01/${id}.png`,
    width: 64, height: 64, bytes: 1, sha256: 'x', input: { prompt: `prompt of ${id}` }, prompt: `prompt of ${id}`, createdAt: '2026-01-01T00:00:00.000Z',
    favorite: false, rating: 0, tags: [], notes: '', outputIndex: 0, ...extra,
  };
}

test('image values are told apart: products, paths and file URIs are resolved; URLs and data: URIs are sent as written', () => {
  assert.equal(imageValueKind('product:01ABC-0'), 'product');
  assert.equal(imageValueKind('./photo.png'), 'path');
  assert.equal(imageValueKind('/home/me/photo.png'), 'path');
  assert.equal(imageValueKind('C:\\photos\\a.png'), 'path');
  assert.equal(imageValueKind('file:///home/me/photo.png'), 'path');
  assert.equal(imageValueKind('https://example.com/a.png'), 'url');
  assert.equal(imageValueKind('gs://bucket/a.png'), 'url');
  assert.equal(imageValueKind('data:image/png;base64,AAAA'), 'data');
  assert.equal(imageValueKind('   '), undefined);
  // Fields come from the model's info and from its schema's names (counts and switches are not images).
  assert.deepEqual(imageFieldsOf({ imageFields: ['first_frame_image'] }, { properties: { image_urls: { type: 'array' }, num_images: { type: 'integer' }, mask_url: { type: 'string' }, prompt: { type: 'string' } } }).sort(), ['first_frame_image', 'image_urls', 'mask_url']);
  const refs = paramFileImageRefs({ input: { prompt: 'x', image_url: 'a.png', image_urls: ['product:P1', 'https://x/y.png', 7], mask: '' }, sweep: { image_url: ['b.png', ['c.png']] } }, ['image_url', 'image_urls', 'mask']);
  assert.deepEqual(
    refs.map((r) => [r.at.join('/'), r.field, r.kind]),
    [
      ['input/image_url', 'image_url', 'path'],
      ['input/image_urls/0', 'image_urls.0', 'product'],
      ['input/image_urls/1', 'image_urls.1', 'url'],
      ['sweep/image_url/0', 'image_url', 'path'],
      ['sweep/image_url/1/0', 'image_url.0', 'path'],
    ],
  );
});

test('each bad image value is a problem at its own field: missing, not an image, too large, damaged, a folder, a video, unknown or video product', async () => {
  const r = await rig();
  try {
    const params = path.join(r.dir, 'params');
    const outside = path.join(path.dirname(r.dir), 'outside');
    await fs.mkdir(path.join(params, 'sub'), { recursive: true });
    await fs.mkdir(outside, { recursive: true });
    const ok = await pngBytes(64, 48, [200, 30, 30]);
    await fs.writeFile(path.join(params, 'ok.png'), ok);
    await fs.writeFile(path.join(outside, 'ok.png'), ok);
    await fs.writeFile(path.join(params, 'notes.txt'), 'just some text, not an image');
    await fs.writeFile(path.join(params, 'big.png'), await pngBytes(1024, 1024, [1, 2, 3]));
    const whole = await pngBytes(200, 200, [9, 9, 9]);
    await fs.writeFile(path.join(params, 'broken.png'), whole.subarray(0, Math.floor(whole.length / 2)));
    await fs.writeFile(path.join(params, 'clip.mp4'), MP4);
    await r.db.putProducts([product('PSRC1'), product('PVID1', { kind: 'video', mediaType: 'video/mp4', file: 'products/2026/01/01/PVID1.mp4' }), product('PGONE1')]);
    await fs.mkdir(path.join(r.dir, 'products/2026/01/01'), { recursive: true });
    await fs.writeFile(path.join(r.dir, 'products/2026/01/01/PSRC1.png'), ok);
    const text = `{
  "provider": "sample",
  "model": "sample/image-to-image",
  "input": {
    "prompt": "tint",
    "image_url": "./ok.png",
    "mask": "${path.join(params, 'missing.png')}",
    "image_urls": [
      "notes.txt",
      "product:NOPE1",
      "big.png",
      "broken.png",
      "product:PVID1",
      "sub",
      "clip.mp4",
      "../../outside/ok.png",
      "https://example.com/x.png",
      "data:image/png;base64,${Buffer.from(ok).toString('base64')}",
      "product:PSRC1",
      "product:PGONE1",
      "${path.join(outside, 'ok.png')}"
    ]
  },
  "sweep": { "image_url": ["./ok.png", "./missing-too.png"] }
}`;
    const parsed = parseParamFile(text);
    assert.deepEqual(parsed.diagnostics, []);
    const big = (await fs.stat(path.join(params, 'big.png'))).size;
    const source = new ImageSource({ projectDir: r.dir, db: async () => r.db, maxBytes: big - 1, limitHint: 'artFactory.inputs.maxMegabytes' });
    const problems = await source.problems(parsed, ['image_url', 'image_urls', 'mask'], params);
    const lines = text.split('\n');
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle));
    const got = problems.map((p) => ({ line: p.range.start.line, message: p.message }));
    const expect: [string, RegExp][] = [
      ['"mask"', /"mask": ".*missing\.png" was not found/],
      ['"notes.txt"', /"image_urls\.0": "notes\.txt" is not an image: use a PNG, JPEG/],
      ['"product:NOPE1"', /"image_urls\.1": There is no product "NOPE1" in this project/],
      ['"big.png"', /"image_urls\.2": "big\.png" is [\d.]+ MB; image inputs are limited to [\d.]+ MB \(artFactory\.inputs\.maxMegabytes\)/],
      ['"broken.png"', /"image_urls\.3": "broken\.png" is not a usable image: the PNG file is truncated/],
      ['"product:PVID1"', /"image_urls\.4": Product "PVID1" is a video; "image_urls\.4" takes an image/],
      ['"sub"', /"image_urls\.5": "sub" is a folder, not an image file/],
      ['"clip.mp4"', /"image_urls\.6": "clip\.mp4" is a video \(video\/mp4\), not an image/],
      ['"product:PGONE1"', /"image_urls\.11": The file of product "PGONE1" \(products\/2026\/01\/01\/PGONE1\.png\) is missing/],
      ['"./missing-too.png"', /"image_url": "\.\/missing-too\.png" was not found .* Paths are relative to the parameter file\./],
    ];
    assert.equal(got.length, expect.length, JSON.stringify(got, null, 1));
    for (const [needle, pattern] of expect) {
      const at = got.find((g) => g.line === lineOf(needle));
      assert.ok(at, `a problem on the line of ${needle}: ${JSON.stringify(got)}`);
      assert.match(at.message, pattern);
    }
    // The good ones — relative, relative outside the project, absolute, a product, a URL, a data: URI — pass.
    for (const fine of ['"./ok.png",', '../../outside/ok.png', 'https://example.com', 'data:image/png', '"product:PSRC1"', `${path.join(outside, 'ok.png')}"`]) {
      assert.ok(!got.some((g) => g.line === lineOf(fine)), `no problem for ${fine}`);
    }
    // A file outside any project can still use paths, but not products.
    const loose = new ImageSource({ projectDir: outside });
    const looseProblems = await loose.problems(parseParamFile('{"provider":"sample","model":"m","input":{"image_url":"product:PSRC1","mask":"./ok.png"}}'), ['image_url', 'mask'], outside);
    assert.deepEqual(looseProblems.map((p) => p.path.join('.')), ['input.image_url']);
    assert.match(looseProblems[0].message, /not inside an Art Factory project/);
  } finally {
    await r.close();
  }
});

test('a missing file, then a text file, then a real image at the same path: each check sees the file as it is now', async () => {
  const r = await rig();
  try {
    const file = path.join(r.dir, 'params', 'later.png');
    const parsed = parseParamFile('{"provider":"sample","model":"sample/image-to-image","input":{"prompt":"x","image_url":"later.png"}}');
    const source = new ImageSource({ projectDir: r.dir, db: async () => r.db });
    assert.equal((await source.problems(parsed, ['image_url'], path.dirname(file))).length, 1);
    await fs.writeFile(file, 'not yet');
    assert.match((await source.problems(parsed, ['image_url'], path.dirname(file)))[0].message, /not an image/);
    await fs.writeFile(file, await pngBytes(32, 32, [0, 0, 255]));
    assert.deepEqual(await source.problems(parsed, ['image_url'], path.dirname(file)), []);
  } finally {
    await r.close();
  }
});

test('image-to-image from a relative path, an absolute path and a product: lineage in the record, the sidecar and the database, and after Rebuild Index', async () => {
  const r = await rig();
  try {
    const photo = await pngBytes(96, 64, [20, 160, 90]);
    await fs.writeFile(path.join(r.dir, 'params', 'photo.png'), photo);
    const abs = path.join(path.dirname(r.dir), 'elsewhere.png');
    const other = await pngBytes(80, 80, [250, 250, 10]);
    await fs.writeFile(abs, other);
    const base = { prompt: 'tinted', width: 256, height: 256, duration_ms: 20 };
    const [rel, absolute] = await r.engine.submit(
      [
        { provider: 'sample', model: 'sample/image-to-image', input: { ...base, image_url: './photo.png' } },
        { provider: 'sample', model: 'sample/image-to-image', input: { ...base, image_url: abs } },
      ],
      { sourceFile: 'params/tint.art.json' },
    );
    const done = await r.engine.waitFor([rel.id, absolute.id]);
    assert.deepEqual(done.map((j) => j.state), ['succeeded', 'succeeded'], JSON.stringify(done.map((j) => j.error)));
    const [fromRel, fromAbs] = await Promise.all(done.map((j) => r.db.getProduct(j.productIds[0])));
    assert.deepEqual(fromRel!.inputs, [{ field: 'image_url', sha256: sha(photo), product: null, path: './photo.png' }]);
    assert.deepEqual(fromAbs!.inputs, [{ field: 'image_url', sha256: sha(other), product: null, path: abs }]);
    // The job and the product keep the reference as written; the job notes what was sent.
    assert.equal(fromRel!.input.image_url, './photo.png');
    assert.match(done[0].sentInputs!.image_url, /^data:image\/png \(\d+ (bytes|KB) inline, sha256 [0-9a-f]{16}…\)$/);

    // Now from the product: the new product names its source.
    const source = fromRel!;
    const [job] = await r.engine.submit([{ provider: 'sample', model: 'sample/image-to-image', input: { ...base, prompt: 'again', image_url: `product:${source.id}` } }]);
    const [d3] = await r.engine.waitFor([job.id]);
    assert.equal(d3.state, 'succeeded', JSON.stringify(d3.error));
    const child = (await r.db.getProduct(d3.productIds[0]))!;
    const sourceBytes = await fs.readFile(path.join(r.dir, source.file));
    assert.deepEqual(child.inputs, [{ field: 'image_url', sha256: sha(sourceBytes), product: source.id, path: null }]);
    assert.equal(child.input.image_url, `product:${source.id}`);
    // A path to a product's own file counts as that product too.
    const [job4] = await r.engine.submit([{ provider: 'sample', model: 'sample/image-to-image', input: { ...base, prompt: 'by path', image_url: `../${source.file}` } }], { sourceFile: 'params/x.art.json' });
    const [d4] = await r.engine.waitFor([job4.id]);
    const byPath = (await r.db.getProduct(d4.productIds[0]))!;
    assert.deepEqual(byPath.inputs, [{ field: 'image_url', sha256: sha(sourceBytes), product: source.id, path: `../${source.file}` }]);

    const sidecar = JSON.parse(await fs.readFile(path.join(r.dir, child.file.replace(/\.png$/, '.json')), 'utf8'));
    assert.deepEqual(sidecar.inputs, child.inputs);
    const usedIn = await r.db.usedIn(source.id);
    assert.deepEqual(usedIn.items.map((p) => p.id).sort(), [child.id, byPath.id].sort());
    assert.equal(usedIn.total, 2);
    assert.equal((await r.db.usedIn(child.id)).total, 0);

    await r.close();
    const n = await rebuildIndex(r.dir, { saveDelayMs: 10 });
    assert.equal(n, 4);
    const db = await openProjectDb(r.dir, { saveDelayMs: 10 });
    try {
      assert.deepEqual((await db.getProduct(child.id))!.inputs, child.inputs, 'lineage survives Rebuild Index');
      assert.deepEqual((await db.usedIn(source.id)).items.map((p) => p.id).sort(), [child.id, byPath.id].sort());
      // Deleting the child takes its lineage rows with it.
      await db.deleteProducts([child.id]);
      assert.deepEqual((await db.usedIn(source.id)).items.map((p) => p.id), [byPath.id]);
    } finally {
      await db.close();
    }
  } finally {
    await r.close().catch(() => undefined);
  }
});

test('a bad image at run time fails the job at its field and nothing reaches the provider (no upload, no submission)', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    await fs.writeFile(path.join(r.dir, 'params', 'fake.png'), '<html>not really</html>');
    const specs = [
      { provider: 'fal', model: 'fal-ai/flux/dev/image-to-image', input: { prompt: 'x', image_url: './gone.png' } },
      { provider: 'fal', model: 'fal-ai/flux/dev/image-to-image', input: { prompt: 'x', image_url: './fake.png' } },
      { provider: 'fal', model: 'fal-ai/flux/dev/image-to-image', input: { prompt: 'x', image_url: 'product:NOSUCH' } },
    ];
    const jobs = await r.engine.submit(specs, { sourceFile: 'params/a.art.json' });
    const done = await r.engine.waitFor(jobs.map((j) => j.id));
    assert.deepEqual(done.map((j) => j.state), ['failed', 'failed', 'failed']);
    assert.deepEqual(done.map((j) => j.error?.kind), ['validation', 'validation', 'validation']);
    assert.match(done[0].error!.message, /^"image_url": "\.\/gone\.png" was not found .*Nothing was sent\.$/);
    assert.match(done[1].error!.message, /not an image/);
    assert.match(done[2].error!.message, /no product "NOSUCH"/);
    assert.deepEqual(done[0].error!.fieldErrors, [{ path: ['image_url'], message: done[0].error!.fieldErrors![0].message }]);
    assert.equal(fake.jobs.size, 0, 'nothing was submitted');
    assert.equal(fake.uploads.size, 0, 'nothing was uploaded');
    assert.equal(done.every((j) => j.requestId === undefined), true);
  } finally {
    await r.close();
    await fake.close();
  }
});

test('Use as Input fills a field: one product, a list field with several, or a sweep for a single-image field; Reuse rebases relative paths', () => {
  const schema = { properties: { prompt: { type: 'string' }, image_url: { type: 'string' }, image_urls: { type: 'array', items: { type: 'string' } } } };
  const one: Record<string, unknown> = { input: { prompt: 'a lighthouse at dusk, oil painting', image_url: '' }, count: 1 };
  setImageInput(one, schema, 'image_url', [{ id: 'P1', prompt: 'a fox' }], 'prompt');
  assert.deepEqual(one.input, { prompt: 'a fox', image_url: 'product:P1' });
  const list: Record<string, unknown> = { input: { prompt: 'p' } };
  setImageInput(list, schema, 'image_urls', [{ id: 'P1' }, { id: 'P2' }], 'prompt');
  assert.deepEqual(list.input, { prompt: 'p', image_urls: ['product:P1', 'product:P2'] });
  const sweep: Record<string, unknown> & { input: Record<string, unknown> } = { input: { prompt: 'p', image_url: '' }, count: 1 };
  setImageInput(sweep, schema, 'image_url', [{ id: 'P1' }, { id: 'P2' }, { id: 'P3' }], 'prompt');
  assert.deepEqual(sweep.input, { prompt: 'p' });
  assert.deepEqual(sweep.sweep, { image_url: ['product:P1', 'product:P2', 'product:P3'] });
  const parsed = parseParamFile(JSON.stringify({ provider: 'sample', model: 'sample/image-to-image', ...sweep }));
  assert.deepEqual(expandJobs(parsed.value!).map((s) => s.input.image_url), ['product:P1', 'product:P2', 'product:P3'], 'one job per product');

  const rebased = rebaseImagePaths({ image_url: './in/a.png', image_urls: ['b.png', 'product:P1'], mask: '/abs/m.png' }, [
    { field: 'image_url', sha256: 'x', product: null, path: './in/a.png' },
    { field: 'image_urls.0', sha256: 'x', product: null, path: 'b.png' },
    { field: 'image_urls.1', sha256: 'x', product: 'P1', path: null },
    { field: 'mask', sha256: 'x', product: null, path: '/abs/m.png' },
  ], '/p/params/deep', '/p/params');
  assert.deepEqual(rebased, { image_url: './deep/in/a.png', image_urls: ['./deep/b.png', 'product:P1'], mask: '/abs/m.png' });
});

test("the editor's schema lets image fields take paths and products: no URL format, a hint; other fields and the validation schema unchanged", async () => {
  const r = await rig();
  try {
    const input = {
      type: 'object',
      properties: {
        image: { type: 'string', format: 'uri', description: 'Input image' },
        image_urls: { type: 'array', items: { type: 'string', format: 'uri' } },
        first_frame_image: { anyOf: [{ type: 'string', format: 'uri' }, { type: 'null' }] },
        webhook: { type: 'string', format: 'uri' },
      },
    };
    const relaxed = acceptImageReferences(input, ['image', 'image_urls', 'first_frame_image']).properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(relaxed.image, { type: 'string', description: `Input image ${IMAGE_FIELD_HINT}` });
    assert.deepEqual(relaxed.image_urls.items, { type: 'string' });
    assert.deepEqual(relaxed.first_frame_image.anyOf, [{ type: 'string' }, { type: 'null' }]);
    assert.deepEqual(relaxed.webhook, { type: 'string', format: 'uri' }, 'not an image field');
    // The file written for the editor says so (it is a hint schema: it flags nothing).
    await writeModelSchema(r.dir, 'replicate', 'owner/model', input, { imageFields: ['first_frame_image'] });
    const text = await fs.readFile(path.join(r.dir, modelSchemaPath('replicate', 'owner/model')), 'utf8');
    const props = JSON.parse(text).properties.input.properties;
    assert.equal(props.image.description, `Input image ${IMAGE_FIELD_HINT}`);
    assert.match(props.first_frame_image.description ?? '', /product:<id>/);
    assert.equal(props.webhook.description, undefined, 'not an image field');
    assert.doesNotMatch(text, /"format"/, 'no URL format to flag a path');
    assert.equal(input.properties.image.format, 'uri', 'the model schema itself is not changed');
    assert.equal(acceptImageReferences({ type: 'object' }, ['image']).properties, undefined);
  } finally {
    await r.close();
  }
});
