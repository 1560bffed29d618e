// The database worker: owns the project databases of one process (sql.js), so neither
// queries nor saves (db.export() of a large database takes hundreds of milliseconds) block the
// caller's thread. One worker hosts every project's database: a worker with its own copy of
// sql.js costs about 16 MB, which dozens of projects in one window would multiply.
//
// Saves are atomic (temp file, fsync, rename, fsync dir) and coalesced. Another process (a
// second VS Code window) may save the same file: saves happen under a lock file, and when
// the file on disk is not the one we last loaded or wrote, we reload it and replay our
// unsaved writes on top before saving, so neither window loses the other's work.
import { closeSync, constants, fsyncSync, openSync, promises as fs, readFileSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { migrate, Repo } from './repo.ts';
import { pidAlive, removeStaleTemps } from './atomic.ts';
import { diskFullMessage, isDiskFull } from './errors.ts';

export interface OpenArgs {
  dbPath: string;
  wasmPath?: string;
  backups: number;
  /** Coalescing delay for saves, in ms. */
  saveDelayMs?: number;
}

/** `db` names one open database in the worker (the client numbers them). */
export type WorkerRequest =
  | { id: number; db: number; op: 'open'; args: OpenArgs }
  | { id: number; db: number; op: 'call'; method: string; args: unknown[] }
  | { id: number; db: number; op: 'flush' }
  | { id: number; db: number; op: 'close' };

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { message: string; kind?: string; backups?: string[] } };

const WRITES = new Set(['putProduct', 'putProducts', 'updateProduct', 'deleteProducts', 'putJob', 'putTemplate', 'deleteTemplate', 'setProject', 'putUpload', 'quarantineProducts', 'releaseQuarantine', 'setMeta']);
const READS = new Set(['getProduct', 'queryProducts', 'productsMatching', 'countBefore', 'costSum', 'countProducts', 'facets', 'usedIn', 'getJob', 'listJobs', 'listTemplates', 'getUpload', 'rawProducts', 'listQuarantine', 'getMeta']);
const LOCK_STALE_MS = 30_000;
const LOCK_UNREADABLE_MS = 1_000;
const LOCK_TIMEOUT_MS = 20_000;

class StoreError extends Error {
  constructor(
    readonly kind: string,
    message: string,
    readonly backups?: string[],
  ) {
    super(message);
  }
}

let SQL: SqlJsStatic | undefined;

function identity(st: Stats | undefined) {
  return st ? { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs } : undefined;
}

function sameFile(a: ReturnType<typeof identity>, b: ReturnType<typeof identity>): boolean {
  return (!a && !b) || (!!a && !!b && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs);
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

async function listBackups(dbPath: string): Promise<string[]> {
  const dir = path.join(path.dirname(dbPath), 'backups');
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

/** Open bytes as a database and prove it is one of ours; throws StoreError('corrupt-db'). */
async function openBytes(bytes: Uint8Array, dbPath: string): Promise<Database> {
  let db: Database | undefined;
  try {
    db = new SQL!.Database(bytes);
    const check = db.exec('PRAGMA quick_check');
    if (String(check[0]?.values[0]?.[0]) !== 'ok') throw new Error(`integrity check: ${String(check[0]?.values[0]?.[0])}`);
    migrate(db);
    return db;
  } catch (e) {
    db?.close();
    const backups = await listBackups(dbPath);
    throw new StoreError('corrupt-db', `${path.basename(dbPath)} is not a readable database (${e instanceof Error ? e.message : String(e)}).`, backups);
  }
}

async function backup(dbPath: string, keep: number): Promise<void> {
  if (keep <= 0 || !statOrUndefined(dbPath)) return;
  const existing = await listBackups(dbPath);
  const newest = existing[0] ? statOrUndefined(existing[0]) : undefined;
  if (newest && Date.now() - newest.mtimeMs < 24 * 60 * 60 * 1000) return; // at most one a day
  const dir = path.join(path.dirname(dbPath), 'backups');
  const dest = path.join(dir, `index-${new Date().toISOString().replace(/[:.]/g, '-')}.db`);
  const tmp = `${dest}.tmp-${process.pid}`;
  try {
    await fs.mkdir(dir, { recursive: true });
    // Copied under a temp name: a copy cut short (a full disk, a kill) must never look like a backup.
    await fs.copyFile(dbPath, tmp);
    await fs.rename(tmp, dest);
  } catch {
    // The backup is a safety net: without room for it the project still opens.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    return;
  }
  for (const old of (await listBackups(dbPath)).slice(keep)) await fs.rm(old, { force: true });
}

function writeAtomic(file: string, data: Uint8Array): void {
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
    if (isDiskFull(e)) throw new StoreError('disk-full', diskFullMessage(`the project database could not be saved (${(e as NodeJS.ErrnoException).code}); what was saved before is intact`));
    throw e;
  }
  // rename is atomic: readers see the old file or the new one, never a torn one.
  renameSync(tmp, file);
  try {
    const dfd = openSync(path.dirname(file), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // directories cannot be fsynced everywhere; the rename is still atomic
  }
}

/** One open project database: its sql.js copy, unsaved writes, and the save machinery. */
class Store {
  private repo: Repo | undefined;
  private args: OpenArgs | undefined;
  /** Identity of the file we loaded or last wrote (a rename gives every save a new inode). */
  private loaded: { ino: number; size: number; mtimeMs: number } | undefined;
  private pending: { method: string; args: unknown[] }[] = [];
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> | undefined;

  async open(a: OpenArgs): Promise<void> {
    this.args = a;
    SQL ??= await initSqlJs(a.wasmPath ? { locateFile: () => a.wasmPath! } : undefined);
    await fs.mkdir(path.dirname(a.dbPath), { recursive: true });
    // A save killed mid-write leaves index.db.tmp-PID, a whole copy of the database.
    await removeStaleTemps(path.dirname(a.dbPath));
    const st = statOrUndefined(a.dbPath);
    let db: Database;
    if (st) {
      db = await openBytes(readFileSync(a.dbPath), a.dbPath);
      await backup(a.dbPath, a.backups);
    } else {
      db = new SQL.Database();
      migrate(db);
    }
    this.repo = new Repo(db);
    this.loaded = identity(st);
  }

  private lockPath(): string {
    return `${this.args!.dbPath}.lock`;
  }

  private async acquireLock(): Promise<void> {
    const lockPath = this.lockPath();
    const started = Date.now();
    for (;;) {
      let fd: number | undefined;
      try {
        fd = openSync(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
        writeSync(fd, `${process.pid} ${Date.now()}`);
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          // Created but not written (a full disk): close it and take it away again.
          if (fd !== undefined) {
            closeSync(fd);
            rmSync(lockPath, { force: true });
          }
          if (isDiskFull(e)) throw new StoreError('disk-full', diskFullMessage(`the project database could not be saved (${(e as NodeJS.ErrnoException).code}); what was saved before is intact`));
          throw new StoreError('not-writable', `Cannot write in ${path.dirname(lockPath)}: ${(e as Error).message}`);
        }
      }
      // Someone holds it: take it over when its owner is gone or it is old.
      try {
        const [pid] = readFileSync(lockPath, 'utf8').split(' ').map(Number);
        const age = Date.now() - statSync(lockPath).mtimeMs;
        // A lock without a readable pid was left by a process killed between create and write.
        const orphaned = pid ? !pidAlive(pid) : age > LOCK_UNREADABLE_MS;
        if (orphaned || age > LOCK_STALE_MS) await fs.rm(lockPath, { force: true });
      } catch {
        // it vanished meanwhile: try again
      }
      if (Date.now() - started > LOCK_TIMEOUT_MS) throw new StoreError('locked', 'Another window has held the project database lock for too long. Close other windows on this project and try again.');
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }

  /** Take the file another process saved and replay our unsaved writes on top. */
  private async reload(onDisk: ReturnType<typeof identity>): Promise<void> {
    const db = await openBytes(readFileSync(this.args!.dbPath), this.args!.dbPath);
    this.repo!.db.close();
    this.repo = new Repo(db);
    this.loaded = onDisk;
    for (const op of this.pending) this.call(op.method, op.args, false);
  }

  private async save(): Promise<void> {
    const { repo, args } = this;
    if (!repo || !args) return;
    if (this.pending.length === 0 && this.loaded) return;
    await this.acquireLock();
    try {
      const onDisk = identity(statOrUndefined(args.dbPath));
      // Another process saved since we loaded: take its file and replay our writes on top.
      if (onDisk && !sameFile(onDisk, this.loaded)) await this.reload(onDisk);
      const count = this.pending.length;
      const data = this.repo!.db.export();
      writeAtomic(args.dbPath, data);
      this.loaded = identity(statOrUndefined(args.dbPath));
      this.pending = this.pending.slice(count);
    } finally {
      await fs.rm(this.lockPath(), { force: true });
    }
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.flush().catch(() => undefined);
    }, this.args?.saveDelayMs ?? 150);
  }

  /** One save at a time; a flush waits for the running one and then saves what is left. */
  async flush(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    while (this.saving) await this.saving.catch(() => undefined);
    this.saving = this.save().finally(() => {
      this.saving = undefined;
    });
    await this.saving;
    if (this.pending.length > 0) this.scheduleSave();
  }

  call(method: string, a: unknown[], record = true): unknown {
    const repo = this.repo;
    if (!repo) throw new StoreError('closed', 'The database is not open.');
    if (!WRITES.has(method) && !READS.has(method)) throw new StoreError('bad-request', `Unknown database method ${method}.`);
    const fn = (repo as unknown as Record<string, (...x: unknown[]) => unknown>)[method];
    const value = fn.apply(repo, a);
    if (record && WRITES.has(method)) {
      this.pending.push({ method, args: a });
      this.scheduleSave();
    }
    return value;
  }

  /** Before a read: when another process (a second window, the command line) saved the file
   * since we loaded it, take its version and replay our unsaved writes on top, so readers see
   * both. A stat per read is cheap; the reload happens only when the file really changed. */
  async refreshFromDisk(): Promise<void> {
    if (!this.repo || !this.args) return;
    const onDisk = identity(statOrUndefined(this.args.dbPath));
    if (onDisk && !sameFile(onDisk, this.loaded)) await this.reload(onDisk);
  }

  async close(): Promise<void> {
    await this.flush();
    this.repo?.db.close();
    this.repo = undefined;
  }
}

const stores = new Map<number, Store>();

async function handle(msg: WorkerRequest): Promise<unknown> {
  if (msg.op === 'open') {
    const store = new Store();
    await store.open(msg.args);
    stores.set(msg.db, store);
    return undefined;
  }
  const store = stores.get(msg.db);
  if (!store) throw new StoreError('closed', 'The database is not open.');
  switch (msg.op) {
    case 'call':
      if (READS.has(msg.method)) await store.refreshFromDisk();
      return store.call(msg.method, msg.args);
    case 'flush':
      return store.flush();
    case 'close':
      stores.delete(msg.db);
      return store.close();
  }
}

// Each database's messages are handled one after another, so a write never interleaves with
// a reload; different databases do not wait for each other's lock or save.
const queues = new Map<number, Promise<unknown>>();
parentPort?.on('message', (msg: WorkerRequest) => {
  const queue = (queues.get(msg.db) ?? Promise.resolve()).then(async () => {
    try {
      const value = await handle(msg);
      parentPort!.postMessage({ id: msg.id, ok: true, value } satisfies WorkerReply);
    } catch (e) {
      const err = e instanceof StoreError ? { message: e.message, kind: e.kind, backups: e.backups } : { message: e instanceof Error ? e.message : String(e) };
      parentPort!.postMessage({ id: msg.id, ok: false, error: err } satisfies WorkerReply);
    }
  });
  queues.set(msg.db, queue);
  if (msg.op === 'close') void queue.then(() => queues.get(msg.db) === queue && queues.delete(msg.db));
});
