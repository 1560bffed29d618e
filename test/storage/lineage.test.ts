import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { migrate, Repo } from '../../src/storage/repo.ts';
import { createProject, readSidecar } from '../../src/storage/index.ts';
import type { ProductInput } from '../../src/storage/types.ts';
import { insertAsVersion1, product, tempProject } from './helpers.ts';

const from = (source: string | null, field = 'image_url', path: string | null = null): ProductInput => ({ field, sha256: 'a'.repeat(64), product: source, path });

test('migration 3 indexes the lineage already in stored records, and adds the upload cache', async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  assert.equal(migrate(db, 2), 2);
  // Rows whose JSON already carries inputs (written before the index existed).
  insertAsVersion1(db, [product(1), product(2, { inputs: [from('P00000001')] }), product(3, { inputs: [from('P00000001', 'image_urls.0'), from(null, 'image_urls.1', './a.png')] }), product(4, { inputs: 'junk' as unknown as ProductInput[] })]);
  assert.equal(migrate(db, 3), 3);
  const repo = new Repo(db);
  const used = repo.usedIn('P00000001');
  assert.deepEqual(used.items.map((p) => p.id), ['P00000003', 'P00000002'], 'newest first');
  assert.equal(used.total, 2);
  assert.equal(repo.usedIn('P00000002').total, 0);
  assert.equal(repo.getUpload('fal', 'x'), undefined);
});

test('"used in" is an index lookup among 20,000 products, follows updates and deletes, and pages with a total', async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  migrate(db);
  const repo = new Repo(db);
  const all = Array.from({ length: 20_000 }, (_, i) => product(i, i > 0 && i % 3 === 0 ? { inputs: [from(`P${String(i % 997).padStart(8, '0')}`)] } : {}));
  // Thirty products made from one source (two inputs each from it count once).
  for (let k = 0; k < 30; k++) all[19_000 + k] = product(19_000 + k, { inputs: [from('P00000007', 'image_urls.0'), from('P00000007', 'image_urls.1')] });
  repo.putProducts(all);
  const expected = all.filter((p) => p.inputs?.some((i) => i.product === 'P00000007')).map((p) => p.id);
  const page = repo.usedIn('P00000007', 10);
  assert.equal(page.total, expected.length);
  assert.equal(page.items.length, 10);
  assert.deepEqual(page.items.map((p) => p.id), [...expected].sort().reverse().slice(0, 10), 'newest ten');
  const plan = db.exec("EXPLAIN QUERY PLAN SELECT product_id FROM product_inputs WHERE source_id = 'P00000007'").flatMap((r) => r.values.map((v) => String(v.at(-1))));
  assert.ok(plan.some((d) => /USING (COVERING )?INDEX idx_product_inputs_source/.test(d)), plan.join(' | '));
  // An edit of the record (its lineage unchanged) keeps it; new lineage replaces the old.
  repo.updateProduct('P00019000', { rating: 5 });
  assert.equal(repo.usedIn('P00000007', 1000).total, expected.length);
  repo.putProduct({ ...all[19_001], inputs: [from('P00000008')] });
  assert.equal(repo.usedIn('P00000007', 1000).total, expected.length - 1);
  repo.deleteProducts(['P00019002']);
  assert.equal(repo.usedIn('P00000007', 1000).total, expected.length - 2);
  assert.equal(db.exec("SELECT COUNT(*) FROM product_inputs WHERE product_id = 'P00019002'")[0].values[0][0], 0);
});

test('the upload cache keeps one entry per provider and content, and drops expired entries as new ones come', async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  migrate(db);
  const repo = new Repo(db);
  repo.putUpload({ provider: 'fal', sha256: 's1', url: 'https://v3.fal.media/files/a', expiresAt: Date.now() + 60_000 });
  repo.putUpload({ provider: 'replicate', sha256: 's1', url: 'https://api.replicate.com/v1/files/b', expiresAt: Date.now() - 1 });
  assert.equal(repo.getUpload('fal', 's1')?.url, 'https://v3.fal.media/files/a');
  assert.equal(repo.getUpload('replicate', 's1')?.url, 'https://api.replicate.com/v1/files/b');
  repo.putUpload({ provider: 'fal', sha256: 's2', url: 'https://v3.fal.media/files/c', expiresAt: Number.POSITIVE_INFINITY });
  assert.equal(repo.getUpload('replicate', 's1'), undefined, 'the expired one is gone');
  assert.equal(repo.getUpload('fal', 's2')?.expiresAt, Number.MAX_SAFE_INTEGER);
  repo.putUpload({ provider: 'fal', sha256: 's1', url: 'https://v3.fal.media/files/d', expiresAt: Date.now() + 60_000 });
  assert.equal(repo.getUpload('fal', 's1')?.url, 'https://v3.fal.media/files/d');
});

test('a sidecar with malformed lineage keeps its product; the lineage it can read is kept', async () => {
  const dir = path.join(await tempProject(), 'p');
  await createProject(dir, 'Lineage');
  const good = { ...product(1), inputs: [from('P00000000'), from(null, 'mask', './m.png')] };
  const bad = { ...product(2), file: 'products/2026/01/01/P00000002.png', inputs: [{ field: 7 }] };
  await fs.mkdir(path.join(dir, 'products/2026/01/01'), { recursive: true });
  await fs.writeFile(path.join(dir, 'products/2026/01/01/P00000001.json'), JSON.stringify(good));
  await fs.writeFile(path.join(dir, 'products/2026/01/01/P00000002.json'), JSON.stringify(bad));
  assert.deepEqual((await readSidecar(path.join(dir, 'products/2026/01/01/P00000001.json'))).inputs, good.inputs);
  const read = await readSidecar(path.join(dir, 'products/2026/01/01/P00000002.json'));
  assert.equal(read.id, 'P00000002');
  assert.equal(read.inputs, undefined);
});
