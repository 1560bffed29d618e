// Rebuild Index from N sidecars: the whole path the user waits for, from the command to the
// rebuilt database on disk. Cold first: the page cache is dropped after the sidecars are written,
// as after a reboot or a restore (needs root on Linux; otherwise the row says so and only the
// warm rebuild is timed), then warm (the sidecars just read), then a cancel at half way.
// CPU time is the whole process's (this thread, the database worker and libuv's pool): on a
// shared machine it moves far less with the load than wall time does.
import { execFileSync } from 'node:child_process';
import { promises as fs, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createProject, productDayDir, rebuildIndex, writeSidecar } from '../src/storage/index.ts';
import { product } from '../test/storage/helpers.ts';

export interface RebuildRow {
  sidecars: number;
  /** cold: read from disk (page cache dropped); warm: read again right after. */
  cache: 'cold' | 'warm';
  rebuildMs: number;
  cpuMs: number;
  perSecond: number;
  /** Progress reports the rebuild gave (the command shows them). */
  progressReports: number;
  /** The longest time without a progress report, from the command to the end. */
  longestSilenceMs: number;
  /** Canceling at about half way (warm rows): how long until the rebuild stopped, and whether the database was left as it was. */
  cancelMs?: number;
  cancelKeptDb?: boolean;
  /** One-minute load average before and after. */
  load: string;
}

/** Drop the page cache (root on Linux), so the next read comes from the disk. */
export function dropPageCache(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
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

/** One rebuild, timed: wall, CPU and the gaps between progress reports. */
async function timedRebuild(dir: string, n: number, cache: RebuildRow['cache']): Promise<RebuildRow> {
  const load0 = os.loadavg()[0];
  let reports = 0;
  let last = 0;
  let longest = 0;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const count = await rebuildIndex(dir, {
    backups: 0,
    onProgress: () => {
      const now = performance.now() - t;
      longest = Math.max(longest, now - last);
      last = now;
      reports++;
    },
  });
  const rebuildMs = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  if (count !== n) throw new Error(`rebuilt ${count} of ${n}`);
  return {
    sidecars: n,
    cache,
    rebuildMs: Math.round(rebuildMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    perSecond: Math.round(n / (rebuildMs / 1000)),
    progressReports: reports,
    longestSilenceMs: Math.round(Math.max(longest, rebuildMs - last)),
    load: `${load0.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}`,
  };
}

export async function benchRebuild(sizes = [10_000, 100_000]): Promise<{ rows: RebuildRow[]; cold: boolean }> {
  const rows: RebuildRow[] = [];
  let cold = true;
  for (const n of sizes) {
    const dir = await projectWithSidecars(n);
    try {
      cold = dropPageCache();
      if (cold) rows.push(await timedRebuild(dir, n, 'cold'));
      const warm = await timedRebuild(dir, n, 'warm');
      rows.push(warm);
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
      warm.cancelMs = c === 'canceled' ? Math.round(cancelMs) : -1;
      warm.cancelKeptDb = c === 'canceled' && after.ino === before.ino && after.mtimeMs === before.mtimeMs;
    } finally {
      await fs.rm(path.dirname(dir), { recursive: true, force: true });
    }
  }
  return { rows, cold };
}

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  void benchRebuild(sizes.length ? sizes : undefined).then((r) => console.table(r.rows));
}
