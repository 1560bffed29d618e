import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { migrate, Repo, schemaVersion, ftsQuery } from '../../src/storage/repo.ts';
import { LATEST_VERSION } from '../../src/storage/migrations/index.ts';
import { createProject, dbPath, isProject, openProjectDb, readManifest, rebuildIndex, restoreLatestBackup, StorageError, writeSidecar, newId } from '../../src/storage/index.ts';
import type { ProductQuery } from '../../src/storage/types.ts';
import { insertAsVersion1, product, tempProject } from './helpers.ts';

test('a database made by migration 1 upgrades to the latest and keeps its rows', async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  assert.equal(migrate(db, 1), 1);
  insertAsVersion1(db, [product(1), product(2)]);
  const repo = new Repo(db);
  repo.putJob({ id: 'j1', provider: 'sample', model: 'm', input: {}, state: 'running', productIds: [], attempts: 1, createdAt: 'a', updatedAt: 'b' });
  const bytes = db.export();
  const reopened = new SQL.Database(bytes);
  assert.equal(schemaVersion(reopened), 1);
  assert.equal(migrate(reopened), LATEST_VERSION);
  assert.ok(LATEST_VERSION >= 2);
  const after = new Repo(reopened);
  assert.equal(after.countProducts(), 2);
  assert.equal(after.getJob('j1')?.state, 'running');
  assert.equal(after.queryProducts({ sort: 'rating' }).items.length, 2);
  const indexes = reopened.exec("SELECT name FROM sqlite_master WHERE type='index' AND name='idx_products_rating'");
  assert.equal(indexes[0]?.values.length, 1);
});

test('keyset paging walks every row once in each sort order, with filters and search', async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  migrate(db);
  const repo = new Repo(db);
  repo.putProducts(Array.from({ length: 537 }, (_, i) => product(i)));
  for (const sort of ['newest', 'oldest', 'rating', 'model'] as const) {
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = repo.queryProducts({ sort, after, limit: 50 });
      assert.equal(page.total, 537);
      seen.push(...page.items.map((p) => p.id));
      after = page.next;
    } while (after);
    assert.equal(new Set(seen).size, 537, sort);
  }
  const foxes = repo.queryProducts({ text: 'fox', limit: 1000 });
  assert.ok(foxes.total > 0 && foxes.items.every((p) => /fox/.test(p.prompt!)));
  assert.ok(repo.queryProducts({ text: 'lightho' }).total > 0, 'prefix match while typing');
  assert.equal(repo.queryProducts({ text: 'fox OR "x" NEAR) *' }).total >= 0, true, 'operators in user text are words, not syntax');
  const combined = repo.queryProducts({ provider: ['fal'], minRating: 3, tags: ['keeper'], favorite: true, limit: 1000 });
  assert.ok(combined.items.every((p) => p.provider === 'fal' && p.rating >= 3 && p.tags.includes('keeper') && p.favorite));
  assert.equal(ftsQuery('***'), undefined);
});

test("a product's position in each sort (countBefore) is where paging finds it; productsMatching applies the filters", async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  migrate(db);
  const repo = new Repo(db);
  // Ties on created_at and rating, so the id has to break them as the pages do.
  repo.putProducts(Array.from({ length: 240 }, (_, i) => product(i, { createdAt: product(i - (i % 3)).createdAt })));
  for (const q of [{ sort: 'newest' }, { sort: 'oldest' }, { sort: 'rating' }, { sort: 'model' }, { sort: 'rating', minRating: 2, provider: ['fal'], text: 'numb' }] as ProductQuery[]) {
    const order: string[] = [];
    let after: string | undefined;
    do {
      const page = repo.queryProducts({ ...q, after, limit: 37 });
      order.push(...page.items.map((p) => p.id));
      after = page.next;
    } while (after);
    assert.ok(order.length > 3, JSON.stringify(q));
    for (const id of [order[0], order[Math.floor(order.length / 2)], order.at(-1)!]) assert.equal(repo.countBefore(q, repo.getProduct(id)!), order.indexOf(id), `${JSON.stringify(q)} ${id}`);
    const some = ['P00000001', 'P00000006', 'P00000030', 'P00000077', 'nope'];
    assert.deepEqual(repo.productsMatching(q, some).sort(), some.filter((id) => order.includes(id)).sort(), JSON.stringify(q));
  }
  // A key not in the database: where it would go (a product of another project in "all").
  const newest = repo.queryProducts({ sort: 'newest', limit: 1 }).items[0];
  assert.equal(repo.countBefore({ sort: 'newest' }, { ...newest, id: 'Z', createdAt: '2099-01-01T00:00:00.000Z' }), 0);
  assert.equal(repo.countBefore({ sort: 'oldest' }, { ...newest, id: 'Z', createdAt: '2099-01-01T00:00:00.000Z' }), 240);
  assert.deepEqual(repo.productsMatching({ text: '***' }, ['P00000001']), []);
});

test('project layout, manifest errors, and a folder that is not writable', async () => {
  const dir = path.join(await tempProject(), 'My Project');
  const m = await createProject(dir, 'My Project');
  assert.equal(m.name, 'My Project');
  assert.ok(await isProject(dir));
  for (const sub of ['params', 'templates', 'products', '.artfactory']) assert.ok((await fs.stat(path.join(dir, sub))).isDirectory());
  await assert.rejects(createProject(dir, 'again'), (e: unknown) => e instanceof StorageError && e.kind === 'exists');
  await fs.writeFile(path.join(dir, 'artfactory.json'), '{ "name": "x", ');
  await assert.rejects(readManifest(dir), (e: unknown) => e instanceof StorageError && e.kind === 'corrupt-manifest');
  if (process.getuid?.() !== 0) {
    const ro = await tempProject();
    await fs.chmod(ro, 0o500);
    await assert.rejects(createProject(path.join(ro, 'p'), 'p'), (e: unknown) => e instanceof StorageError && e.kind === 'not-writable');
  }
});

test('a damaged database is refused (never silently empty) and the latest backup restores', async () => {
  const dir = await tempProject();
  await createProject(dir, 'B');
  const db = await openProjectDb(dir);
  await db.putProducts([product(1), product(2), product(3)]);
  await db.close();
  const again = await openProjectDb(dir, { backups: 3 }); // opening an existing file makes the day's backup
  await again.close();
  await fs.writeFile(dbPath(dir), Buffer.from('this is not sqlite at all, just text that got there'));
  await assert.rejects(openProjectDb(dir), (e: unknown) => e instanceof StorageError && e.kind === 'corrupt-db' && e.backups.length >= 1);
  await restoreLatestBackup(dir);
  const restored = await openProjectDb(dir);
  assert.equal(await restored.countProducts(), 3);
  await restored.close();
});

test('the index rebuilt from sidecars answers the same gallery queries', async () => {
  const dir = await tempProject();
  await createProject(dir, 'R');
  const db = await openProjectDb(dir);
  const products = Array.from({ length: 300 }, (_, i) => product(i));
  await db.putProducts(products);
  for (const p of products) await writeSidecar(dir, p);
  const queries: ProductQuery[] = [{}, { sort: 'rating', limit: 40 }, { sort: 'model' }, { text: 'ocean' }, { tags: ['draft'], minRating: 2 }, { provider: ['replicate'], favorite: true }, { from: '2026-01-01T01:00:00.000Z', to: '2026-01-01T03:00:00.000Z' }];
  const before = await Promise.all(queries.map((q) => db.queryProducts(q)));
  await db.close();
  const n = await rebuildIndex(dir);
  assert.equal(n, 300);
  const rebuilt = await openProjectDb(dir);
  const after = await Promise.all(queries.map((q) => rebuilt.queryProducts(q)));
  assert.deepEqual(after, before);
  await rebuilt.close();
  assert.ok((await fs.readdir(path.join(dir, '.artfactory', 'backups'))).some((f) => f.includes('before-rebuild')));
});

test('ids are time-ordered and unique', () => {
  const ids = Array.from({ length: 5000 }, () => newId());
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
});

test('a window reading the project sees what another window saved, and keeps its own unsaved writes', async () => {
  const dir = await tempProject();
  const a = await openProjectDb(dir, { saveDelayMs: 10_000 });
  const b = await openProjectDb(dir, { saveDelayMs: 10_000 });
  try {
    await b.putProduct(product(2)); // unsaved in B
    await a.putProduct(product(1));
    await a.flush();
    assert.ok(await b.getProduct(product(1).id), "B reads A's saved product without writing first");
    assert.ok(await b.getProduct(product(2).id), "B's unsaved write survives the reload");
    await b.flush();
    assert.equal((await a.queryProducts({})).total, 2, 'and A sees both after B saves');
  } finally {
    await a.close();
    await b.close();
  }
});

test('every project database of a process lives in one worker thread, which stops with the last close', { skip: process.platform !== 'linux' && 'counts threads through /proc (Linux only)' }, async () => {
  const threads = async () => (await fs.readdir('/proc/self/task')).length;
  const base = await tempProject();
  const dirs = Array.from({ length: 12 }, (_, i) => path.join(base, `p${i}`));
  const before = await threads();
  const first = await openProjectDb(dirs[0]);
  const withOne = await threads();
  const rest = await Promise.all(dirs.slice(1).map((d) => openProjectDb(d)));
  const withAll = await threads();
  try {
    assert.ok(withOne > before, 'the first database starts a worker');
    assert.ok(withAll - withOne <= 1, `twelve databases, ${withAll - before} threads more than none (one worker: ${withOne - before})`);
    await first.putProduct(product(1));
    assert.equal(await rest[3].countProducts(), 0, 'each database is its own');
  } finally {
    for (const db of [first, ...rest]) await db.close();
  }
  for (let i = 0; i < 50 && (await threads()) > before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await threads(), before, 'the worker stops after the last close');
});
