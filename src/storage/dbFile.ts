// The database file itself, inside the worker: reading and checking it, writing it whole
// (atomically), its generation, and the daily backups beside it.
import { closeSync, fsyncSync, openSync, promises as fs, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import { fsyncDirSync } from './atomic.ts';
import { diskFull } from './lock.ts';
import { isDiskFull, StorageError } from './errors.ts';

/** What identifies one version of the file: every write renames a new file into place. */
export interface FileId {
  ino: number;
  size: number;
  mtimeMs: number;
}

export function identity(st: Stats | undefined): FileId | undefined {
  return st ? { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs } : undefined;
}

export function sameFile(a: FileId | undefined, b: FileId | undefined): boolean {
  return (!a && !b) || (!!a && !!b && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs);
}

export function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** `.artfactory/index.db.journal` beside `.artfactory/index.db` (not SQLite's `-journal`
 * name, which the sqlite3 tool would take for a rollback journal of its own). */
export function journalPath(dbPath: string): string {
  return `${dbPath}.journal`;
}

export function backupsDir(dbPath: string): string {
  return path.join(path.dirname(dbPath), 'backups');
}

/** A name for a file put in backups/ now: `index-<time>[-reason].<ext>`. */
export function backupName(dbPath: string, ext: 'db' | 'journal', reason?: string, at = new Date()): string {
  return path.join(backupsDir(dbPath), `index-${at.toISOString().replace(/[:.]/g, '-')}${reason ? `-${reason}` : ''}.${ext}`);
}

export async function listBackups(dbPath: string): Promise<string[]> {
  const dir = backupsDir(dbPath);
  try {
    return (await fs.readdir(dir))
      .filter((n) => /^index-.*\.db$/.test(n))
      .sort()
      .reverse()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** Open bytes as a database and prove it is one (an integrity check); throws 'corrupt-db'
 * with the backups there are. Migrations are the caller's: a journal is replayed first. */
export async function openBytes(SQL: SqlJsStatic, bytes: Uint8Array, dbPath: string): Promise<Database> {
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    const check = db.exec('PRAGMA quick_check');
    if (String(check[0]?.values[0]?.[0]) !== 'ok') throw new Error(`integrity check: ${String(check[0]?.values[0]?.[0])}`);
    return db;
  } catch (e) {
    db?.close();
    throw new StorageError('corrupt-db', `${path.basename(dbPath)} is not a readable database (${e instanceof Error ? e.message : String(e)}).`, await listBackups(dbPath));
  }
}

const GENERATION = 'journal';

/** The generation the file was written with (its `meta` row), if it has one. */
export function generationOf(db: Database): string | undefined {
  try {
    const r = db.exec('SELECT value FROM meta WHERE key = ?', [GENERATION]);
    const v = r[0]?.values[0]?.[0];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // a schema from before `meta`
  }
}

/** Set (or, with undefined, remove) the generation, outside any journal. */
export function setGeneration(db: Database, generation: string | undefined): void {
  if (generation === undefined) db.run('DELETE FROM meta WHERE key = ?', [GENERATION]);
  else db.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)', [GENERATION, generation]);
}

/** The database as one file, written with `generation` (its own, restored afterwards). */
export function exportAs(db: Database, generation: string | undefined): Uint8Array {
  const own = generationOf(db);
  setGeneration(db, generation);
  try {
    return db.export();
  } finally {
    setGeneration(db, own);
  }
}

/** Write a whole file so readers see the old one or the new one: temp file, fsync, rename,
 * fsync the folder. A full disk leaves the old file and no temp. */
export function writeAtomic(file: string, data: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    if (isDiskFull(e)) throw diskFull(e);
    throw e;
  }
  renameSync(tmp, file);
  fsyncDirSync(path.dirname(file));
}

/** At most one backup a day, `keep` of them: the database as it is now (journal included),
 * under a generation of its own so no journal is ever replayed onto a restored copy. */
export async function dailyBackup(dbPath: string, keep: number, db: Database): Promise<void> {
  if (keep <= 0) return;
  const existing = await listBackups(dbPath);
  const newest = existing[0] ? statOrUndefined(existing[0]) : undefined;
  if (newest && Date.now() - newest.mtimeMs < 24 * 60 * 60 * 1000) return;
  try {
    await fs.mkdir(backupsDir(dbPath), { recursive: true });
    writeAtomic(backupName(dbPath, 'db'), exportAs(db, `backup-${Date.now()}`));
  } catch {
    // The backup is a safety net: without room for it the project still opens.
    return;
  }
  for (const old of (await listBackups(dbPath)).slice(keep)) {
    await fs.rm(old, { force: true });
    await fs.rm(old.replace(/\.db$/, '.journal'), { force: true });
  }
}
