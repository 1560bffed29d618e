// Missing thumbnails are made in the background for what a gallery shows: a project cloned from
// git or restored from a backup carries no thumbs/, and an import whose window was reloaded
// before its thumbnails were made left them undone. Real project, real PNGs, real sharp.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { createProject, openProjectDb, ProductStore } from '../../src/storage/index.ts';
import { ThumbnailQueue } from '../../src/storage/thumbnailQueue.ts';
import type { ProductRecord, ProjectDb } from '../../src/storage/types.ts';
import { GalleryController } from '../../src/webviews/galleryController.ts';
import { DEFAULT_FILTER } from '../../src/webviews/protocol.ts';
import { product } from './helpers.ts';

const dbs: ProjectDb[] = [];
after(async () => {
  for (const db of dbs) await db.close();
});

async function projectWithoutThumbnails(n: number): Promise<{ dir: string; db: ProjectDb; store: ProductStore; stored: ProductRecord[] }> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-thumbq-')), 'p');
  await createProject(dir, 'Cloned');
  const db = await openProjectDb(dir, { backups: 0 });
  dbs.push(db);
  const store = new ProductStore(dir, db);
  const stored: ProductRecord[] = [];
  for (let i = 1; i <= n; i++) {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: i * 20, g: 80, b: 160 } } }).png().toBuffer();
    stored.push(await store.put(product(i, { bytes: png.length }), png));
  }
  // As a clone or a restored backup has it: no thumbnails at all.
  await fs.rm(path.join(dir, '.artfactory', 'thumbs'), { recursive: true, force: true });
  return { dir, db, store, stored };
}

const thumbOf = (dir: string, id: string) => path.join(dir, '.artfactory', 'thumbs', `${id}-256.webp`);

test('a gallery page of products without thumbnails gets them made, the top of the page first; a read-only gallery asks for none', async () => {
  const { dir, db, store } = await projectWithoutThumbnails(5);
  const made: string[] = [];
  const queue = new ThumbnailQueue(store, (id) => made.push(id));
  void queue.start();
  const asked: string[][] = [];
  let readOnly: string | undefined;
  const controller = new GalleryController({
    projects: () => [{ dir, name: 'Cloned', db: async () => db }],
    scope: dir,
    toUri: (abs) => `uri:${abs}`,
    actions: { run: async () => undefined, delete: async () => ({ deleted: [] }), undoDelete: async () => undefined },
    post: () => undefined,
    log: { info() {}, warn() {}, error() {} },
    readOnly: () => readOnly,
    noThumbnails: (_dir, products) => {
      asked.push(products.map((p) => p.id));
      // As the gallery panel does: added last first, so the top of the page is made first.
      queue.add(...[...products].reverse());
    },
  });
  readOnly = 'Restricted Mode';
  await controller.handlers.query({ filter: DEFAULT_FILTER, limit: 3 });
  assert.deepEqual(asked, [], 'Restricted Mode: the gallery writes nothing, thumbnails included');
  readOnly = undefined;
  const page = await controller.handlers.query({ filter: DEFAULT_FILTER, limit: 3 });
  assert.ok(page.tiles.every((t) => t.thumb === `uri:${path.join(dir, 'products', '2026', '01', '01', `${t.id}.png`)}`), 'shown from their files meanwhile');
  assert.deepEqual(asked, [['P00000005', 'P00000004', 'P00000003']]);
  await queue.start();
  assert.deepEqual(made, ['P00000005', 'P00000004', 'P00000003'], 'made in the order shown');
  for (const id of made) assert.ok(existsSync(thumbOf(dir, id)));
  assert.ok(!existsSync(thumbOf(dir, 'P00000001')), 'what was not shown is not made');
  // Shown again, the page has its thumbnails and asks for nothing more.
  const again = await controller.handlers.query({ filter: DEFAULT_FILTER, limit: 3 });
  assert.deepEqual(asked.length, 1);
  assert.ok(again.tiles.every((t) => t.thumb === `uri:${thumbOf(dir, t.id)}`));
});

test('two queues of one process never make the same thumbnail; a stopped queue makes nothing more', async () => {
  const { dir, store, stored } = await projectWithoutThumbnails(4);
  const first: string[] = [];
  const second: string[] = [];
  const a = new ThumbnailQueue(store, (id) => first.push(id));
  const b = new ThumbnailQueue(store, (id) => second.push(id));
  a.add(...stored.slice(0, 3)); // an import's, say
  b.add(...stored); // a gallery showing them all
  await Promise.all([a.start(), b.start()]);
  assert.deepEqual(first.sort(), ['P00000001', 'P00000002', 'P00000003']);
  assert.deepEqual(second, ['P00000004'], 'only what the other queue had not taken on');
  const c = new ThumbnailQueue(store, (id) => second.push(id));
  await fs.rm(path.join(dir, '.artfactory', 'thumbs'), { recursive: true, force: true });
  c.add(...stored);
  c.stop();
  await c.start();
  assert.deepEqual(second, ['P00000004']);
  assert.ok(!existsSync(thumbOf(dir, 'P00000001')));
  // Stopped, it gave its products back: another queue can take them.
  const d = new ThumbnailQueue(store);
  d.add(stored[0]);
  await d.start();
  assert.ok(existsSync(thumbOf(dir, 'P00000001')));
});
