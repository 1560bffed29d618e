// Disk full: a project on a small tmpfs, filled (to the page) at the worst moments:
//   (a) while a job downloads its output: nothing is stored, no temp file stays, the job fails
//       with a message that says the disk is full and what to do, and the engine keeps going;
//   (a2) with room for the product file but not its sidecar: no orphan product file stays;
//   (b) while the database saves: the previous file stays as it was and opens with all its
//       rows, no temp or lock file stays, the error says the disk is full, and the unsaved
//       writes are saved once there is space again;
//   (c) while a job's final state is saved: the job ends (it does not hang), and after space is
//       freed a retry completes it without a duplicate product;
//   (d) opening a project on a full disk still works (the daily backup is skipped, not torn).
// Needs root for `mount -t tmpfs` (CI and the dev container run as root); otherwise it fails
// and says so.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, rmSync, statfsSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import { product } from '../storage/helpers.ts';
import { rig, FAL_KEY } from '../engine/helpers.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { pngBytes } from '../fakes/common.ts';
import { FaultReport, guardUnhandled, readDbRaw, sha256, snapshot, tempFiles, walkFiles, diffSnapshots, within } from './helpers.ts';

const PAGE = 4096;
let mnt = '';
let mountError: string | undefined;
const report = new FaultReport('disk');
let fake: FalFake;

before(async () => {
  mnt = mkdtempSync(path.join(os.tmpdir(), 'af-fault-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0777', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || String(e);
    mountError = `cannot mount a tmpfs at ${mnt} (${why}). The disk-full tests need root (CI runs as root); as a user, run them under \`unshare --map-root-user --mount\`.`;
  }
  fake = await startFalFake({ key: FAL_KEY });
});

after(async () => {
  report.write();
  await fake?.close();
  if (!mountError) execFileSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

function free(): number {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
}

let fillers = 0;
/** Fill the mount so that exactly `leave` bytes (whole pages) stay free. Returns the filler's path. */
function fill(leave: number): string {
  const file = path.join(mnt, `filler-${fillers++}`);
  const bytes = free() - leave;
  assert.ok(free() >= leave, `only ${free()} bytes free, wanted to leave ${leave}`);
  writeFileSync(file, Buffer.alloc(bytes));
  assert.equal(free(), leave, 'the disk is filled to the page');
  return file;
}

function requireMount(): void {
  if (mountError) assert.fail(mountError);
}

async function newProject(name: string): Promise<string> {
  const dir = path.join(mnt, name);
  await createProject(dir, name);
  return dir;
}

const DISK_FULL = /disk is full/i;
const WHAT_TO_DO = /free (some )?space/i;

/** Outside the project on the mount only fillers may exist; inside, no temp file. */
async function assertNoLeftovers(dir: string): Promise<void> {
  assert.deepEqual(await tempFiles(dir), [], 'no temp file is left behind');
  assert.ok(!existsSync(path.join(dir, '.artfactory', 'index.db.lock')), 'the database lock is released');
}

/** A job on the fal fake whose download waits, so the disk can be filled while it is in flight. */
function slowDownloadWhile(onDownload: () => void): void {
  let fired = false;
  fake.addFault({
    when: (req) => {
      if (req.host !== 'v3.fal.media' || fired) return false;
      fired = true;
      // Fill a little later, once the state saves from polling have settled.
      setTimeout(onDownload, 150);
      return true;
    },
    delayMs: 400,
  });
}

test('(a) a download that runs out of space: nothing stored, no temp file, a clear "disk is full" failure', { timeout: 120_000 }, async () => {
  requireMount();
  const faults = report.category('disk full during a download');
  const guard = guardUnhandled();
  const dir = await newProject('download');
  const r = await rig({ dir, falBaseUrl: fake.baseUrl, engine: { makeThumbnails: false } });
  let filler = '';
  try {
    const [first] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'before the disk filled' } }]);
    const [ok] = await r.engine.waitFor([first.id]);
    assert.equal(ok.state, 'succeeded');
    await r.db.flush();
    const before = await snapshot(path.join(dir, 'products'));
    let dbBefore = await readDbRaw(path.join(dir, '.artfactory', 'index.db'));

    for (const [label, leave] of [
      ['no room at all', 0],
      ['room for the product file but not its sidecar', PAGE],
    ] as const) {
      faults.injected++;
      slowDownloadWhile(() => (filler = fill(leave)));
      const [job] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: `while the disk fills: ${label}` } }]);
      const [done] = await within(r.engine.waitFor([job.id]), 20_000, `${label}: the job`);
      assert.equal(done.state, 'failed', label);
      assert.equal(done.error?.kind, 'disk_full', `${label}: ${JSON.stringify(done.error)}`);
      assert.match(done.error!.message, DISK_FULL, label);
      assert.match(done.error!.message, WHAT_TO_DO, label);
      assert.deepEqual(diffSnapshots(before, await snapshot(path.join(dir, 'products'))), [], `${label}: products/ is exactly as before`);
      await assertNoLeftovers(dir);
      const onDisk = await readDbRaw(path.join(dir, '.artfactory', 'index.db'));
      assert.equal(onDisk.ok, 'ok');
      assert.deepEqual(onDisk.products.map((p) => p.id), dbBefore.products.map((p) => p.id), `${label}: the database on disk still has its rows`);
      await fs.rm(filler);
      // With space again, the same job runs and stores its product.
      const again = await r.engine.retry(job.id);
      const [retried] = await r.engine.waitFor([again.id]);
      assert.equal(retried.state, 'succeeded', `${label}: retry after freeing space`);
      await r.db.flush();
      before.clear();
      for (const [k, v] of await snapshot(path.join(dir, 'products'))) before.set(k, v);
      dbBefore = await readDbRaw(path.join(dir, '.artfactory', 'index.db'));
      faults.survived++;
    }
    guard.check();
  } finally {
    guard.dispose();
    if (filler) await fs.rm(filler, { force: true });
    await r.close().catch(() => undefined);
  }
});

test('(b) a database save that runs out of space keeps the previous file, cleans up, and saves later', { timeout: 120_000 }, async () => {
  requireMount();
  const faults = report.category('disk full during a database save');
  const dir = await newProject('save');
  const db = await openProjectDb(dir, { saveDelayMs: 5, backups: 0 });
  const dbFile = path.join(dir, '.artfactory', 'index.db');
  let filler = '';
  try {
    await db.putProducts(Array.from({ length: 300 }, (_, i) => product(i)));
    await db.flush();
    for (const [label, leave] of [
      ['no room at all (not even for the lock)', 0],
      // A journal record of one product fits in two pages: a batch of 50 does not.
      ['room for the lock but not the journal record', 2 * PAGE],
    ] as const) {
      faults.injected++;
      const before = sha256(await fs.readFile(dbFile));
      const rows = (await readDbRaw(dbFile)).products.length;
      filler = fill(leave);
      // The write itself is refused (its journal record could not be made durable): nothing
      // is acknowledged that a crash could lose. It stays in memory and is saved later.
      const batch = Array.from({ length: leave ? 50 : 1 }, (_, k) => product(1000 + faults.injected * 100 + k));
      const err = await within(db.putProducts(batch), 20_000, `${label}: the save`).then(
        () => undefined,
        (e: unknown) => e as Error & { kind?: string },
      );
      assert.ok(err, `${label}: the save failed`);
      assert.equal(err.kind, 'disk-full', `${label}: ${err.message}`);
      assert.match(err.message, DISK_FULL);
      assert.match(err.message, WHAT_TO_DO);
      assert.equal(sha256(await fs.readFile(dbFile)), before, `${label}: the database file is untouched`);
      const onDisk = await readDbRaw(dbFile);
      assert.equal(onDisk.ok, 'ok');
      assert.equal(onDisk.products.length, rows, `${label}: every previous row is there`);
      await assertNoLeftovers(dir);
      // The database keeps working, and saves what it could not once there is space.
      assert.ok(await db.getProduct(batch[0].id));
      await fs.rm(filler);
      filler = '';
      await db.flush();
      assert.equal((await readDbRaw(dbFile)).products.length, rows + batch.length, `${label}: saved after freeing space`);
      faults.survived++;
    }
  } finally {
    if (filler) await fs.rm(filler, { force: true });
    await db.close().catch(() => undefined);
  }
});

test('(c) a job whose final save hits a full disk ends instead of hanging; a retry after freeing space completes it once', { timeout: 120_000 }, async () => {
  requireMount();
  const faults = report.category('disk full while a job records its result');
  const guard = guardUnhandled();
  const dir = await newProject('final-save');
  const r = await rig({ dir, falBaseUrl: fake.baseUrl, engine: { makeThumbnails: false } });
  let filler = '';
  try {
    // Enough rows that the database needs more room than the product and its sidecar.
    await r.db.putProducts(Array.from({ length: 200 }, (_, i) => product(i)));
    await r.db.flush();
    faults.injected++;
    slowDownloadWhile(() => (filler = fill(3 * PAGE)));
    const [job] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'the save after this download fails' } }]);
    const [done] = await within(r.engine.waitFor([job.id]), 20_000, 'the job whose final save hit the full disk');
    assert.equal(done.state, 'failed');
    assert.equal(done.error?.kind, 'disk_full', JSON.stringify(done.error));
    assert.match(done.error!.message, WHAT_TO_DO);
    await assertNoLeftovers(dir);
    const onDisk = await readDbRaw(path.join(dir, '.artfactory', 'index.db'));
    assert.equal(onDisk.ok, 'ok');
    assert.equal(onDisk.products.length, 200, 'the database on disk is the previous one');
    // Any product file of the job is whole and has its sidecar.
    for (const f of (await walkFiles(path.join(dir, 'products'))).filter((x) => x.endsWith('.png'))) {
      assert.ok(existsSync(path.join(dir, 'products', f.replace(/\.png$/, '.json'))), `${f} has its sidecar`);
    }
    await fs.rm(filler);
    filler = '';
    const again = await r.engine.retry(job.id);
    const [retried] = await r.engine.waitFor([again.id]);
    assert.equal(retried.state, 'succeeded');
    await r.db.flush();
    const final = await readDbRaw(path.join(dir, '.artfactory', 'index.db'));
    assert.equal(final.products.filter((p) => p.jobId === job.id).length, 1, 'one product, not two');
    assert.equal((await walkFiles(path.join(dir, 'products'))).filter((x) => x.endsWith('.png')).length, 1);
    guard.check();
    faults.survived++;
  } finally {
    guard.dispose();
    if (filler) await fs.rm(filler, { force: true });
    await r.close().catch(() => undefined);
  }
});

test('(d) a project opens on a full disk (the daily backup is skipped, never left torn)', { timeout: 120_000 }, async () => {
  requireMount();
  const faults = report.category('disk full when a project opens');
  const dir = await newProject('open');
  let filler = '';
  try {
    const db = await openProjectDb(dir, { backups: 0 });
    await db.putProducts(Array.from({ length: 300 }, (_, i) => product(i)));
    await db.close();
    faults.injected++;
    filler = fill(PAGE); // room for a page of a backup copy, not the whole database
    const reopened = await openProjectDb(dir, { backups: 5 });
    try {
      assert.equal(await reopened.countProducts(), 300);
    } finally {
      await reopened.close().catch(() => undefined);
    }
    const backups = await fs.readdir(path.join(dir, '.artfactory', 'backups')).catch(() => [] as string[]);
    for (const b of backups) assert.equal((await readDbRaw(path.join(dir, '.artfactory', 'backups', b))).ok, 'ok', `backup ${b} is whole`);
    await assertNoLeftovers(dir);
    faults.survived++;
    // With space again, the backup is made.
    await fs.rm(filler);
    filler = '';
    const third = await openProjectDb(dir, { backups: 5 });
    await third.close();
    const made = await fs.readdir(path.join(dir, '.artfactory', 'backups'));
    assert.equal(made.length, 1);
    assert.equal((await readDbRaw(path.join(dir, '.artfactory', 'backups', made[0]))).products.length, 300);
  } finally {
    if (filler) await fs.rm(filler, { force: true });
  }
});

test('the fal fake serves real PNGs (sanity for the cases above)', { timeout: 120_000 }, async () => {
  assert.ok((await pngBytes(64, 64)).length < PAGE, 'a product fits in one page, so (a2) leaves room for it alone');
});
