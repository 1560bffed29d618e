// Small writes: what one edit (a rating, a tag, a note) and one generated product cost in bytes
// written and in time until durable, at 10,000 and 100,000 products. The burst goes the way a
// gallery edit goes (ProductStore.update: the row, then the product's sidecar). Bytes are counted by the
// kernel (/proc/self/io `wchar`: every byte this process, worker thread included, handed to
// write()), not by our own code. "Durable" means the call and a flush() resolved: after that a
// kill loses nothing.
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openProjectDb } from '../src/storage/index.ts';
import { ProductStore } from '../src/storage/productStore.ts';
import type { JobRecord, ProjectDb } from '../src/storage/types.ts';
import { product } from '../test/storage/helpers.ts';

export interface WritesRow {
  products: number;
  /** Size of .artfactory/ (database and journal) after the setup, MB. */
  dbMB: number;
  /** One rating: bytes written until durable. */
  editBytes: number;
  editMs: number;
  /** 100 gallery edits one after another (ratings, tags, notes; row and sidecar), each durable
   * before the next. */
  burstBytesPerEdit: number;
  burstMaxMs: number;
  burstMedianMs: number;
  /** A long run of edits back to back, compactions included: bytes per edit, and how many
   * times the database file was written whole meanwhile. */
  longRunEdits: number;
  longRunBytesPerEdit: number;
  longRunCompactions: number;
  /** One compaction (the journal folded into the database file): bytes and time. */
  compactionBytes: number;
  compactionMs: number;
  /** The database writes of one generated product as the engine makes them (job queued,
   * submitted, running, product, succeeded; the engine flushes three of them). */
  productBytes: number;
  productMs: number;
  /** Opening the project after all of the above (journal replay included). */
  reopenMs: number;
}

/** Bytes this process has handed to write() so far (Linux). */
export function bytesWritten(): number {
  const m = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  if (!m) throw new Error('/proc/self/io has no wchar');
  return Number(m[1]);
}

async function measure<T>(fn: () => Promise<T>): Promise<{ bytes: number; ms: number; value: T }> {
  const b = bytesWritten();
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, bytes: bytesWritten() - b, value };
}

function job(i: number, state: JobRecord['state'], extra: Partial<JobRecord> = {}): JobRecord {
  const now = new Date(Date.UTC(2026, 1, 1) + i * 1000).toISOString();
  return { id: `Jb${i}`, provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: `bench job ${i}`, seed: i }, state, productIds: [], attempts: 1, createdAt: now, updatedAt: now, ...extra };
}

/** One generated product's database writes, in the engine's order and with its flushes. */
async function generateOne(db: ProjectDb, i: number, n: number): Promise<void> {
  await db.putJob(job(i, 'queued'));
  await db.flush();
  await db.putJob(job(i, 'submitted', { requestId: `req-${i}` }));
  await db.flush();
  await db.putJob(job(i, 'running', { requestId: `req-${i}`, progress: 0.5 }));
  const p = product(n + i, { id: `Jb${i}-0`, jobId: `Jb${i}` });
  await db.putProduct(p);
  await db.putJob(job(i, 'succeeded', { requestId: `req-${i}`, progress: 1, productIds: [p.id] }));
  await db.flush();
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) if (e.isFile()) total += (await fs.stat(path.join(dir, e.name))).size;
  return total;
}

function edit(k: number): { rating?: number; tags?: string[]; notes?: string; favorite?: boolean } {
  return k % 4 === 0 ? { rating: (k % 5) + 1 } : k % 4 === 1 ? { tags: ['keeper', `t${k}`] } : k % 4 === 2 ? { notes: `note ${k}: the light on the left is better` } : { favorite: k % 8 === 3 };
}

export async function benchWrites(sizes = [10_000, 100_000], longRun = 30_000): Promise<WritesRow[]> {
  const rows: WritesRow[] = [];
  for (const n of sizes) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'af-bench-writes-'));
    try {
      let db = await openProjectDb(dir, { backups: 0 });
      for (let i = 0; i < n; i += 1000) await db.putProducts(Array.from({ length: Math.min(1000, n - i) }, (_, k) => product(i + k)));
      await db.flush();
      await db.close();
      db = await openProjectDb(dir, { backups: 0 });
      const dbMB = (await dirSize(path.join(dir, '.artfactory'))) / 1024 / 1024;
      // Every edit touches a different product, spread over the whole table.
      const target = (k: number) => product((k * 7919) % n).id;
      const one = await measure(async () => {
        await db.updateProduct(target(0), { rating: 4 });
        await db.flush();
      });
      const times: number[] = [];
      const store = new ProductStore(dir, db);
      const burst = await measure(async () => {
        for (let k = 1; k <= 100; k++) {
          const t = performance.now();
          if (!(await store.update(target(k), edit(k)))) throw new Error('no such product');
          await db.flush();
          times.push(performance.now() - t);
        }
      });
      times.sort((a, b) => a - b);
      const compactionsBefore = (await db.stats()).compactions;
      const long = await measure(async () => {
        for (let k = 101; k < 101 + longRun; k++) {
          await db.updateProduct(target(k), edit(k));
          await db.flush();
        }
      });
      const longRunCompactions = (await db.stats()).compactions - compactionsBefore;
      const compaction = await measure(() => db.compact());
      const gen = await measure(async () => {
        for (let i = 0; i < 20; i++) await generateOne(db, i, n);
      });
      await db.close();
      const [db2, reopenMs] = await (async () => {
        const t = performance.now();
        const d = await openProjectDb(dir, { backups: 0 });
        return [d, performance.now() - t] as const;
      })();
      // The edits are all there after the reopen.
      const last = await db2.getProduct(target(100 + longRun));
      if (JSON.stringify(last && { ...edit(100 + longRun), ...pick(last, Object.keys(edit(100 + longRun))) }) !== JSON.stringify(last && pick(last, Object.keys(edit(100 + longRun))))) throw new Error('an edit was lost');
      await db2.close();
      rows.push({
        products: n,
        dbMB: Number(dbMB.toFixed(1)),
        editBytes: one.bytes,
        editMs: Number(one.ms.toFixed(1)),
        burstBytesPerEdit: Math.round(burst.bytes / 100),
        burstMaxMs: Number(times[times.length - 1].toFixed(1)),
        burstMedianMs: Number(times[50].toFixed(1)),
        longRunEdits: longRun,
        longRunBytesPerEdit: Math.round(long.bytes / longRun),
        longRunCompactions,
        compactionBytes: compaction.bytes,
        compactionMs: Math.round(compaction.ms),
        productBytes: Math.round(gen.bytes / 20),
        productMs: Number((gen.ms / 20).toFixed(1)),
        reopenMs: Math.round(reopenMs),
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

function pick(o: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (o as Record<string, unknown>)[k]]));
}

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  void benchWrites(sizes.length ? sizes : undefined, Number(process.env.LONG_RUN ?? 30_000)).then((rows) => console.table(rows));
}
