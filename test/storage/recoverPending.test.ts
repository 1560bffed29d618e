// What an interrupted batch left is finished by the next batch writer (productBatch.ts
// recoverPending): but a media file whose sidecar is there and cannot be read is kept, not taken
// for one without a sidecar.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { createProject, openProjectDb, ProductStore } from '../../src/storage/index.ts';
import type { ProjectDb } from '../../src/storage/types.ts';
import { product } from './helpers.ts';

let db: ProjectDb | undefined;
after(async () => {
  await db?.close();
});

test('recovery removes a media file only when its sidecar is surely not there', async () => {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-recover-')), 'p');
  await createProject(dir, 'Recover');
  db = await openProjectDb(dir, { backups: 0 });
  const store = new ProductStore(dir, db);
  const day = path.join(dir, 'products', '2026', '01', '01');
  await fs.mkdir(day, { recursive: true });
  // A killed batch (a pid no process has) named three products: one without a sidecar, one whose
  // sidecar is damaged, one whose sidecar is unreadable JSON cut short.
  const [lone, damaged] = [product(1), product(2)];
  for (const p of [lone, damaged]) await fs.writeFile(path.join(dir, ...p.file.split('/')), 'png bytes');
  await fs.writeFile(path.join(day, `${damaged.id}.json`), '{"id": "P00000002", "file": ');
  const pending = path.join(dir, '.artfactory', 'pending');
  await fs.mkdir(pending, { recursive: true });
  await fs.writeFile(path.join(pending, 'import-999999999-abc.pending'), [lone, damaged].map((p) => JSON.stringify({ id: p.id, file: p.file })).join('\n') + '\n');
  const r = await store.recoverBatches();
  assert.deepEqual(r.removed, [lone.file], 'the media file without a sidecar goes');
  assert.ok(!existsSync(path.join(dir, ...lone.file.split('/'))));
  assert.ok(existsSync(path.join(dir, ...damaged.file.split('/'))), 'the one whose sidecar cannot be read stays, for Verify and Rebuild Index');
  assert.equal(await db.getProduct(damaged.id), undefined);
});

test('an intent that cannot be read is kept for the next time, and the import goes on', async () => {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-recover-')), 'p');
  await createProject(dir, 'Recover');
  const own = await openProjectDb(dir, { backups: 0 });
  try {
    const unreadable = path.join(dir, '.artfactory', 'pending', 'import-999999998-abc.pending');
    // A folder where the intent should be: reading it fails (EISDIR), as an I/O error would.
    await fs.mkdir(unreadable, { recursive: true });
    const r = await new ProductStore(dir, own).recoverBatches();
    assert.deepEqual([r.completed, r.removed], [[], []]);
    assert.ok(existsSync(unreadable), 'kept: it is the only record of its batch');
  } finally {
    await own.close();
  }
});
