// Storage benchmark: insert rate, open, save, longest main-thread stall, gallery page query,
// prompt search and file size at 1k / 10k / 100k products. The database runs in a worker, so
// the stall measured here is what the extension host would feel.
import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import initSqlJs, { type Database, type SqlValue } from 'sql.js';
import { openProjectDb } from '../src/storage/index.ts';
import { Repo } from '../src/storage/repo.ts';
import type { ProductQuery } from '../src/storage/types.ts';
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
      betterSqlite3Ratio: await compareWithBetterSqlite3(path.join(dir, '.artfactory', 'index.db')),
    });
    await fs.rm(dir, { recursive: true, force: true });
  }
  return rows;
}

type BetterSqlite3 = new (file: string, opts?: { readonly?: boolean }) => {
  prepare(sql: string): { all(...params: SqlValue[]): unknown[] };
  close(): void;
};

let betterSqlite3: BetterSqlite3 | string | undefined;

/** better-sqlite3, built once into a cache outside the repo, or why it is not there. */
function loadBetterSqlite3(): BetterSqlite3 | string {
  if (betterSqlite3 === undefined) {
    try {
      const pkg = execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'better-sqlite3.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
      betterSqlite3 = createRequire(__filename)(pkg) as BetterSqlite3;
    } catch (e) {
      betterSqlite3 = `not built here (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
    }
  }
  return betterSqlite3;
}

/** The statements (SQL and parameters) one repository call runs, recorded through a proxy. */
function recordStatements(db: Database, call: (repo: Repo) => unknown): [string, SqlValue[]][] {
  const seen: [string, SqlValue[]][] = [];
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop !== 'prepare') return Reflect.get(target, prop, target) as unknown;
      return (sql: string) => {
        const stmt = target.prepare(sql);
        const bind = stmt.bind.bind(stmt);
        stmt.bind = (params?: SqlValue[]) => {
          seen.push([sql, [...((params as SqlValue[] | undefined) ?? [])]]);
          return bind(params);
        };
        return stmt;
      };
    },
  });
  call(new Repo(proxy));
  return seen;
}

/** The statements of a gallery page and a prompt search, in sql.js in-process (no worker round
 * trip) and in better-sqlite3, on the same file: a ratio of medians. */
async function compareWithBetterSqlite3(file: string): Promise<string> {
  const Better = loadBetterSqlite3();
  if (typeof Better === 'string') return Better;
  const SQL = await initSqlJs();
  const sqljs = new SQL.Database(readFileSync(file));
  const better = new Better(file, { readonly: true });
  try {
    const ratios: string[] = [];
    for (const [name, q] of [['gallery page', { provider: ['fal'], limit: 100 }], ['search', { text: 'lighthouse ocean', limit: 100 }]] as [string, ProductQuery][]) {
      // The same statements and row objects on both sides; mapping rows to records is ours either way.
      const statements = recordStatements(sqljs, (r) => r.queryProducts(q));
      const a = await median(15, async () =>
        statements.forEach(([sql, params]) => {
          const stmt = sqljs.prepare(sql);
          stmt.bind(params);
          while (stmt.step()) stmt.getAsObject();
          stmt.free();
        }),
      );
      const b = await median(15, async () => statements.forEach(([sql, params]) => better.prepare(sql).all(...params)));
      ratios.push(`${name} ${(a / b).toFixed(1)}× (${a.toFixed(2)} vs ${b.toFixed(2)} ms)`);
    }
    return `sql.js ÷ better-sqlite3: ${ratios.join(', ')}`;
  } finally {
    sqljs.close();
    better.close();
  }
}

if (require.main === module) {
  void benchStorage().then((rows) => console.table(rows));
}
