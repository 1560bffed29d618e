import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import initSqlJs, { type Database } from 'sql.js';
import { BulkLoader } from '../../src/storage/bulkLoad.ts';
import { migrate, Repo } from '../../src/storage/repo.ts';
import { createProject, dbPath, openProjectDb, rebuildIndex, StorageError, writeSidecar } from '../../src/storage/index.ts';
import type { ProductRecord } from '../../src/storage/types.ts';
import { product, tempProject } from './helpers.ts';

/** Every row of the tables a product writes, and the schema's indexes, as comparable text. */
function dump(db: Database): Record<string, unknown> {
  const all = (sql: string) => db.exec(sql)[0]?.values ?? [];
  return {
    products: all('SELECT * FROM products ORDER BY rid'),
    tags: all('SELECT product_id, tag FROM product_tags ORDER BY product_id, tag'),
    inputs: all('SELECT * FROM product_inputs ORDER BY product_id, field'),
    fts: all('SELECT docid, prompt, negative FROM products_fts ORDER BY docid'),
    match: all("SELECT docid FROM products_fts WHERE products_fts MATCH 'ocean OR blur*' ORDER BY docid"),
    indexes: all("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"),
    plan: all("EXPLAIN QUERY PLAN SELECT id FROM products WHERE rating >= 3 ORDER BY rating DESC, created_at DESC, id DESC LIMIT 10").map((r) => r[3]),
  };
}

/** Products with every kind of row: tags (one repeated), lineage, a cost, a negative prompt,
 * and one id that comes twice (the second sidecar wins, as a second write would). */
function mixed(): ProductRecord[] {
  const ps = Array.from({ length: 60 }, (_, i) =>
    product(i, {
      tags: i % 3 === 0 ? ['keeper', 'keeper', 'blue'] : [],
      negativePrompt: i % 2 ? 'blurry' : undefined,
      cost: i % 4 === 0 ? { amount: 0.025 * i, currency: 'USD', estimated: false } : undefined,
      inputs: i % 5 === 0 && i > 0 ? [{ field: 'image_url', sha256: 'a'.repeat(64), product: product(i - 1).id, path: null }, { field: 'mask_url', sha256: 'b'.repeat(64), product: null, path: 'in/mask.png' }] : undefined,
    }),
  );
  ps.push(product(7, { rating: 5, tags: ['again'], prompt: 'ocean again' }));
  return ps;
}

test("Rebuild Index's bulk load leaves exactly the rows and indexes that writing the products one by one leaves", async () => {
  const SQL = await initSqlJs();
  const one = new SQL.Database();
  migrate(one);
  const ps = mixed();
  for (const p of ps) new Repo(one).putProduct(p);
  const bulk = new SQL.Database();
  migrate(bulk);
  const loader = new BulkLoader(new Repo(bulk));
  loader.add(ps.slice(0, 25));
  loader.add(ps.slice(25));
  loader.finish();
  assert.deepEqual(dump(bulk), dump(one));
  assert.equal(new Repo(bulk).getProduct(product(7).id)?.rating, 5, 'the later sidecar of an id wins');
  assert.deepEqual(new Repo(bulk).usedIn(product(4).id).items.map((p) => p.id), [product(5).id]);
  one.close();
  bulk.close();
});

test('a canceled Rebuild Index stops, and leaves the database, its journal and the backups as they were', { timeout: 120_000 }, async () => {
  const dir = await tempProject();
  await createProject(dir, 'Cancel');
  const db = await openProjectDb(dir, { backups: 0 });
  await db.putProducts([product(0), product(1)]);
  await db.close();
  // One sidecar is past the 16 KiB that one read takes (a long note): it is read whole.
  const products = Array.from({ length: 2500 }, (_, i) => product(i, { file: `products/2026/01/01/${product(i).id}.png`, notes: i === 1234 ? 'ü'.repeat(20_000) : '' }));
  for (let i = 0; i < products.length; i += 100) await Promise.all(products.slice(i, i + 100).map((p) => writeSidecar(dir, p)));
  const file = dbPath(dir);
  const before = { db: readFileSync(file), journal: readFileSync(`${file}.journal`), backups: await fs.readdir(path.join(dir, '.artfactory', 'backups')).catch(() => []) };

  const ac = new AbortController();
  const seen: number[] = [];
  const error = await rebuildIndex(dir, {
    backups: 0,
    signal: ac.signal,
    onProgress: ({ done }) => {
      seen.push(done);
      if (done >= 1000) ac.abort();
    },
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof StorageError && error.kind === 'canceled', String(error));
  assert.deepEqual(seen, [0, 1000], 'progress came with the sidecars found and at 1,000 read, and the rebuild stopped there');
  assert.deepEqual(readFileSync(file), before.db, 'the database file is untouched');
  assert.deepEqual(readFileSync(`${file}.journal`), before.journal, 'and its journal');
  assert.deepEqual(await fs.readdir(path.join(dir, '.artfactory', 'backups')).catch(() => []), before.backups, 'nothing was moved to backups/');
  const old = await openProjectDb(dir, { backups: 0 });
  assert.equal(await old.countProducts(), 2, 'the old index opens and answers');
  await old.close();

  // The worker is left ready for the next rebuild, which indexes every sidecar.
  const reports: string[] = [];
  assert.equal(await rebuildIndex(dir, { backups: 0, onProgress: ({ done, total, saving }) => reports.push(`${done}/${total}${saving ? ' saving' : ''}`) }), 2500);
  assert.deepEqual(reports, ['0/2500', '1000/2500', '2000/2500', '2500/2500 saving', '2500/2500']);
  const rebuilt = await openProjectDb(dir, { backups: 0 });
  assert.equal(await rebuilt.countProducts(), 2500);
  assert.equal((await rebuilt.getProduct(product(1234).id))?.notes, 'ü'.repeat(20_000), 'a sidecar past one read comes whole');
  assert.equal((await rebuilt.queryProducts({ text: 'ocean', limit: 1 })).total, products.filter((p) => /ocean/.test(p.prompt ?? '')).length);
  await rebuilt.close();
});
