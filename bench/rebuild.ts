// Rebuild Index from N sidecars, cold (the sidecars were written by another step; the page
// cache holds whatever it holds, as after a day's work): the whole path the user waits for,
// from the command to the rebuilt database on disk.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createProject, productDayDir, rebuildIndex, writeSidecar } from '../src/storage/index.ts';
import { product } from '../test/storage/helpers.ts';

export interface RebuildRow {
  sidecars: number;
  rebuildMs: number;
  perSecond: number;
  /** Progress reports the rebuild gave (the command shows them). */
  progressReports: number;
  /** Canceling at about half way: how long until the rebuild stopped, and whether the database was left as it was. */
  cancelMs: number;
  cancelKeptDb: boolean;
}

/** A project with `n` products' sidecars spread over day folders as generation leaves them. */
export async function projectWithSidecars(n: number): Promise<string> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-bench-rebuild-')), 'p');
  await createProject(dir, 'Rebuild bench');
  const made = new Set<string>();
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const p0 = product(i);
    const day = productDayDir(p0.createdAt);
    if (!made.has(day)) {
      await fs.mkdir(path.join(dir, ...day.split('/')), { recursive: true });
      made.add(day);
    }
    batch.push(writeSidecar(dir, { ...p0, file: `${day}/${p0.id}.png` }));
    if (batch.length >= 64) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  return dir;
}

export async function benchRebuild(sizes = [10_000, 100_000]): Promise<RebuildRow[]> {
  const rows: RebuildRow[] = [];
  for (const n of sizes) {
    const dir = await projectWithSidecars(n);
    try {
      let reports = 0;
      const t = performance.now();
      const count = await rebuildIndex(dir, { backups: 0, onProgress: () => reports++ });
      const rebuildMs = performance.now() - t;
      if (count !== n) throw new Error(`rebuilt ${count} of ${n}`);
      const dbFile = path.join(dir, '.artfactory', 'index.db');
      const before = await fs.stat(dbFile);
      const ac = new AbortController();
      let canceledAt = 0;
      const c = await rebuildIndex(dir, {
        backups: 0,
        signal: ac.signal,
        onProgress: (p) => {
          if (!ac.signal.aborted && p.done >= n / 2) {
            canceledAt = performance.now();
            ac.abort();
          }
        },
      }).then(
        () => 'finished',
        (e: unknown) => (e as { kind?: string }).kind ?? String(e),
      );
      const cancelMs = performance.now() - canceledAt;
      const after = await fs.stat(dbFile);
      rows.push({
        sidecars: n,
        rebuildMs: Math.round(rebuildMs),
        perSecond: Math.round(n / (rebuildMs / 1000)),
        progressReports: reports,
        cancelMs: c === 'canceled' ? Math.round(cancelMs) : -1,
        cancelKeptDb: c === 'canceled' && after.ino === before.ino && after.mtimeMs === before.mtimeMs,
      });
    } finally {
      await fs.rm(path.dirname(dir), { recursive: true, force: true });
    }
  }
  return rows;
}

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  void benchRebuild(sizes.length ? sizes : undefined).then((rows) => console.table(rows));
}
