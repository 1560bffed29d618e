import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { migrate, Repo, schemaVersion, ftsQuery } from '../../src/storage/repo.ts';
import { LATEST_VERSION } from '../../src/storage/migrations/index.ts';
import { createProject, dbPath, isProject, openProjectDb, readManifest, rebuildIndex, restoreLatestBackup, StorageError, writeSidecar, newId } from '../../src/storage/index.ts';
import type { ProductQuery } from '../../src/storage/types.ts';
import { insertAsVersion1, product, tempProject } from './helpers.ts';

const ROOT = path.resolve(__dirname, '../..');
/** The uid and gid of `nobody` (Debian, and most Linux systems). */
const NOBODY = 65534;

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
  const all = Array.from({ length: 537 }, (_, i) => product(i));
  const ids = (ps: { id: string }[]) => ps.map((p) => p.id).sort();
  const withWord = (re: RegExp) => all.filter((p) => p.prompt!.split(' ').some((w) => re.test(w)));
  const foxes = repo.queryProducts({ text: 'fox', limit: 1000 });
  assert.deepEqual(ids(foxes.items), ids(withWord(/^fox$/)), 'every product with the word, and only those');
  assert.equal(foxes.total, withWord(/^fox$/).length);
  // A search alone is counted in the full-text index: a deleted product leaves the count with its row.
  repo.deleteProducts([foxes.items[0].id]);
  assert.equal(repo.queryProducts({ text: 'fox' }).total, withWord(/^fox$/).length - 1);
  repo.putProducts([foxes.items[0]]);
  const typing = repo.queryProducts({ text: 'lightho', limit: 1000 });
  assert.deepEqual(ids(typing.items), ids(withWord(/^lightho/)), 'prefix match while typing');
  assert.ok(typing.total > 0 && typing.total < 537);
  // Operators in user text are words, not syntax: read as FTS syntax, "fox OR dragon" would
  // match every fox and every dragon (and `NEAR)` would be an error); read as words, only a
  // prompt holding all of them matches.
  repo.putProducts([product(9000, { prompt: 'a fox or x near the dragon', input: { prompt: 'a fox or x near the dragon' } })]);
  assert.deepEqual(ids(repo.queryProducts({ text: 'fox OR "x" NEAR) *' }).items), [product(9000).id]);
  assert.deepEqual(ids(repo.queryProducts({ text: 'fox OR dragon' }).items), [product(9000).id]);
  // Every filter at once; the products are built so that some (i ≡ 45 mod 60) pass them all.
  const combined = repo.queryProducts({ provider: ['fal'], minRating: 3, tags: ['draft'], favorite: true, limit: 1000 });
  const expected = all.filter((p) => p.provider === 'fal' && p.rating >= 3 && p.tags.includes('draft') && p.favorite);
  assert.equal(expected.length, 9, 'the data has products for the combined filter');
  assert.deepEqual(ids(combined.items), ids(expected));
  assert.equal(combined.total, expected.length);
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
    // One id at a time (the grid's focus) takes the row-by-row form of the search: same answers.
    for (const id of some) assert.deepEqual(repo.productsMatching(q, [id]), order.includes(id) ? [id] : [], `${JSON.stringify(q)} ${id}`);
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
  assert.equal(await createProjectIn(0o555), 'not-writable');
  assert.equal(await createProjectIn(0o777), 'created', 'the same attempt in a writable folder succeeds');
});

/** createProject in a new folder with `mode`: 'created', or the StorageError kind. Root writes
 * anywhere whatever the mode (and CI runs as root), so as root the attempt runs in a child
 * process with the uid of `nobody`. */
async function createProjectIn(mode: number): Promise<string> {
  const base = await tempProject();
  await fs.chmod(base, 0o755);
  const folder = path.join(base, 'folder');
  await fs.mkdir(folder);
  await fs.chmod(folder, mode);
  const target = path.join(folder, 'p');
  if (process.getuid?.() !== 0) {
    return createProject(target, 'p').then(
      () => 'created',
      (e: unknown) => (e instanceof StorageError ? e.kind : String(e)),
    );
  }
  const script = "require('./src/storage/index.ts').createProject(process.argv[1], 'p').then(() => console.log('created'), (e) => console.log(e.kind ?? e.message))";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, target], { cwd: ROOT, uid: NOBODY, gid: NOBODY, encoding: 'utf8', env: { ...process.env, HOME: base } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('a damaged database is refused (never silently empty) and the latest backup restores', async () => {
  const dir = await tempProject();
  await createProject(dir, 'B');
  const db = await openProjectDb(dir);
  await db.putProducts([product(1), product(2), product(3)]);
  await db.close();
  const again = await openProjectDb(dir, { backups: 3 }); // opening an existing file makes the day's backup
  await again.close();
  await fs.writeFile(dbPath(dir), Buffer.from('this is not sqlite at all, just text that got there'));
  await assert.rejects(openProjectDb(dir), (e: unknown) => e instanceof StorageError && e.kind === 'corrupt-db' && e.backups.length === 1, 'the one backup (of the second open) is offered');
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

test('every project database of a process lives in one worker thread, which stops with the last close', { skip: process.platform !== 'linux' && 'counts threads through /proc (Linux only)', timeout: 60_000 }, async () => {
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
  // The worker's exit is not observable from here: poll the thread count until it drops (a busy
  // machine may take a while), bounded by the test's own timeout.
  while ((await threads()) > before) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await threads(), before, 'the worker stops after the last close');
});

test('a process that leaves its database open still ends, and what it wrote is saved first', async () => {
  const dir = await tempProject();
  await createProject(dir, 'Left open');
  // Writes, never closes, never flushes; the delayed save (10 s here) has not run when the
  // script's own work ends.
  const script = `const s = require('./src/storage/index.ts'); const { product } = require('./test/storage/helpers.ts');
    s.openProjectDb(process.argv[1], { saveDelayMs: 10000 }).then(async (db) => { await db.putProducts([product(1), product(2)]); console.log('wrote'); });`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script, dir], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, `the process did not end by itself (${Date.now() - started} ms): ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'wrote');
  assert.ok(Date.now() - started < 10_000, 'it ended without waiting for the delayed save');
  const db = await openProjectDb(dir);
  try {
    assert.equal(await db.countProducts(), 2, 'the writes were saved before the process ended');
  } finally {
    await db.close();
  }
});
