import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { batchProducts, makeContactSheet, recentBatches, svgText, sweepAxes, varyingFields, MAX_ITEMS, type SheetItem } from '../../src/archive/contactSheet.ts';
import { exportBaseName, exportProducts, parametersText, writeNoClobber } from '../../src/archive/export.ts';
import { embedUserComment } from '../../src/media/exif.ts';
import { readImageMetadata } from '../../src/media/metadata/index.ts';
import { checkDownloaded } from '../../src/media/sniff.ts';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import type { JobRecord, ProductRecord, ProjectDb } from '../../src/storage/types.ts';
import { pngTexts, userCommentOf } from '../readers.ts';

// ---- a small project with products on disk ----

const dbs: ProjectDb[] = [];
after(async () => {
  await Promise.all(dbs.map((d) => d.close()));
});

async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

let seq = 0;
async function addProduct(dir: string, image: Buffer, over: Partial<ProductRecord> = {}): Promise<ProductRecord> {
  const meta = await sharp(image).metadata();
  const id = over.id ?? `01TESTPRODUCT${String(++seq).padStart(6, '0')}-0`;
  const ext = meta.format === 'jpeg' ? 'jpg' : meta.format!;
  const p: ProductRecord = {
    id,
    jobId: `J${seq}`,
    provider: 'fal',
    model: 'fal-ai/flux/dev',
    kind: 'image',
    mediaType: `image/${meta.format}`,
    file: `products/2026/11/25/${id}.${ext}`,
    width: meta.width,
    height: meta.height,
    bytes: image.length,
    sha256: createHash('sha256').update(image).digest('hex'),
    input: { prompt: 'a lighthouse at dusk', seed: 7, num_inference_steps: 28, guidance_scale: 3.5 },
    prompt: 'a lighthouse at dusk',
    seed: 7,
    createdAt: new Date().toISOString(),
    favorite: false,
    rating: 0,
    tags: [],
    notes: 'private note',
    outputIndex: 0,
    ...over,
  };
  await fs.mkdir(path.join(dir, 'products/2026/11/25'), { recursive: true });
  await fs.writeFile(path.join(dir, ...p.file.split('/')), image);
  return p;
}

const solid = (w: number, h: number, color: string, format: 'png' | 'jpeg' = 'png') => sharp({ create: { width: w, height: h, channels: 3, background: color } })[format]().toBuffer();

// ---- export ----

test('export originals: identical bytes, safe names, and a second export never overwrites the first', async () => {
  const dir = await tempDir('af-export-');
  const a = await addProduct(dir, await solid(40, 30, '#123456'), { prompt: '../../etc/passwd <script> "quoted" ☃ and more words here', input: { prompt: 'x' } });
  const b = await addProduct(dir, await solid(30, 30, '#654321', 'jpeg'));
  const out = path.join(dir, 'out');
  const items = [a, b].map((product) => ({ projectDir: dir, product }));
  const first = await exportProducts(items, out, { format: 'original' });
  assert.equal(first.written.length, 2);
  assert.deepEqual(first.failed, []);
  for (const [i, w] of first.written.entries()) {
    assert.equal(path.dirname(w.file), out);
    assert.match(path.basename(w.file), /^[a-z0-9-]+\.(png|jpg)$/i);
    assert.deepEqual(await fs.readFile(w.file), await fs.readFile(path.join(dir, ...items[i].product.file.split('/'))));
  }
  assert.match(path.basename(first.written[0].file), /^etcpasswd-script-quoted-and-more-words-01TESTPRODUCT\d+-0\.png$/);
  const before = await Promise.all(first.written.map((w) => fs.readFile(w.file)));
  const second = await exportProducts(items, out, { format: 'original' });
  assert.deepEqual(second.written.map((w) => path.basename(w.file)), first.written.map((w) => path.basename(w.file).replace(/\.(\w+)$/, '-2.$1')));
  assert.deepEqual(await Promise.all(first.written.map((w) => fs.readFile(w.file))), before, 'the first files are untouched');
  assert.deepEqual((await fs.readdir(out)).filter((f) => f.includes('.tmp')), [], 'no temp files left');
  assert.equal(exportBaseName({ ...a, prompt: undefined }), a.id);
});

test('export PNG at a max side: scaled down (never up), with A1111 parameters and our artfactory chunk', async () => {
  const dir = await tempDir('af-export-');
  const big = await addProduct(dir, await solid(1200, 800, '#884422', 'jpeg'), { prompt: 'phare — 灯台 at dusk', input: { prompt: 'phare — 灯台 at dusk', seed: 99, num_inference_steps: 30, guidance_scale: 4 }, seed: 99 });
  const small = await addProduct(dir, await solid(300, 200, '#224488'));
  const r = await exportProducts([big, small].map((product) => ({ projectDir: dir, product })), path.join(dir, 'out'), { format: 'png', maxSide: 512 });
  assert.equal(r.written.length, 2);
  const [bigOut, smallOut] = await Promise.all(r.written.map((w) => fs.readFile(w.file)));
  const [mb, ms] = await Promise.all([sharp(bigOut).metadata(), sharp(smallOut).metadata()]);
  assert.deepEqual([mb.format, mb.width, mb.height], ['png', 512, 341]);
  assert.deepEqual([ms.format, ms.width, ms.height], ['png', 300, 200], 'smaller images are not upscaled');
  await checkDownloaded(bigOut);
  const texts = pngTexts(bigOut);
  assert.equal(texts.parameters, 'phare — 灯台 at dusk\nSteps: 30, CFG scale: 4, Seed: 99, Size: 1200x800, Model: fal-ai/flux/dev');
  assert.equal(texts.parameters, parametersText(big));
  const af = JSON.parse(texts.artfactory) as Record<string, unknown>;
  assert.equal(af.id, big.id);
  assert.equal(af.notes, undefined, 'private notes are not embedded');
  assert.equal(af.sha256, undefined);
});

test('export JPEG and WebP: EXIF UserComment as A1111 writes it, read back by an independent parser and by sharp', async () => {
  const dir = await tempDir('af-export-');
  const prompt = 'a fox, ünïcode — 狐 🦊';
  const imported = await addProduct(dir, await solid(640, 480, '#336699'), {
    provider: 'import',
    model: 'sd_xl_base_1.0',
    prompt,
    negativePrompt: 'blurry',
    seed: 3021544718,
    input: { tool: 'a1111', prompt, negative_prompt: 'blurry', seed: 3021544718, steps: 28, cfg_scale: 6.5, sampler: 'DPM++ 2M' },
    imported: { tool: 'a1111', fileName: 'x.png', sourcePath: '/home/me/secret/x.png' },
  });
  const alpha = await addProduct(dir, await sharp({ create: { width: 64, height: 64, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer());
  const expected = 'a fox, ünïcode — 狐 🦊\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M, CFG scale: 6.5, Seed: 3021544718, Size: 640x480, Model: sd_xl_base_1.0';
  assert.equal(parametersText(imported), expected);
  for (const format of ['jpeg', 'webp'] as const) {
    const r = await exportProducts([imported, alpha].map((product) => ({ projectDir: dir, product })), path.join(dir, `out-${format}`), { format, maxSide: 256, quality: 80 });
    assert.deepEqual(r.failed, []);
    const bytes = await fs.readFile(r.written[0].file);
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], [format, 256, 192]);
    await sharp(bytes, { failOn: 'warning' }).raw().toBuffer();
    assert.ok(meta.exif, `${format}: sharp finds the EXIF block`);
    const uc = userCommentOf(meta.exif);
    assert.equal(uc.code, 'UNICODE\0');
    assert.equal(uc.text, expected, `${format}: the full text, every character intact`);
    // A second implementation: the import reader reads it as A1111.
    const back = readImageMetadata(bytes);
    assert.deepEqual([back.tool, back.prompt, back.negativePrompt, back.seed, back.steps, back.cfgScale, back.model], ['a1111', prompt, 'blurry', 3021544718, 28, 6.5, 'sd_xl_base_1.0']);
    const withAlpha = await fs.readFile(r.written[1].file);
    const am = await sharp(withAlpha).metadata();
    if (format === 'webp') assert.equal(am.hasAlpha, true, 'the alpha channel survives the EXIF insertion');
    assert.equal(userCommentOf(am.exif!).text, parametersText(alpha));
  }
});

test('EXIF in a lossless (VP8L) and a lossy (VP8) simple WebP, and an over-long comment in a JPEG', async () => {
  for (const webp of [await sharp({ create: { width: 33, height: 17, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.3 } } }).webp({ lossless: true }).toBuffer(), await solid(33, 17, '#0f0').then((b) => sharp(b).webp().toBuffer())]) {
    assert.match(webp.toString('latin1', 12, 16), /^VP8[L ]$/, 'a simple WebP to start with');
    const { bytes } = embedUserComment(webp, 'Steps: 5, Seed: 1');
    const m = await sharp(Buffer.from(bytes)).metadata();
    assert.deepEqual([m.width, m.height], [33, 17]);
    assert.equal(userCommentOf(m.exif!).text, 'Steps: 5, Seed: 1');
    await sharp(Buffer.from(bytes), { failOn: 'warning' }).raw().toBuffer();
  }
  const long = `${'x'.repeat(40_000)}\nSteps: 5`;
  const { bytes, truncated } = embedUserComment(await solid(16, 16, '#fff', 'jpeg'), long);
  assert.equal(truncated, true);
  const text = userCommentOf((await sharp(Buffer.from(bytes)).metadata()).exif!).text;
  assert.ok(text.length > 30_000 && long.startsWith(text), 'a prefix, cut to fit one JPEG segment');
  await checkDownloaded(bytes);
});

test('export: a missing file is reported and the others still export; cancel stops; existing names are kept', async () => {
  const dir = await tempDir('af-export-');
  const ok = await addProduct(dir, await solid(20, 20, '#111'));
  const gone = await addProduct(dir, await solid(20, 20, '#222'));
  await fs.rm(path.join(dir, ...gone.file.split('/')));
  const escape = { ...ok, id: 'EVIL', file: 'products/../../outside.png' };
  const out = path.join(dir, 'out');
  const r = await exportProducts([gone, ok, escape].map((product) => ({ projectDir: dir, product })), out, { format: 'webp' });
  assert.equal(r.written.length, 1);
  assert.deepEqual(r.failed.map((f) => f.productId), [gone.id, 'EVIL']);
  assert.match(r.failed[0].reason, /is missing/);
  assert.match(r.failed[1].reason, /is refused: .*climbs out of products/);
  const ac = new AbortController();
  ac.abort();
  const canceled = await exportProducts([ok].map((product) => ({ projectDir: dir, product })), out, { format: 'png', signal: ac.signal });
  assert.deepEqual([canceled.canceled, canceled.written.length], [true, 0]);
  await fs.writeFile(path.join(out, 'taken.txt'), 'mine');
  const file = await writeNoClobber(out, 'taken', 'txt', Buffer.from('new'));
  assert.equal(path.basename(file), 'taken-2.txt');
  assert.equal(await fs.readFile(path.join(out, 'taken.txt'), 'utf8'), 'mine');
});

// ---- contact sheets ----

const COLORS = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c'];
const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

async function pixel(img: Buffer, x: number, y: number): Promise<number[]> {
  const { data } = await sharp(img).extract({ left: Math.round(x), top: Math.round(y), width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
  return [...data.subarray(0, 3)];
}

test('a sweep of two fields is laid out rows × columns by those fields, each image in its cell', async () => {
  const dir = await tempDir('af-sheet-');
  const items: SheetItem[] = [];
  let k = 0;
  for (const seed of [11, 22]) {
    for (const guidance of [7, 3, 5]) {
      const color = COLORS[k++];
      const product = await addProduct(dir, await solid(96, 64, color), { input: { prompt: 'a lighthouse at dusk', seed, guidance_scale: guidance }, seed, notes: color });
      items.push({ projectDir: dir, product });
    }
  }
  assert.deepEqual(varyingFields(items.map((i) => i.product)), ['seed', 'guidance_scale']);
  const sheet = await makeContactSheet(items, { title: 'Batch 1 — fal-ai/flux/dev', cellSize: 128 });
  assert.equal(sheet.layout, 'axes');
  assert.deepEqual(sheet.axes, { rows: 'seed', columns: 'guidance_scale' });
  const meta = await sharp(sheet.bytes).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', sheet.width, sheet.height]);
  const pos = new Map(sheet.cells.map((c) => [c.productId, c]));
  // Columns by guidance (sorted 3, 5, 7), rows by seed (11, 22).
  for (const { product } of items) {
    const c = pos.get(product.id)!;
    const col = [3, 5, 7].indexOf(product.input.guidance_scale as number);
    const row = [11, 22].indexOf(product.input.seed as number);
    assert.deepEqual(await pixel(sheet.bytes, c.x + c.size / 2, c.y + c.size / 2), rgb(product.notes), `${product.notes} at row ${row}, column ${col}`);
  }
  const xs = [...new Set(sheet.cells.map((c) => c.x))].sort((a, b) => a - b);
  const ys = [...new Set(sheet.cells.map((c) => c.y))].sort((a, b) => a - b);
  assert.equal(xs.length, 3);
  assert.equal(ys.length, 2);
  for (const { product } of items) {
    const c = pos.get(product.id)!;
    assert.equal(xs.indexOf(c.x), [3, 5, 7].indexOf(product.input.guidance_scale as number));
    assert.equal(ys.indexOf(c.y), [11, 22].indexOf(product.input.seed as number));
  }
  // Axis labels are drawn left of the first column and above the first row.
  const dark = async (x0: number, y0: number, w: number, h: number) => {
    const { data } = await sharp(sheet.bytes).extract({ left: x0, top: y0, width: w, height: h }).greyscale().raw().toBuffer({ resolveWithObject: true });
    return data.filter((v) => v < 128).length;
  };
  assert.ok((await dark(0, ys[0], xs[0], ys[1] - ys[0])) > 20, 'row labels');
  assert.ok((await dark(xs[0], ys[0] - 30, sheet.cells[0].size, 30)) > 20, 'column labels');
  assert.equal(await dark(xs[0], ys[0] + sheet.cells[0].size + 1, sheet.cells[0].size, 14), 0, 'no caption repeats what the axes say');
  await fs.writeFile(path.join(os.tmpdir(), 'af-contact-sheet-axes.png'), sheet.bytes);
});

test('other selections get a plain grid; hostile captions are escaped; missing files get a placeholder', async () => {
  const dir = await tempDir('af-sheet-');
  const nasty = 'a <svg onload=alert(1)> & "quotes" \'single\' ]]> \u0001\u0007 control, lone \ud800 surrogate </text></svg>';
  const items: SheetItem[] = [];
  for (let i = 0; i < 5; i++) {
    const product = await addProduct(dir, await solid(50, 80, COLORS[i]), { prompt: i === 0 ? nasty : `prompt ${i}`, input: { prompt: i === 0 ? nasty : `prompt ${i}`, seed: i, steps: 10 + i, cfg: i % 2 } });
    items.push({ projectDir: dir, product });
  }
  await fs.rm(path.join(dir, ...items[4].product.file.split('/')));
  const sheet = await makeContactSheet(items, { format: 'jpeg' });
  assert.equal(sheet.layout, 'grid');
  assert.equal(sheet.mediaType, 'image/jpeg');
  await fs.writeFile(path.join(os.tmpdir(), 'af-contact-sheet-grid.jpg'), sheet.bytes);
  const c0 = sheet.cells[0];
  const { data } = await sharp(sheet.bytes).extract({ left: c0.x, top: c0.y + c0.size, width: c0.size, height: 40 }).greyscale().raw().toBuffer({ resolveWithObject: true });
  assert.ok(data.filter((v) => v < 128).length > 30, 'the (escaped) caption is drawn under the cell');
  assert.equal((await sharp(sheet.bytes).metadata()).format, 'jpeg');
  assert.deepEqual(await pixel(sheet.bytes, sheet.cells[4].x + 4, sheet.cells[4].y + 4).then((p) => p.map((v) => Math.round(v / 16))), rgb('#eeeeee').map((v) => Math.round(v / 16)), 'a grey placeholder for the missing file');
  assert.equal(svgText('<a&b>"\'\u0000'), '&lt;a&amp;b&gt;&quot;&#39;');
  // Two varying fields that do not fill a grid exactly once: plain grid.
  const dup = items.slice(0, 3).map((i, n) => ({ ...i, product: { ...i.product, input: { a: n % 2, b: 1 + (n % 2) } } }));
  assert.equal(sweepAxes(dup.map((d) => d.product)), undefined);
});

test('a large selection is bounded: at most 400 items, within the size limit', async () => {
  const dir = await tempDir('af-sheet-');
  const base = await addProduct(dir, await solid(64, 64, '#4363d8'));
  const items: SheetItem[] = Array.from({ length: 450 }, (_, i) => ({ projectDir: dir, product: { ...base, id: `P${i}`, input: { prompt: 'same', seed: i }, seed: i } }));
  const started = Date.now();
  const sheet = await makeContactSheet(items, { maxSide: 2000 });
  assert.equal(sheet.included, MAX_ITEMS);
  assert.equal(sheet.leftOut, 50);
  assert.ok(sheet.width <= 2000 && sheet.height <= 2000, `${sheet.width}×${sheet.height}`);
  assert.equal(sheet.cells.length, MAX_ITEMS);
  console.log(`# contact sheet of ${MAX_ITEMS}: ${sheet.width}×${sheet.height}, cell ${sheet.cells[0].size}px, ${Date.now() - started} ms`);
  await assert.rejects(makeContactSheet([]), /at least one product/);
});

test('a batch: the products of the jobs sharing a batchId, in order; recent batches listed', async () => {
  const dir = path.join(await tempDir('af-sheet-'), 'p');
  await createProject(dir, 'Batch');
  const db = await openProjectDb(dir);
  dbs.push(db);
  const now = Date.now();
  const job = (i: number, batchId: string | undefined, productIds: string[]): JobRecord => ({ id: `J${i}`, provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'p', seed: i }, state: 'succeeded', batchId, productIds, attempts: 1, createdAt: new Date(now + i * 1000).toISOString(), updatedAt: new Date(now + i * 1000).toISOString() });
  const img = await solid(16, 16, '#000');
  const products: ProductRecord[] = [];
  for (let i = 0; i < 4; i++) products.push(await addProduct(dir, img, { id: `B${i}`, jobId: `J${i}`, input: { prompt: 'p', seed: i } }));
  await db.putProducts(products);
  await db.putJob(job(0, 'batch-a', ['B0']));
  await db.putJob(job(1, 'batch-a', ['B1']));
  await db.putJob(job(2, 'batch-a', ['B2']));
  await db.putJob(job(3, 'batch-b', ['B3']));
  await db.putJob(job(4, undefined, []));
  assert.deepEqual((await batchProducts(db, 'batch-a')).map((p) => p.id), ['B0', 'B1', 'B2']);
  const batches = await recentBatches(db);
  assert.deepEqual(batches.map((b) => [b.batchId, b.products]), [['batch-a', 3]], 'batches of one product are not offered');
});
