// The product store: every media type stored, deleted to the trash and undone back to exactly
// where it was (a WebP product once went into the thumbnails folder on undo), the trash
// emptied, and the path rule holding for rows and sidecars that point elsewhere.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { createProject, layoutOf, openProjectDb, PathRefusedError, ProductStore, ProjectPaths, relProblem } from '../../src/storage/index.ts';
import type { ProductRecord, ProjectDb } from '../../src/storage/types.ts';
import { walkFiles } from '../files.ts';
import { product } from './helpers.ts';

let dir: string;
let db: ProjectDb;
let store: ProductStore;

before(async () => {
  dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-pstore-')), 'project');
  await createProject(dir, 'Store');
  db = await openProjectDb(dir, { backups: 0, saveDelayMs: 5 });
  store = new ProductStore(dir, db);
});
after(async () => {
  await db?.close();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function image(format: 'png' | 'jpeg' | 'webp' | 'gif' | 'avif'): Promise<Buffer> {
  const img = sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 200, g: 90, b: 30 } } });
  return format === 'png' ? img.png().toBuffer() : format === 'jpeg' ? img.jpeg().toBuffer() : format === 'webp' ? img.webp().toBuffer() : format === 'gif' ? img.gif().toBuffer() : img.avif().toBuffer();
}

/** Bytes of each kind the store may hold (it never decodes video or audio). */
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(64, 1)]);
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt '), Buffer.alloc(64, 2)]);

function record(id: string, ext: string, kind: ProductRecord['kind'], bytes: Uint8Array, mediaType: string): ProductRecord {
  return product(0, { id, jobId: `J-${id}`, kind, mediaType, file: `products/2026/03/04/${id}.${ext}`, bytes: bytes.length, sha256: sha(bytes), prompt: `a ${ext} product` });
}

async function tree(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await walkFiles(dir)) {
    if (f.startsWith('.artfactory/index.db') || f.startsWith('.artfactory/trash/')) continue;
    const abs = path.join(dir, f);
    out.set(f, (await fs.lstat(abs)).isSymbolicLink() ? `link to ${await fs.readlink(abs)}` : sha(await fs.readFile(abs)));
  }
  return out;
}

test('delete → undo puts every media type back exactly where it was: png, jpg, webp, gif, avif, a video with its poster, audio', async () => {
  const cases: { id: string; ext: string; kind: ProductRecord['kind']; mediaType: string; bytes: Buffer; poster?: Buffer }[] = [
    { id: 'MPNG', ext: 'png', kind: 'image', mediaType: 'image/png', bytes: await image('png') },
    { id: 'MJPG', ext: 'jpg', kind: 'image', mediaType: 'image/jpeg', bytes: await image('jpeg') },
    { id: 'MWEBP', ext: 'webp', kind: 'image', mediaType: 'image/webp', bytes: await image('webp') },
    { id: 'MGIF', ext: 'gif', kind: 'image', mediaType: 'image/gif', bytes: await image('gif') },
    { id: 'MAVIF', ext: 'avif', kind: 'image', mediaType: 'image/avif', bytes: await image('avif') },
    { id: 'MMP4', ext: 'mp4', kind: 'video', mediaType: 'video/mp4', bytes: MP4, poster: await image('png') },
    { id: 'MWAV', ext: 'wav', kind: 'audio', mediaType: 'audio/wav', bytes: WAV },
  ];
  for (const c of cases) {
    const stored = await store.put(record(c.id, c.ext, c.kind, c.bytes, c.mediaType), c.bytes, c.poster ? { poster: { bytes: c.poster, ext: 'png' } } : {});
    if (c.kind !== 'audio') assert.ok(await store.thumbnail(stored), `${c.id}: thumbnails made`);
  }
  const before = await tree();
  const files = [...before.keys()];
  for (const c of cases) {
    assert.ok(files.includes(`products/2026/03/04/${c.id}.${c.ext}`), c.id);
    assert.ok(files.includes(`products/2026/03/04/${c.id}.json`), `${c.id} sidecar`);
    if (c.kind !== 'audio') assert.ok(files.includes(`.artfactory/thumbs/${c.id}-256.webp`) && files.includes(`.artfactory/thumbs/${c.id}-768.webp`), `${c.id} thumbnails`);
  }
  assert.ok(files.includes('products/2026/03/04/MMP4.poster.png'));

  for (const c of cases) {
    const row = (await db.getProduct(c.id))!;
    const { trashed, refused } = await store.trash([row]);
    assert.deepEqual(refused, []);
    assert.equal(trashed.length, 1);
    const gone = [...(await tree()).keys()].filter((f) => f.includes(c.id));
    assert.deepEqual(gone, [], `${c.id}: every file of it went to the trash`);
    assert.equal(await db.getProduct(c.id), undefined, `${c.id}: its row is gone`);
    const moved = Object.values(trashed[0].moved).sort();
    assert.equal(moved.length, c.kind === 'audio' ? 2 : c.poster ? 5 : 4, `${c.id}: ${moved.join(', ')}`);
    const { restored, conflicts } = await store.untrash(trashed);
    assert.deepEqual(conflicts, []);
    assert.deepEqual(restored, [c.id]);
    assert.deepEqual(await db.getProduct(c.id), row, `${c.id}: the row is back as it was`);
  }
  assert.deepEqual(await tree(), before, 'every file is back at its own path with its own bytes (a WebP product is not a thumbnail)');
  assert.deepEqual(await fs.readdir(path.join(dir, '.artfactory', 'trash')), [], 'undo leaves no trash entry');

  // Delete, then empty the trash: the files are gone for good, and only the trash entries went.
  const rows = (await Promise.all(cases.map((c) => db.getProduct(c.id)))) as ProductRecord[];
  const { trashed } = await store.trash(rows);
  const discarded: string[] = [];
  await store.emptyTrash(trashed, { discard: async (abs) => {
    discarded.push(path.relative(dir, abs).split(path.sep).join('/'));
    await fs.rm(abs, { recursive: true });
  } });
  assert.equal(discarded.length, cases.length);
  assert.ok(discarded.every((d) => /^\.artfactory\/trash\/M[A-Z0-9]+-[0-9a-f]{8}$/.test(d)), discarded.join(', '));
  assert.deepEqual([...(await tree()).keys()].filter((f) => f.startsWith('products/')), []);
});

test('the path rule: lexical checks, and layouts derived from the id', () => {
  for (const bad of ['../x', 'products/../x', '/etc/passwd', 'products//x.png', 'products/./x.png', 'products\\x.png', 'C:/x', 'other/x.png', 'products', 'products/a b.png', '']) assert.ok(relProblem(bad, 'products'), bad);
  assert.equal(relProblem('products/2026/01/02/ID.png', 'products'), undefined);
  assert.throws(() => layoutOf({ id: 'B', file: 'products/2026/01/02/A.png' }), PathRefusedError, 'a row cannot name another product\'s file');
  assert.throws(() => layoutOf({ id: 'A', file: 'products/2026/01/02/A.json' }), PathRefusedError, 'nor its own sidecar');
  assert.throws(() => layoutOf({ id: 'A', file: 'products/2026/01/02/A.png', poster: 'products/2026/01/02/B.poster.png' }), PathRefusedError, 'nor another poster');
  assert.throws(() => layoutOf({ id: '../A', file: 'products/A.png' }), PathRefusedError);
  assert.deepEqual(layoutOf({ id: 'A', file: 'products/x/A.webp' }), { id: 'A', file: 'products/x/A.webp', sidecar: 'products/x/A.json', thumbs: { small: '.artfactory/thumbs/A-256.webp', large: '.artfactory/thumbs/A-768.webp' } });
});

test('rows that point elsewhere are refused by trash; the files they name, and symlinked folders, are untouched', async () => {
  const outside = path.join(path.dirname(dir), 'victim');
  await fs.mkdir(outside, { recursive: true });
  await fs.writeFile(path.join(outside, 'secret.txt'), 'secret');
  const png = await image('png');
  const a = await store.put(record('AOWN', 'png', 'image', png, 'image/png'), png);
  // A symlinked day folder: put refuses to write through it; a product file that is a link is refused.
  await fs.symlink(outside, path.join(dir, 'products', '2026', 'linked'));
  await assert.rejects(store.put({ ...a, id: 'ALINK', file: 'products/2026/linked/ALINK.png' }, png), /symbolic link/);
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(dir, 'products', '2026', '03', '04', 'ASYM.png'));
  const crafted: ProductRecord[] = [
    { ...a, id: 'AOUT', file: '../../victim/secret.txt' },
    { ...a, id: 'ADIR', file: 'products/2026' },
    { ...a, id: 'BOTHER', file: a.file }, // another product's file
    { ...a, id: 'ASYM', file: 'products/2026/03/04/ASYM.png' }, // a symlink to the outside file
    { ...a, id: 'AVIA', file: 'products/2026/linked/AVIA.png' }, // through a symlinked folder
  ];
  const before = await tree();
  const { trashed, refused } = await store.trash(crafted);
  assert.deepEqual(trashed, []);
  assert.deepEqual(refused.map((r) => r.id), crafted.map((c) => c.id));
  for (const r of refused) assert.match(r.reason, /is refused:.*(not inside products|not named after|symbolic link|climbs out)/, r.reason);
  assert.equal(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8'), 'secret');
  assert.deepEqual(await tree(), before, 'nothing in the project moved');
  assert.ok(await db.getProduct('AOWN'), 'the real product keeps its row');
  // Reading follows the same rule (what export uses).
  const paths = new ProjectPaths(dir);
  await assert.rejects(paths.readFile('products/2026/03/04/ASYM.png', 'products'), /symbolic link/);
  await assert.rejects(paths.readFile('products/2026/linked/AVIA.png', 'products'), /symbolic link/);
  assert.equal((await paths.readFile(a.file, 'products')).length, png.length);
  // A planted thumbnail link does not stop a real product's delete, and its target stays.
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(dir, '.artfactory', 'thumbs', 'AOWN-256.webp'));
  const done = await store.trash([a]);
  assert.equal(done.trashed.length, 1);
  assert.deepEqual(Object.keys(done.trashed[0].moved).sort(), ['media.png', 'sidecar.json']);
  assert.equal(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8'), 'secret');
  assert.ok((await fs.lstat(path.join(dir, '.artfactory', 'thumbs', 'AOWN-256.webp'))).isSymbolicLink(), 'the link was left where it was');
});
