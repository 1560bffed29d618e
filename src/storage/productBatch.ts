// Many products stored together (an import): the same file → sidecar → row as
// ProductStore.put, with the same durability for every product reported stored, but with the
// waits shared. A batch (64 products, or what came within a second) goes like this:
//   1. its intent (`.artfactory/pending/import-<pid>-<random>.pending`) gets a line per product,
//      then the product's media file and sidecar are written under temp names, unsynced;
//   2. every temp file and the intent are fsync'd, two at a time (the other two of libuv's four
//      threads go on reading and checking the next batch), then the intent's folder;
//   3. each media file, then each sidecar, is renamed into place, and their folders fsync'd;
//   4. the rows are written with one `putProducts` (one journal record, one fdatasync);
//   5. each product is reported durable, and the intent removed.
// So a product is reported only once its file, sidecar and row are all on disk, as before. A
// process killed before 3 leaves only temp files; killed in 3 or before 5, products without
// rows or files without sidecars; either way its intent names them, and the next batch writer of
// the project (`recoverPending`, when an import starts) finishes it: a product whose file and
// sidecar are whole gets its row, a media file without its sidecar goes, stale temp files go.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { fsyncDir, pidAlive, tempNameFor } from './atomic.ts';
import { layoutOf } from './productPaths.ts';
import type { ProductStore } from './productStore.ts';
import type { ProductRecord, ProjectDb } from './types.ts';

/** Products per batch: one intent, one wave of fsyncs, one journal record. */
export const BATCH_SIZE = 64;
/** A product waits at most this long for its batch to fill: a slow import still shows its products
 * within a second, and a fast one (64 in 320 ms at 200 images/s) fills whole batches. */
const BATCH_MS = 1000;
/** Where the intents of batches being written are (machine-local, like temp files). */
const PENDING = '.artfactory/pending';
const INTENT = /^import-(\d+)-[a-z0-9]+\.pending$/;

interface Staged<T> {
  record: ProductRecord;
  tag: T;
  /** [temp, final] absolute paths: the media file first, then the sidecar. */
  files: [string, string][];
  /** The temp files' handles, open until they are fsync'd (not opened twice). */
  handles: FileHandle[];
  /** Settles when its temp files are written (or failed and were removed). */
  ready: Promise<void>;
}

interface Batch<T> {
  items: Staged<T>[];
  /** The intent, opened when the batch starts: one line per product, appended before its temp
   * files are written, so a killed batch's intent names every file it may have left. */
  intent: Promise<{ file: string; handle: FileHandle }>;
}


export class ProductBatch<T> {
  private current: Batch<T> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failed: { error: unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Folders made or found in place by this writer (each path is still checked on every write). */
  private readonly dirs = new Set<string>();

  constructor(
    private readonly store: ProductStore,
    private readonly db: ProjectDb,
    /** Called for each product once its file, sidecar and row are durable. */
    private readonly onDurable: (p: ProductRecord, tag: T) => void,
  ) {}

  /** Write a product's media file and sidecar under temp names, in the current batch. Resolves
   * once they are written; when that fills the batch, only after the batch before it is durable
   * (so at most two batches are in flight). A failed batch makes every later `add` throw. */
  async add(record: ProductRecord, bytes: Uint8Array, tag: T): Promise<void> {
    if (this.failed) throw this.failed.error;
    const layout = layoutOf(record);
    const batch = (this.current ??= this.open());
    const staged: Staged<T> = { record, tag, files: [], handles: [], ready: Promise.resolve() };
    staged.ready = this.stage(batch, staged, layout.file, layout.sidecar, bytes);
    batch.items.push(staged);
    if (batch.items.length >= BATCH_SIZE) {
      const before = this.writing;
      this.write();
      await staged.ready;
      await before;
    } else {
      this.timer ??= setTimeout(() => this.write(), BATCH_MS);
      await staged.ready;
    }
  }

  private open(): Batch<T> {
    const intent = this.store.paths.ensureDir(PENDING, '.artfactory').then(async (dir) => {
      const file = path.join(dir, `import-${process.pid}-${randomBytes(4).toString('hex')}.pending`);
      return { file, handle: await fs.open(file, 'ax') };
    });
    intent.catch(() => undefined);
    return { items: [], intent };
  }

  private async stage(batch: Batch<T>, staged: Staged<T>, file: string, sidecar: string, bytes: Uint8Array): Promise<void> {
    try {
      await (await batch.intent).handle.write(`${JSON.stringify({ id: staged.record.id, file })}\n`);
      const dir = file.slice(0, file.lastIndexOf('/'));
      if (!this.dirs.has(dir)) {
        await this.store.paths.ensureDir(dir, 'products');
        this.dirs.add(dir);
      }
      for (const [rel, data] of [
        [file, bytes],
        [sidecar, `${JSON.stringify(staged.record, null, 2)}\n`],
      ] as const) {
        const { abs } = await this.store.paths.resolve(rel, 'products', { kind: 'file' });
        const tmp = tempNameFor(abs);
        staged.files.push([tmp, abs]);
        const fh = await fs.open(tmp, 'wx');
        staged.handles.push(fh);
        await fh.writeFile(data);
      }
    } catch (e) {
      await closeAll(staged.handles);
      await removeAll(staged.files.map(([tmp]) => tmp));
      throw e;
    }
  }

  /** Close the current batch and queue it to be made durable after the one before. */
  private write(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.current;
    this.current = undefined;
    if (!batch) return;
    this.writing = this.writing.then(async () => {
      try {
        await this.commit(batch);
      } catch (error) {
        this.failed ??= { error };
      }
    });
  }

  private async commit(batch: Batch<T>): Promise<void> {
    const settled = await Promise.allSettled(batch.items.map((s) => s.ready));
    // A product whose temp files could not be written was taken away (its `add` threw).
    const items = batch.items.filter((_, i) => settled[i].status === 'fulfilled');
    const temps = items.flatMap((s) => s.files.map(([tmp]) => tmp));
    const renamed: string[] = [];
    let intent: { file: string; handle: FileHandle } | undefined;
    try {
      intent = await batch.intent;
      if (this.failed) throw this.failed.error;
      await syncAll([intent.handle, ...items.flatMap((s) => s.handles)]);
      await closeAll(items.flatMap((s) => s.handles));
      await fsyncDir(path.dirname(intent.file));
      // Media files first, so a sidecar never names a file not there yet.
      for (const i of [0, 1]) {
        // Settled, not raced: a failed rename must not leave others landing after the clean-up.
        const results = await Promise.allSettled(
          items.map(async (s) => {
            await fs.rename(...s.files[i]);
            renamed.push(s.files[i][1]);
          }),
        );
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      await Promise.all([...new Set(items.map((s) => path.dirname(s.files[0][1])))].map(fsyncDir));
    } catch (e) {
      await closeAll([...(intent ? [intent.handle] : []), ...items.flatMap((s) => s.handles)]);
      await removeAll([...temps, ...renamed, ...(intent ? [intent.file] : [])]);
      throw e;
    }
    await intent.handle.close();
    // A failed row write leaves the files and the intent: the next import (or Rebuild Index)
    // gives them their rows.
    if (items.length) await this.db.putProducts(items.map((s) => s.record));
    for (const s of items) this.onDurable(s.record, s.tag);
    await fs.rm(intent.file, { force: true });
  }

  /** Write what is queued; rejects with the first failed batch's error. */
  async close(): Promise<void> {
    this.write();
    await this.writing;
    if (this.failed) throw this.failed.error;
  }
}

/** fsyncs in flight at once: half of libuv's four threads, so the next batch's reads, checks and
 * writes do not queue behind a wave of them (with all four, a wave stalled the import). */
const SYNCS_AT_ONCE = 2;

async function syncAll(handles: FileHandle[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < handles.length) await handles[next++].sync();
  };
  await Promise.all(Array.from({ length: Math.min(SYNCS_AT_ONCE, handles.length) }, lane));
}

/** Close handles, once each (a closed handle's close is a no-op). */
async function closeAll(handles: FileHandle[]): Promise<void> {
  await Promise.all(handles.map((fh) => fh.close().catch(() => undefined)));
}

async function removeAll(files: string[]): Promise<void> {
  for (const f of files) await fs.rm(f, { force: true }).catch(() => undefined);
}

export interface RecoveredBatches {
  /** Products whose file and sidecar were whole, now with their rows. */
  completed: ProductRecord[];
  /** Files removed: media without their sidecar, stale temp files. */
  removed: string[];
}

/** Finish what a killed batch writer left (see the top of this file): the intents of processes
 * no longer running. An intent is read as untrusted (it lies in the project folder): only paths
 * under the layout rule are touched, a row is only written from a sidecar that checks out against
 * its file, and only a media file with neither sidecar nor row is removed. */
export async function recoverPending(store: ProductStore, db: ProjectDb): Promise<RecoveredBatches> {
  const out: RecoveredBatches = { completed: [], removed: [] };
  const { abs: own, stat } = await store.paths.resolve(PENDING, '.artfactory', { kind: 'dir' });
  if (!stat) return out;
  const names = (await fs.readdir(own).catch(() => [] as string[])).filter((n) => INTENT.test(n) && !pidAlive(Number(INTENT.exec(n)![1])));
  for (const name of names) {
    const intent = path.join(own, name);
    // An intent that cannot be read now is the only record of its batch: kept for the next time.
    const text = await fs.readFile(intent, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const listed: { id?: unknown; file?: unknown }[] = [];
    for (const line of text.split('\n').slice(0, 10_000)) {
      try {
        const entry = JSON.parse(line) as unknown;
        if (entry && typeof entry === 'object') listed.push(entry);
      } catch {
        // a line cut short by the kill: its product's temp files were not written yet
      }
    }
    const rows: ProductRecord[] = [];
    const dirs = new Set<string>();
    for (const entry of listed) {
      let layout;
      try {
        layout = layoutOf({ id: String(entry.id), file: String(entry.file) });
      } catch {
        continue;
      }
      dirs.add(layout.file.slice(0, layout.file.lastIndexOf('/')));
      const row = await db.getProduct(layout.id);
      if (row) continue;
      const media = await store.paths.resolve(layout.file, 'products', { kind: 'file' }).catch(() => undefined);
      const sidecarFile = await store.paths.resolve(layout.sidecar, 'products', { kind: 'file' }).catch(() => undefined);
      const sidecar = sidecarFile?.stat ? await store.sidecarAt(layout.sidecar).catch(() => undefined) : undefined;
      if (sidecar && media?.stat && sidecar.file === layout.file && sidecar.bytes === media.stat.size && (await sha256Of(media.abs)) === sidecar.sha256) rows.push(sidecar);
      // Only a media file whose sidecar is surely not there goes: one that is there but cannot
      // be read now is left to Verify Project and Rebuild Index.
      else if (sidecarFile && !sidecarFile.stat && media?.stat) {
        await fs.rm(media.abs, { force: true });
        out.removed.push(layout.file);
      }
    }
    if (rows.length) await db.putProducts(rows);
    out.completed.push(...rows);
    for (const dir of dirs) out.removed.push(...(await store.removeStaleTemps(dir, 'products')).map((n) => `${dir}/${n}`));
    await fs.rm(intent, { force: true });
  }
  return out;
}

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}
