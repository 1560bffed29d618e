// Shared plumbing for the fault suite: the per-file fault report, independent readers of the
// project on disk (raw sql.js, file hashes, temp-file scans) and a guard that turns an
// unhandled rejection or exception into a test failure.
import { createHash } from 'node:crypto';
import { walkFiles } from '../files.ts';
import { existsSync, mkdirSync, promises as fs, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue } from 'sql.js';

export const ROOT = path.resolve(__dirname, '../..');

// ---------------------------------------------------------------------------------------------
// The report: one JSON file per test file in test-results/fault/, merged by
// scripts/fault-summary.mjs into test-results/fault-summary.json (so parallel test files never
// write the same file).

export interface FaultCounts {
  /** Faults injected (kills, full disks, hostile messages, bad responses, …). */
  injected: number;
  /** Faults after which every check held. */
  survived: number;
  /** Products reported stored that were missing or damaged afterwards (must be 0). */
  productsLost: number;
  /** Anything else worth printing (e.g. where the kills landed). */
  notes?: Record<string, number | string>;
}

export class FaultReport {
  private readonly categories: Record<string, FaultCounts> = {};
  constructor(private readonly file: string) {}

  /** The counts of one category, created on first use; mutate them as faults are checked. */
  category(name: string): FaultCounts {
    return (this.categories[name] ??= { injected: 0, survived: 0, productsLost: 0 });
  }

  /** Write (atomically) what was recorded so far; call it in `finally` so a failing test still reports. */
  write(): void {
    const dir = path.join(ROOT, 'test-results', 'fault');
    mkdirSync(dir, { recursive: true });
    const out = path.join(dir, `${this.file}.json`);
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ file: `test/fault/${this.file}.test.ts`, writtenAt: new Date().toISOString(), categories: this.categories }, null, 2)}\n`);
    renameSync(tmp, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Unhandled errors

/** Collect unhandled rejections and uncaught exceptions while a test runs; `check()` throws if any. */
export function guardUnhandled(): { errors: string[]; check(): void; dispose(): void } {
  const errors: string[] = [];
  const onRejection = (e: unknown) => errors.push(`unhandledRejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  const onException = (e: unknown) => errors.push(`uncaughtException: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    errors,
    check() {
      if (errors.length) throw new Error(`the process would have crashed:\n${errors.join('\n')}`);
    },
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Files

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export { walkFiles };

/** Temp files our atomic writers use (`*.tmp-PID` and `*.tmp-PID-RANDOM`). */
export const TEMP_FILE = /\.tmp-\d+(-[a-z0-9]+)?$/;

export async function tempFiles(dir: string): Promise<string[]> {
  return (await walkFiles(dir)).filter((f) => TEMP_FILE.test(f));
}

/** A map of relative path → sha256 of every file under `dir` (to prove nothing changed). */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await walkFiles(dir)) out.set(f, sha256(await fs.readFile(path.join(dir, f))));
  return out;
}

export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [f, h] of after) if (!before.has(f)) changes.push(`added ${f}`);
  else if (before.get(f) !== h) changes.push(`changed ${f}`);
  for (const f of before.keys()) if (!after.has(f)) changes.push(`removed ${f}`);
  return changes;
}

// ---------------------------------------------------------------------------------------------
// The database, read independently of src/storage (plain sql.js in this thread)

let SQL: Promise<SqlJsStatic> | undefined;

export interface RawDb {
  ok: string;
  products: { id: string; jobId: string; record: Record<string, unknown> }[];
  jobs: { id: string; state: string; record: Record<string, unknown> }[];
  /** The change journal beside the file, as read here: records applied, and how it ended. */
  journal: { records: number; end: 'none' | 'whole' | 'torn' | 'damaged' | 'another file' };
}

/** Replay `<file>.journal` onto `db`, read by this code alone from the format ARCHITECTURE.md
 * gives: 16-byte frames ("AFJR", length LE, the payload's SHA-256 first 8 bytes) of JSON; a
 * header record naming the file's generation (meta 'journal'), then {"s": [[sql, params]…]}. */
function replayJournal(db: Database, journal: string): RawDb['journal'] {
  if (!existsSync(journal)) return { records: 0, end: 'none' };
  const bytes = readFileSync(journal);
  const frames: unknown[] = [];
  let at = 0;
  let end: RawDb['journal']['end'] = 'whole';
  while (at < bytes.length) {
    if (bytes.length - at < 16) {
      end = 'torn';
      break;
    }
    const len = bytes.readUInt32LE(at + 4);
    if (bytes.toString('latin1', at, at + 4) !== 'AFJR') {
      end = 'damaged';
      break;
    }
    if (bytes.length - at - 16 < len) {
      end = 'torn';
      break;
    }
    const body = bytes.subarray(at + 16, at + 16 + len);
    if (!createHash('sha256').update(body).digest().subarray(0, 8).equals(bytes.subarray(at + 8, at + 16))) {
      end = 'damaged';
      break;
    }
    frames.push(JSON.parse(body.toString('utf8')));
    at += 16 + len;
  }
  const generation = db.exec("SELECT value FROM meta WHERE key = 'journal'")[0]?.values[0]?.[0];
  const header = frames.shift() as { generation?: string } | undefined;
  if (!header || header.generation !== generation) return { records: 0, end: 'another file' };
  for (const f of frames as { s: [string, SqlValue[]][] }[]) {
    db.run('BEGIN');
    for (const [sql, params] of f.s) db.run(sql, params);
    db.run('COMMIT');
  }
  return { records: frames.length, end };
}

/** Open the database file as bytes with its journal replayed, run an integrity check, and read
 * products and jobs: what a project opened now would hold. */
export async function readDbRaw(file: string): Promise<RawDb> {
  SQL ??= initSqlJs();
  const db = new (await SQL).Database(readFileSync(file));
  try {
    const ok = String(db.exec('PRAGMA quick_check')[0]?.values[0]?.[0]);
    const journal = replayJournal(db, `${file}.journal`);
    const rows = (sql: string) => (db.exec(sql)[0]?.values ?? []) as string[][];
    const products = rows('SELECT id, job_id, json FROM products').map(([id, jobId, json]) => ({ id, jobId, record: JSON.parse(json) as Record<string, unknown> }));
    const jobs = rows('SELECT id, state, json FROM jobs').map(([id, state, json]) => ({ id, state, record: JSON.parse(json) as Record<string, unknown> }));
    return { ok, products, jobs, journal };
  } finally {
    db.close();
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** `p`, or a failure naming `what` after `ms` (so a hang fails the test instead of stalling it). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still not done after ${ms} ms (hung)`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
