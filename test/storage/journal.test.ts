// The change journal: every write's statements are in it (replaying it onto the file gives the
// same database as the worker's copy), a torn tail is cut off, damage and hostile records stop
// replay without touching the database file, a journal that is not the file's own is never
// replayed, compaction folds it in, and two processes share it.
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import initSqlJs, { type Database } from 'sql.js';
import { dbPath, openProjectDb } from '../../src/storage/index.ts';
import { encodeRecord, FRAME } from '../../src/storage/journal.ts';
import type { JobRecord } from '../../src/storage/types.ts';
import { readDbRaw } from '../fault/helpers.ts';
import { product, tempProject } from './helpers.ts';

const BIG = { compactAtBytes: 1 << 30, backups: 0 };

function job(id: string, state: JobRecord['state']): JobRecord {
  return { id, provider: 'sample', model: 'sample/gradient', input: { prompt: id }, state, productIds: [], attempts: 0, createdAt: '2026-02-01T00:00:00.000Z', updatedAt: '2026-02-01T00:00:00.000Z' };
}

/** Every row of every table (FTS shadow tables too), except the file's own generation. */
function dump(db: Database): string {
  const tables = (db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values ?? []).map(([n]) => String(n));
  const out: Record<string, unknown> = {};
  for (const t of tables) {
    const rows = db.exec(`SELECT * FROM "${t}"${t === 'meta' ? " WHERE key <> 'journal'" : ''} ORDER BY 1`)[0]?.values ?? [];
    out[t] = rows.map((r) => r.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
  }
  return JSON.stringify(out);
}

async function sqlOf(file: string): Promise<Database> {
  return new (await initSqlJs()).Database(readFileSync(file));
}

/** Byte offsets of the journal's records (the header first). */
function frames(bytes: Buffer): { at: number; len: number }[] {
  const out: { at: number; len: number }[] = [];
  for (let at = 0; at + FRAME <= bytes.length; ) {
    const len = bytes.readUInt32LE(at + 4);
    out.push({ at, len });
    at += FRAME + len;
  }
  return out;
}

test('the journal holds every change each write method makes: replayed onto the file, it gives the database the worker had', async () => {
  const dir = await tempProject();
  const db = await openProjectDb(dir, BIG);
  await db.putProducts([product(1), product(2), product(3), product(4)]);
  await db.compact(); // the file now holds these; what follows is in the journal only
  const base = path.join(dir, 'base.db');
  await fs.copyFile(dbPath(dir), base);
  await db.putProduct(product(5, { tags: ['a', 'b'], inputs: [{ field: 'image_url', sha256: 'f'.repeat(64), product: product(1).id, path: null }] }));
  await db.updateProduct(product(2).id, { rating: 5, tags: ['keeper'], notes: 'the best one', favorite: true });
  await db.deleteProducts([product(3).id]);
  await db.putJob(job('J1', 'queued'));
  await db.putJob(job('J1', 'succeeded'));
  const template = (id: string, name: string) => ({ id, name, scope: 'project' as const, file: `templates/${name}.art.json`, provider: 'sample', model: 'sample/gradient', variables: [], updatedAt: '2026-02-01T00:00:00.000Z' });
  await db.putTemplate(template('T1', 'Portrait'));
  await db.putTemplate(template('T2', 'Landscape'));
  await db.deleteTemplate('T1');
  await db.putUpload({ provider: 'fal', sha256: 'a'.repeat(64), url: 'https://example.test/u', expiresAt: Date.now() + 60_000 });
  await db.quarantineProducts([{ id: product(4).id, reason: 'a test' }]);
  await db.releaseQuarantine([product(4).id]);
  await db.quarantineProducts([{ id: product(1).id, reason: 'stays' }]);
  await db.setMeta('origin', 'here');
  const journal = readFileSync(`${dbPath(dir)}.journal`);
  assert.equal(frames(journal).length, 1 + 13, 'a header and one record per write');
  await db.compact();
  const worker = dump(await sqlOf(dbPath(dir)));
  await db.close();
  // Replayed by the fault suite's own reader of the format, onto the file as it was.
  await fs.writeFile(`${base}.journal`, journal);
  assert.deepEqual((await readDbRaw(base)).journal, { records: 13, end: 'whole' });
  const copy = await sqlOf(base);
  for (const f of frames(journal).slice(1)) {
    const { s } = JSON.parse(journal.subarray(f.at + FRAME, f.at + FRAME + f.len).toString('utf8')) as { s: [string, (string | number | null)[]][] };
    // One transaction per record, as written (FTS lays out its index by transaction).
    copy.run('BEGIN');
    for (const [sql, params] of s) copy.run(sql, params);
    copy.run('COMMIT');
  }
  assert.equal(dump(copy), worker);
});

test('a record cut short by a kill ends the journal: what came before is there, and the next write cuts it off', async () => {
  const dir = await tempProject();
  const db = await openProjectDb(dir, BIG);
  for (const i of [1, 2, 3]) await db.putProduct(product(i));
  await db.close();
  const file = `${dbPath(dir)}.journal`;
  const whole = readFileSync(file);
  const records = frames(whole).length - 1;
  const record = encodeRecord({ s: [['INSERT INTO meta (key, value) VALUES (?,?)', ['x', 'y']]] });
  await fs.appendFile(file, record.subarray(0, record.length - 3));
  assert.equal((await readDbRaw(dbPath(dir))).journal.end, 'torn');
  const again = await openProjectDb(dir, BIG);
  assert.equal(await again.countProducts(), 3);
  assert.equal(await again.getMeta('x'), undefined, 'half a record is not applied');
  await again.putProduct(product(4));
  await again.close();
  const after = readFileSync(file);
  assert.deepEqual(after.subarray(0, whole.length), whole, 'the records before are untouched');
  assert.deepEqual((await readDbRaw(dbPath(dir))).journal, { records: records + 1, end: 'whole' }, 'the torn bytes were cut off before the new record');
  const last = await openProjectDb(dir, BIG);
  assert.equal(await last.countProducts(), 4);
  await last.close();
});

for (const [what, spoil] of [
  ['a flipped byte (its checksum fails)', (j: Buffer, f: { at: number; len: number }) => (j[f.at + FRAME + 5] ^= 0x20)],
  ['a frame overwritten with zeros', (j: Buffer, f: { at: number; len: number }) => j.fill(0, f.at, f.at + FRAME + f.len)],
  [
    'a hostile record (valid frame, DROP TABLE)',
    (j: Buffer, f: { at: number; len: number }) => {
      const evil = encodeRecord({ s: [['DROP TABLE products', []]] });
      assert.ok(evil.length <= FRAME + f.len);
      evil.copy(j, f.at);
    },
  ],
] as const) {
  test(`a damaged journal (${what}) never loses the database: replay stops before it, the journal is kept in backups/, the user is told`, async () => {
    const dir = await tempProject();
    const db = await openProjectDb(dir, BIG);
    await db.putProducts([product(1), product(2)]);
    await db.compact();
    for (const i of [3, 4, 5]) await db.putProduct(product(i));
    await db.close();
    const file = `${dbPath(dir)}.journal`;
    const journal = readFileSync(file);
    const records = frames(journal);
    assert.equal(records.length, 4);
    spoil(journal, records[2]); // product 4's record
    await fs.writeFile(file, journal);
    const fileBefore = readFileSync(dbPath(dir));
    const warnings: string[] = [];
    const again = await openProjectDb(dir, { ...BIG, onWarning: (m) => warnings.push(m) });
    try {
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /damaged at byte \d+/);
      assert.match(warnings[0], /Rebuild Index/);
      const ids = (await again.queryProducts({ sort: 'oldest' })).items.map((p) => p.id);
      assert.deepEqual(ids, [1, 2, 3].map((i) => product(i).id), 'the file and every record before the damage');
      const kept = (await fs.readdir(path.join(dir, '.artfactory', 'backups'))).filter((n) => n.endsWith('-damaged.journal'));
      assert.equal(kept.length, 1);
      assert.deepEqual(readFileSync(path.join(dir, '.artfactory', 'backups', kept[0])), journal, 'the damaged journal is kept as it was');
      // The project goes on: a new journal, and writes land in it.
      await again.putProduct(product(6));
    } finally {
      await again.close();
    }
    const raw = await readDbRaw(dbPath(dir));
    assert.equal(raw.ok, 'ok');
    assert.deepEqual(raw.products.map((p) => p.id).sort(), [1, 2, 3, 6].map((i) => product(i).id));
    assert.notDeepEqual(readFileSync(dbPath(dir)), fileBefore, 'the file was written whole with what replayed');
  });
}

test('a journal that is not the file\'s own (a crash between the two steps of a compaction, a restored backup) is never replayed onto it', async () => {
  const dir = await tempProject();
  const db = await openProjectDb(dir, BIG);
  await db.putProducts([product(1)]);
  await db.compact();
  await db.putProduct(product(2)); // in the journal only
  const old = readFileSync(`${dbPath(dir)}.journal`);
  await db.compact(); // product 2 is in the file now, under a new generation
  await db.close();
  // As if killed after the file was written and before the new journal replaced the old one.
  await fs.writeFile(`${dbPath(dir)}.journal`, old);
  const raw = await readDbRaw(dbPath(dir));
  assert.equal(raw.journal.end, 'another file');
  const again = await openProjectDb(dir, BIG);
  assert.equal(await again.countProducts(), 2, 'product 2 once, from the file');
  await again.putProduct(product(3));
  await again.close();
  assert.notDeepEqual(readFileSync(`${dbPath(dir)}.journal`).subarray(0, old.length), old, 'the next write started a journal of its own');
  const last = await openProjectDb(dir, BIG);
  assert.equal(await last.countProducts(), 3);
  await last.close();
});

test('compaction folds the journal into the file once it passes the threshold and the database is idle; two processes keep each other\'s writes across it', async () => {
  const dir = await tempProject();
  // Idle means a second without a write here (generous: a busy machine must not count a gap
  // between two edits of the loop as idle).
  const a = await openProjectDb(dir, { backups: 0, compactAtBytes: 8 * 1024, saveDelayMs: 1000 });
  const b = await openProjectDb(dir, { backups: 0, compactAtBytes: 1 << 30 });
  try {
    const before = (await a.stats()).compactions; // the new project's first write made the file
    for (let i = 0; i < 20; i++) await (i % 2 ? b : a).putProduct(product(i));
    assert.equal((await a.stats()).compactions, before, 'no whole-file write while the edits come');
    await new Promise((r) => setTimeout(r, 2500));
    await a.putProduct(product(100));
    await new Promise((r) => setTimeout(r, 2500));
    const s = await a.stats();
    assert.ok(s.compactions > before, 'compacted once idle');
    assert.ok(s.journalBytes < 8 * 1024, `the journal started again (${s.journalBytes} bytes)`);
    // B sees A's compacted file, and its next write goes on top of it.
    assert.equal(await b.countProducts(), 21);
    await b.updateProduct(product(3).id, { rating: 5 });
    assert.equal((await a.getProduct(product(3).id))!.rating, 5);
  } finally {
    await a.close();
    await b.close();
  }
  const raw = await readDbRaw(dbPath(dir));
  assert.equal(raw.products.length, 21);
  assert.ok(existsSync(`${dbPath(dir)}.journal`));
});
