// Extension host memory with 30 projects open, one of them with 100,000 products: this
// process stands in for the extension host (the database worker is a thread of it, so the
// resident set counts the worker and its sql.js too). Each project is opened as the extension
// does on first use and shows a gallery page; the 100,000-product one then takes a burst of
// edits and generated products, which is where saves used to copy the whole database.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openProjectDb } from '../src/storage/index.ts';
import type { ProjectDb } from '../src/storage/types.ts';
import { product } from '../test/storage/helpers.ts';

export interface MemoryRow {
  stage: string;
  rssMB: number;
  /** Highest resident set sampled (every 10 ms) during the stage. */
  peakRssMB: number;
  /** The extension host's own JavaScript heap (the worker's is not in it). */
  hostHeapMB: number;
  /** Memory outside the heaps: ArrayBuffers (the databases' bytes, sql.js's WebAssembly memory). */
  externalMB: number;
}

const mb = (b: number) => Number((b / 1024 / 1024).toFixed(1));

async function makeProject(dir: string, n: number): Promise<void> {
  const db = await openProjectDb(dir, { backups: 0 });
  for (let i = 0; i < n; i += 1000) await db.putProducts(Array.from({ length: Math.min(1000, n - i) }, (_, k) => product(i + k)));
  await db.flush();
  await db.close();
}

export async function benchMemory(projects = 30, large = 100_000, small = 1_000): Promise<MemoryRow[]> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-bench-mem-'));
  const rows: MemoryRow[] = [];
  const dbs: ProjectDb[] = [];
  try {
    // The projects are made by another process: what is measured here starts from a host that
    // has not touched a database yet.
    execFileSync(process.execPath, ['--import', 'tsx', __filename, '--make', root, String(projects), String(large), String(small)], { stdio: 'inherit' });
    global.gc?.();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    const stage = async (name: string, fn: () => Promise<void>) => {
      peak = process.memoryUsage.rss();
      await fn();
      global.gc?.();
      await new Promise((r) => setTimeout(r, 50));
      const m = process.memoryUsage();
      rows.push({ stage: name, rssMB: mb(m.rss), peakRssMB: mb(Math.max(peak, m.rss)), hostHeapMB: mb(m.heapUsed), externalMB: mb(m.external + m.arrayBuffers) });
    };
    await stage('before any project is open', async () => undefined);
    await stage(`${projects - 1} projects of ${small.toLocaleString()} open, a gallery page each`, async () => {
      for (let i = 1; i < projects; i++) {
        const db = await openProjectDb(path.join(root, `p${i}`), { backups: 0 });
        await db.queryProducts({ limit: 100 });
        dbs.push(db);
      }
    });
    await stage(`and the one of ${large.toLocaleString()}, a gallery page`, async () => {
      const db = await openProjectDb(path.join(root, 'p0'), { backups: 0 });
      await db.queryProducts({ limit: 100 });
      await db.queryProducts({ text: 'lighthouse', limit: 100 });
      dbs.unshift(db);
    });
    await stage(`100 edits and 20 products in the ${large.toLocaleString()} project, each durable`, async () => {
      const db = dbs[0];
      for (let k = 0; k < 100; k++) {
        await db.updateProduct(product((k * 7919) % large).id, { rating: (k % 5) + 1 });
        await db.flush();
      }
      for (let i = 0; i < 20; i++) {
        await db.putProduct(product(large + i));
        await db.flush();
      }
    });
    clearInterval(sampler);
    await stage('every project closed', async () => {
      for (const db of dbs.splice(0)) await db.close();
    });
  } finally {
    for (const db of dbs) await db.close();
    await fs.rm(root, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  if (process.argv[2] === '--make') {
    const [root, projects, large, small] = process.argv.slice(3);
    void (async () => {
      for (let i = 0; i < Number(projects); i++) await makeProject(path.join(root, `p${i}`), i === 0 ? Number(large) : Number(small));
    })();
  } else {
    void benchMemory().then((rows) => console.table(rows));
  }
}
