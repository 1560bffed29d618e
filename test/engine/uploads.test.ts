// Image inputs handed over by the providers' own upload(), through the REAL @fal-ai/client and
// replicate packages against the fakes: once per provider and content, reused across a sweep,
// across engines (a restart) and for a resumed job; image-to-video on both providers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { expandJobs, parseParamFile } from '../../src/engine/paramFile.ts';
import { createSchemaCache } from '../../src/engine/schemas.ts';
import { accountFingerprint, reuseMarginMs, UploadCache } from '../../src/engine/uploads.ts';
import { createBuiltinRegistry } from '../../src/providers/index.ts';
import { writeSidecar } from '../../src/storage/index.ts';
import type { JobRecord, ProductRecord } from '../../src/storage/types.ts';
import { productLineage } from '../../src/webviews/lineage.ts';
import { pngBytes } from '../fakes/common.ts';
import { startCivitaiFake } from '../fakes/civitai.ts';
import { startFalFake } from '../fakes/fal.ts';
import { startReplicateFake } from '../fakes/replicate.ts';
import { CIVITAI_KEY, FAL_KEY, log, REPLICATE_KEY, rig, type Rig } from './helpers.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom\0\0\x02\0isomiso2', 'latin1'), Buffer.from([0, 0, 0, 8]), Buffer.from('mdat')]);

type Setup = Rig;

/** The built-in providers (each says how long its uploads live), with limits that let the 12 jobs
 * of a sweep start at once. */
function setup(opts: { fal?: string; replicate?: string; civitai?: string; dir?: string } = {}): Promise<Setup> {
  return rig({
    dir: opts.dir,
    falBaseUrl: opts.fal,
    replicateBaseUrl: opts.replicate,
    civitaiBaseUrl: opts.civitai,
    limits: { concurrency: 12, createsPerMinute: 10_000, callsPerMinute: 100_000 },
    engine: { makeThumbnails: false },
  });
}

/** A PNG of random pixels: it does not compress, so it is as large as asked. */
async function noisePng(side: number): Promise<Buffer> {
  const raw = Buffer.alloc(side * side * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

/** A stored image product (file, sidecar, row), as the gallery would offer it. */
async function storeImage(s: Setup, id: string, bytes: Uint8Array, prompt: string): Promise<ProductRecord> {
  const p: ProductRecord = {
    id, jobId: `J-${id}`, provider: 'sample', model: 'sample/gradient', kind: 'image', mediaType: 'image/png', file: `products/2026/01/02/${id}.png`,
    width: 64, height: 64, bytes: bytes.length, sha256: sha(bytes), input: { prompt }, prompt, createdAt: '2026-01-02T00:00:00.000Z', favorite: false, rating: 0, tags: [], notes: '', outputIndex: 0,
  };
  await fs.mkdir(path.join(s.dir, 'products/2026/01/02'), { recursive: true });
  await fs.writeFile(path.join(s.dir, p.file), bytes);
  await writeSidecar(s.dir, p);
  await s.db.putProduct(p);
  return p;
}

test('a sweep of 12 jobs over one image uploads it to fal once, all 12 send that URL; after a restart, a new job and a resumed one reuse it', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  let s = await setup({ fal: fake.baseUrl });
  try {
    const image = await pngBytes(128, 96, [10, 120, 240]);
    await fs.writeFile(path.join(s.dir, 'params', 'input.png'), image);
    const parsed = parseParamFile(JSON.stringify({ provider: 'fal', model: 'fal-ai/flux/dev/image-to-image', input: { prompt: 'restyled', image_url: './input.png' }, seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] }));
    const specs = expandJobs(parsed.value!);
    assert.equal(specs.length, 12);
    const jobs = await s.engine.submit(specs, { sourceFile: 'params/sweep.art.json' });
    const done = await s.engine.waitFor(jobs.map((j) => j.id));
    assert.deepEqual(done.map((j) => j.state), Array(12).fill('succeeded'), JSON.stringify(done.map((j) => j.error?.message)));
    assert.equal(fake.uploads.size, 1, 'one upload for 12 jobs');
    assert.equal(fake.captured.filter((c) => c.url.includes('/rest.fal.ai/storage/upload/initiate')).length, 1);
    const [token] = [...fake.uploads.keys()];
    assert.deepEqual(fake.uploads.get(token)!.bytes, Buffer.from(image), 'the bytes uploaded are the file');
    const sent = [...fake.jobs.values()].map((j) => j.input.image_url);
    assert.equal(sent.length, 12);
    assert.deepEqual(new Set(sent), new Set([`https://v3.fal.media/files/uploads/${token}`]), 'every job sent the uploaded URL, none the path');
    const products = await Promise.all(done.map((j) => s.db.getProduct(j.productIds[0])));
    for (const p of products) assert.deepEqual(p!.inputs, [{ field: 'image_url', sha256: sha(image), product: null, path: './input.png' }]);
    assert.equal(products[0]!.input.image_url, './input.png', 'the product keeps the reference, not the upload URL');
    assert.equal(done[0].sentInputs?.image_url, `https://v3.fal.media/files/uploads/${token}`, 'the job records what was sent');

    // A restart: a new engine and database handle on the same project.
    await s.close();
    s = await setup({ fal: fake.baseUrl, dir: s.dir });
    const [again] = await s.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev/image-to-image', input: { prompt: 'once more', image_url: './input.png' } }], { sourceFile: 'params/sweep.art.json' });
    assert.equal((await s.engine.waitFor([again.id]))[0].state, 'succeeded');
    // A job that was saved but never sent (killed before submission) resumes with the cached upload.
    const now = new Date().toISOString();
    const queued: JobRecord = { id: 'RESUMED-JOB-1', provider: 'fal', model: 'fal-ai/flux/dev/image-to-image', input: { prompt: 'resumed', image_url: './input.png' }, state: 'queued', sourceFile: 'params/sweep.art.json', productIds: [], attempts: 0, createdAt: now, updatedAt: now };
    await s.db.putJob(queued);
    assert.equal(await s.engine.resume(), 1);
    assert.equal((await s.engine.waitFor([queued.id]))[0].state, 'succeeded');
    assert.equal(fake.jobs.size, 14);
    assert.equal(fake.uploads.size, 1, 'no upload again after the restart, nor for the resumed job');
  } finally {
    await s.close();
    await fake.close();
  }
});

test('uploads that start together share one request; other bytes, another provider or an upload near its end upload anew; no lifetime means every use uploads', async () => {
  const fal = await startFalFake({ key: FAL_KEY });
  const rep = await startReplicateFake({ key: REPLICATE_KEY });
  const s = await setup({ fal: fal.baseUrl, replicate: rep.baseUrl });
  try {
    const clock = { t: 1_000_000 };
    const cache = new UploadCache(s.db, log, (id) => s.registry.contextFor(id).getKey(), () => clock.t);
    const falP = s.registry.get('fal')!;
    const ttl = falP.uploadTtlMs!;
    const a = { bytes: await noisePng(320), mediaType: 'image/png', sha256: '' };
    a.sha256 = sha(a.bytes);
    const urls = await Promise.all(Array.from({ length: 8 }, () => cache.urlFor(falP, a)));
    assert.equal(new Set(urls).size, 1);
    assert.equal(fal.uploads.size, 1, 'eight at once, one upload');
    assert.ok((await s.db.getUpload(`fal#${accountFingerprint(FAL_KEY)}`, a.sha256))?.url === urls[0], 'kept in the database, under the account');
    assert.equal(await s.db.getUpload('fal', a.sha256), undefined, 'never under the bare provider');
    // Still well within its lifetime: reused.
    clock.t += ttl - reuseMarginMs(ttl) - 1000;
    assert.equal(await cache.urlFor(falP, a), urls[0]);
    assert.equal(fal.uploads.size, 1);
    // Too close to the end of the provider's lifetime: a job might wait in the queue past it.
    clock.t += 2000;
    const fresh = await cache.urlFor(falP, a);
    assert.notEqual(fresh, urls[0]);
    assert.equal(fal.uploads.size, 2);
    // Different bytes: their own upload.
    const b = { bytes: await pngBytes(40, 40, [1, 2, 3]), mediaType: 'image/png', sha256: '' };
    b.sha256 = sha(b.bytes);
    await cache.urlFor(falP, b);
    assert.equal(fal.uploads.size, 3);
    // Another provider keeps its own uploads (a large image goes through Replicate's files API).
    const repUrl = await cache.urlFor(s.registry.get('replicate')!, a);
    assert.match(repUrl, /^https:\/\/api\.replicate\.com\/v1\/files\//);
    assert.equal(rep.uploads.size, 1);
    assert.equal(await cache.urlFor(s.registry.get('replicate')!, a), repUrl);
    assert.equal(rep.uploads.size, 1);
    // A provider that documents no lifetime: every use uploads (nothing is assumed).
    const noTtl = new Proxy(falP, { get: (t, k) => (k === 'uploadTtlMs' ? undefined : (t as unknown as Record<string | symbol, unknown>)[k]) });
    await cache.urlFor(noTtl, a);
    await cache.urlFor(noTtl, a);
    assert.equal(fal.uploads.size, 5);
  } finally {
    await s.close();
    await fal.close();
    await rep.close();
  }
});

test('another account (a new key for fal) never gets the old account\'s uploads: it uploads its own; back on the first key, its upload is reused; no key reaches the database', async () => {
  const KEY_B = 'fal-second-account-key-fedcba9876543210';
  const fake = await startFalFake({ key: FAL_KEY });
  let current = FAL_KEY;
  const s = await rig({
    falBaseUrl: fake.baseUrl,
    engine: { makeThumbnails: false },
    // The user's key as the extension reads it: at each use, so a new one applies at once.
    registry: (ctxFor) => createBuiltinRegistry((id) => (id === 'fal' ? { ...ctxFor(id), getKey: async () => current } : ctxFor(id))),
  });
  try {
    const image = await pngBytes(96, 64, [200, 40, 90]);
    await fs.writeFile(path.join(s.dir, 'params', 'input.png'), image);
    const run = async (prompt: string) => {
      const [job] = await s.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev/image-to-image', input: { prompt, image_url: './input.png' } }], { sourceFile: 'params/a.art.json' });
      const [done] = await s.engine.waitFor([job.id]);
      assert.equal(done.state, 'succeeded', done.error?.message);
      return String(done.sentInputs?.image_url);
    };
    const first = await run('account A');
    assert.equal(fake.uploads.size, 1);
    // The user switches to another account: the fake now accepts only the new key.
    fake.setKey(KEY_B);
    current = KEY_B;
    const second = await run('account B');
    assert.equal(fake.uploads.size, 2, 'the new account uploads its own copy');
    assert.notEqual(second, first, 'and sends its own URL, not the old account\'s');
    assert.equal(await run('account B again'), second, 'reused within the new account');
    assert.equal(fake.uploads.size, 2);
    // Back to the first account: its upload is still its own, and still good.
    fake.setKey(FAL_KEY);
    current = FAL_KEY;
    assert.equal(await run('account A again'), first);
    assert.equal(fake.uploads.size, 2);
    assert.equal((await s.db.getUpload(`fal#${accountFingerprint(KEY_B)}`, sha(image)))?.url, second);
    assert.notEqual(accountFingerprint(FAL_KEY), accountFingerprint(KEY_B));
    // The fingerprint is a digest: neither key, nor a part of one, is in the database file.
    await s.db.flush();
    const file = await fs.readFile(path.join(s.dir, '.artfactory', 'index.db'));
    for (const k of [FAL_KEY, KEY_B]) assert.equal(file.includes(Buffer.from(k.slice(-12))), false, 'no key in the database');
  } finally {
    await s.close();
    await fake.close();
  }
});

test('a list field takes paths and products: each distinct image uploads once, the order is kept, lineage names each element', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const s = await setup({ fal: fake.baseUrl });
  try {
    // A custom fal model whose schema (cached in the project, as Add Custom Model does) takes image_urls.
    const model = 'fal-ai/some-edit-model/multi';
    await createSchemaCache(s.dir).set('fal', model, { type: 'object', required: ['prompt'], properties: { prompt: { type: 'string' }, image_urls: { type: 'array', items: { type: 'string' } } } });
    const a = await pngBytes(48, 48, [200, 0, 0]);
    await fs.writeFile(path.join(s.dir, 'params', 'a.png'), a);
    const src = await storeImage(s, 'PLISTSRC', await pngBytes(50, 50, [0, 200, 0]), 'green square');
    const [job] = await s.engine.submit([{ provider: 'fal', model, input: { prompt: 'combine', image_urls: ['./a.png', `product:${src.id}`, './a.png', 'https://example.com/kept.png'] } }], { sourceFile: 'params/list.art.json' });
    const [done] = await s.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.equal(fake.uploads.size, 2, 'a.png once, the product once');
    const sent = [...fake.jobs.values()][0].input.image_urls as string[];
    assert.equal(sent.length, 4);
    assert.match(sent[0], /^https:\/\/v3\.fal\.media\/files\/uploads\//);
    assert.equal(sent[2], sent[0]);
    assert.notEqual(sent[1], sent[0]);
    assert.equal(sent[3], 'https://example.com/kept.png');
    const p = (await s.db.getProduct(done.productIds[0]))!;
    assert.deepEqual(p.inputs, [
      { field: 'image_urls.0', sha256: sha(a), product: null, path: './a.png' },
      { field: 'image_urls.1', sha256: src.sha256, product: src.id, path: null },
      { field: 'image_urls.2', sha256: sha(a), product: null, path: './a.png' },
    ]);
    assert.deepEqual(p.input.image_urls, ['./a.png', `product:${src.id}`, './a.png', 'https://example.com/kept.png']);
  } finally {
    await s.close();
    await fake.close();
  }
});

test('image-to-video: a product animated on fal and on Replicate (minimax/video-01 first_frame_image); each video names its source image, the image lists both', async () => {
  const fal = await startFalFake({ key: FAL_KEY });
  const rep = await startReplicateFake({ key: REPLICATE_KEY });
  const s = await setup({ fal: fal.baseUrl, replicate: rep.baseUrl });
  try {
    const bytes = await noisePng(320); // over Replicate's inline limit: it goes through POST /v1/files
    const still = await storeImage(s, 'PSTILL01', bytes, 'a lighthouse, still');
    rep.plan({ output: ['https://replicate.delivery/xezq/vid/out.mp4'] });
    rep.files.set('/replicate.delivery/xezq/vid/out.mp4', { bytes: MP4, contentType: 'video/mp4' });
    const jobs = await s.engine.submit([
      { provider: 'fal', model: 'fal-ai/minimax/video-01/image-to-video', input: { prompt: 'waves roll in', image_url: `product:${still.id}` } },
      { provider: 'replicate', model: 'minimax/video-01', input: { prompt: 'waves roll in', first_frame_image: `product:${still.id}` } },
      { provider: 'replicate', model: 'minimax/video-01', input: { prompt: 'the light turns', first_frame_image: `product:${still.id}` } },
    ]);
    const done = await s.engine.waitFor(jobs.map((j) => j.id));
    assert.deepEqual(done.map((j) => j.state), ['succeeded', 'succeeded', 'succeeded'], JSON.stringify(done.map((j) => j.error?.message)));
    assert.equal(fal.uploads.size, 1);
    assert.equal(rep.uploads.size, 1, 'two Replicate jobs, one file');
    assert.match(String([...fal.jobs.values()][0].input.image_url), /^https:\/\/v3\.fal\.media\/files\/uploads\//);
    assert.equal(rep.predictions.size, 2);
    for (const p of rep.predictions.values()) assert.match(String(p.input.first_frame_image), /^https:\/\/api\.replicate\.com\/v1\/files\//);
    const videos = await Promise.all(done.map((j) => s.db.getProduct(j.productIds[0])));
    assert.deepEqual(videos.map((v) => v!.kind), ['video', 'video', 'video']);
    assert.deepEqual(videos.map((v) => v!.inputs?.[0]), [
      { field: 'image_url', sha256: sha(bytes), product: still.id, path: null },
      { field: 'first_frame_image', sha256: sha(bytes), product: still.id, path: null },
      { field: 'first_frame_image', sha256: sha(bytes), product: still.id, path: null },
    ]);
    // What the gallery's detail view gets: the video's source image, and the image's videos.
    const tile = (p: ProductRecord) => ({ id: p.id, kind: 'product' as const, project: s.dir, media: p.kind, prompt: p.prompt ?? '', provider: p.provider, model: p.model, rating: 0, favorite: false, tags: [], createdAt: p.createdAt });
    const ofVideo = await productLineage(s.db, videos[1]!, tile);
    assert.deepEqual(ofVideo.madeFrom.map((m) => [m.field, m.tile?.id, m.tile?.media]), [['first_frame_image', still.id, 'image']]);
    const ofStill = await productLineage(s.db, still, tile);
    assert.deepEqual(ofStill.usedIn.map((t) => t.id).sort(), videos.map((v) => v!.id).sort());
    assert.equal(ofStill.usedInTotal, 3);
  } finally {
    await s.close();
    await fal.close();
    await rep.close();
  }
});

test('Civitai takes the image inline: sourceImage from a product reaches the workflow as a data: URI of its bytes; the job notes it shortened', async () => {
  const civ = await startCivitaiFake({ key: CIVITAI_KEY });
  const s = await setup({ civitai: civ.baseUrl });
  try {
    const bytes = await pngBytes(64, 64, [90, 40, 200]);
    const src = await storeImage(s, 'PCIVSRC1', bytes, 'purple square');
    const [job] = await s.engine.submit([{ provider: 'civitai', model: 'urn:air:sdxl:checkpoint:civitai:101055@128078', input: { prompt: 'repaint it', width: 64, height: 64, sourceImage: `product:${src.id}`, sourceImageDenoiseStrenght: 0.6 } }]);
    const [done] = await s.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    const body = JSON.parse(civ.captured.find((c) => c.method === 'POST' && c.url.includes('/workflows'))!.body.toString()) as { steps: { input: { sourceImage: string } }[] };
    const sent = body.steps[0].input.sourceImage;
    assert.ok(sent.startsWith('data:image/png;base64,'));
    assert.deepEqual(Buffer.from(sent.slice('data:image/png;base64,'.length), 'base64'), Buffer.from(bytes));
    assert.match(done.sentInputs!.sourceImage, /^data:image\/png \(\d+ bytes inline, sha256 [0-9a-f]{16}…\)$/);
    assert.deepEqual((await s.db.getProduct(done.productIds[0]))!.inputs, [{ field: 'sourceImage', sha256: sha(bytes), product: src.id, path: null }]);
    assert.equal(await s.db.getUpload('civitai', sha(bytes)), undefined, 'inline images are not kept in the upload cache');
  } finally {
    await s.close();
    await civ.close();
  }
});
