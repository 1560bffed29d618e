// Storage benchmark: insert rate, open, save, longest main-thread stall, gallery page query,
// prompt search and file size at 1k / 10k / 100k products. The database runs in a worker, so
// the stall measured here is what the extension host would feel.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openProjectDb } from '../src/storage/index.ts';
import { product } from '../test/storage/helpers.ts';

export interface StorageRow {
  products: number;
  insertPerSec: number;
  openMs: number;
  saveMs: number;
  maxStallMs: number;
  galleryQueryMs: number;
  searchMs: number;
  sizeMB: number;
  betterSqlite3Ratio: string;
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await time(fn))[1]);
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

export async function benchStorage(sizes = [1_000, 10_000, 100_000]): Promise<StorageRow[]> {
  const rows: StorageRow[] = [];
  for (const n of sizes) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'af-bench-'));
    const db = await openProjectDb(dir, { backups: 0, saveDelayMs: 10_000 });
    // A bulk import (rebuild) sends 1,000 records a message; not what the stall target is about.
    const [, insertMs] = await time(async () => {
      for (let i = 0; i < n; i += 1000) await db.putProducts(Array.from({ length: Math.min(1000, n - i) }, (_, k) => product(i + k)));
    });
    await db.flush();
    // The stall target: what the extension host feels while a job's writes are saved and the
    // gallery queries, at this size.
    const stall = monitorEventLoopDelay({ resolution: 1 });
    stall.enable();
    await db.putProduct(product(n + 1));
    const [, saveMs] = await time(() => db.flush());
    const galleryQueryMs = await median(15, () => db.queryProducts({ provider: ['fal'], limit: 100 }));
    const searchMs = await median(15, () => db.queryProducts({ text: 'lighthouse ocean', limit: 100 }));
    await db.updateProduct(product(1).id, { rating: 5 });
    await db.flush();
    stall.disable();
    await db.close();
    const [db2, openMs] = await time(() => openProjectDb(dir, { backups: 0 }));
    await db2.close();
    const size = (await fs.stat(path.join(dir, '.artfactory', 'index.db'))).size;
    rows.push({
      products: n,
      insertPerSec: Math.round(n / (insertMs / 1000)),
      openMs: Math.round(openMs),
      saveMs: Math.round(saveMs),
      maxStallMs: Math.round(stall.max / 1e6),
      galleryQueryMs: Number(galleryQueryMs.toFixed(1)),
      searchMs: Number(searchMs.toFixed(1)),
      sizeMB: Number((size / 1024 / 1024).toFixed(1)),
      betterSqlite3Ratio: 'not built: better-sqlite3 needs its install script (npm 11 runs none)',
    });
    await fs.rm(dir, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  void benchStorage().then((rows) => console.table(rows));
}
