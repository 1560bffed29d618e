// Public entry of the storage layer. The database lives in a worker thread (worker.ts); this
// module is its async client and never loads sql.js itself.
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { StorageError, type StorageErrorKind } from './errors.ts';
import { backupName, backupsDir, journalPath } from './dbFile.ts';
import { listSidecars, readSidecars } from './sidecars.ts';
import type { CostSum, JobRecord, ProductKey, ProductPage, ProductPatch, ProductQuery, ProductRecord, ProjectDb, QuarantinedRow, RawProductRow, StoreStats, TemplateRecord, UploadRecord } from './types.ts';
import type { OpenArgs, WorkerReply, WorkerRequest } from './worker.ts';
import type { JobState } from '../providers/types.ts';

export { StorageError } from './errors.ts';
export { createProject, isProject, productDayDir, projectFile, readManifest, renameProject, setProjectBudgets, thumbsDir, MANIFEST } from './project.ts';
export { firstProblem, readSidecar, sidecarPath, walkSidecars, writeSidecar } from './sidecars.ts';
export { newId } from './ids.ts';
export { isSafeId, layoutOf, layoutProblem, PathRefusedError, ProjectPaths, relProblem } from './productPaths.ts';
export { deleteForever, ProductStore, type TrashEntry, type TrashSink } from './productStore.ts';

export interface OpenOptions {
  /** The bundled worker (dist/db-worker.js); defaults to the one beside this module. */
  workerPath?: string;
  /** sql-wasm.wasm; defaults to sql.js's own resolution. */
  wasmPath?: string;
  /** Rotated backups to keep (default 5). */
  backups?: number;
  /** How long the database must be idle before a due compaction writes it whole (default 1 s). */
  saveDelayMs?: number;
  /** Compact once the change journal holds this many bytes (default 8 MiB). */
  compactAtBytes?: number;
  /** Told what the user should hear about the database (a damaged journal and what was kept). */
  onWarning?: (message: string) => void;
}

export function dbPath(projectDir: string): string {
  return path.join(projectDir, '.artfactory', 'index.db');
}

type Outgoing = WorkerRequest extends infer R ? (R extends { id: number; db: number } ? Omit<R, 'id' | 'db'> : never) : never;

/** Start a worker: the bundled db-worker.js beside the bundle, or the .ts source through
 * tsx's require hook (tests, the CLI from source). */
function startWorker(file: string): Worker {
  if (!file.endsWith('.ts')) return new Worker(file);
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true });
}

/** The one worker thread that hosts every database this process opens (per worker file). It
 * starts with the first database and stops when the last one closes. */
class SharedWorker {
  private static readonly running = new Map<string, SharedWorker>();
  private nextId = 1;
  private nextDb = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; warn?: (message: string) => void }>();
  private readonly users = new Set<number>();
  private failed?: Error;

  static for(workerPath?: string): SharedWorker {
    const bundled = path.join(__dirname, 'db-worker.js');
    const file = workerPath ?? (!__filename.endsWith('.ts') && existsSync(bundled) ? bundled : path.join(__dirname, 'worker.ts'));
    let shared = SharedWorker.running.get(file);
    if (!shared) SharedWorker.running.set(file, (shared = new SharedWorker(file)));
    return shared;
  }

  private readonly worker: Worker;

  private constructor(private readonly file: string) {
    this.worker = startWorker(file);
    this.worker.on('message', (m: WorkerReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
      for (const note of m.notes ?? []) w.warn?.(note);
      if (m.ok) w.resolve(m.value);
      else w.reject(new StorageError((m.error.kind as StorageErrorKind) ?? 'closed', m.error.message, m.error.backups));
    });
    const fail = (e: Error) => {
      this.failed ??= e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
      if (SharedWorker.running.get(this.file) === this) SharedWorker.running.delete(this.file);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new StorageError('closed', `The database worker stopped (exit ${code}).`)));
    // An open database never keeps a process alive on its own; a request waiting for its answer
    // does (send). Unref'd after the listeners: Node refs a worker's message port again when its
    // first 'message' listener is added, which kept every process with an open database alive.
    this.worker.unref();
  }

  /** A number for a new database, counted as a user until `release`. */
  attach(): number {
    const db = this.nextDb++;
    this.users.add(db);
    return db;
  }

  async release(db: number): Promise<void> {
    this.users.delete(db);
    if (this.users.size > 0) return;
    // Stopped once it has been idle a moment, not at once: Node 20 aborts the whole process
    // ("Assertion failed: (data.first) != nullptr" in NodePlatform::ForIsolate) when a worker's
    // isolate goes while V8 is still optimizing its code on a background thread, which a thread
    // that has just answered is likely to be (seen once in our storage tests). A database opened
    // meanwhile keeps the worker.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (this.users.size > 0) return;
    if (SharedWorker.running.get(this.file) === this) SharedWorker.running.delete(this.file);
    await this.worker.terminate();
  }

  send(db: number, msg: Outgoing, warn?: (message: string) => void): Promise<unknown> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject, warn });
      this.worker.postMessage({ ...msg, id, db });
    });
  }
}

/** Databases open in this process. */
const openDbs = new Set<WorkerDb>();

/** A process that ends with databases still open (a script or a test that never closed them)
 * first saves what they hold: 'beforeExit' comes once nothing else is left to do, and the
 * flushes keep the process alive until they are on disk; then it exits. */
function saveBeforeExit(): void {
  for (const db of openDbs) if (db.unflushed) void db.flush().catch(() => undefined);
}

class WorkerDb implements ProjectDb {
  private closed = false;
  /** A call went out since the last flush (a write may wait for the worker's delayed save). */
  unflushed = false;

  constructor(
    readonly path: string,
    private readonly shared: SharedWorker,
    private readonly db: number,
    private readonly warn?: (message: string) => void,
  ) {
    if (openDbs.size === 0) process.off('beforeExit', saveBeforeExit).on('beforeExit', saveBeforeExit);
    openDbs.add(this);
  }

  send(msg: Outgoing): Promise<unknown> {
    if (this.closed) return Promise.reject(new StorageError('closed', 'The project database is closed.'));
    if (msg.op === 'call') this.unflushed = true;
    return this.shared.send(this.db, msg, this.warn);
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.send({ op: 'call', method, args }) as Promise<T>;
  }

  putProduct = (p: ProductRecord) => this.call<void>('putProduct', p);
  putProducts = (ps: ProductRecord[]) => this.call<void>('putProducts', ps);
  getProduct = (id: string) => this.call<ProductRecord | undefined>('getProduct', id);
  updateProduct = (id: string, patch: ProductPatch) => this.call<ProductRecord | undefined>('updateProduct', id, patch);
  deleteProducts = (ids: string[]) => this.call<void>('deleteProducts', ids);
  queryProducts = (q: ProductQuery) => this.call<ProductPage>('queryProducts', q);
  productsMatching = (q: ProductQuery, ids: string[]) => this.call<string[]>('productsMatching', q, ids);
  countBefore = (q: ProductQuery, at: ProductKey) => this.call<number>('countBefore', q, at);
  countProducts = () => this.call<number>('countProducts');
  facets = () => this.call<{ providers: string[]; models: string[]; tags: string[] }>('facets');
  usedIn = (id: string, limit?: number) => this.call<ProductPage>('usedIn', id, limit);
  costSum = (ids: string[]) => this.call<{ sums: CostSum[]; unknown: number }>('costSum', ids);
  getUpload = (provider: string, sha256: string) => this.call<UploadRecord | undefined>('getUpload', provider, sha256);
  putUpload = (u: UploadRecord) => this.call<void>('putUpload', u);
  rawProducts = (afterRid: number, limit: number) => this.call<RawProductRow[]>('rawProducts', afterRid, limit);
  quarantineProducts = (entries: { id: string; reason: string }[]) => this.call<void>('quarantineProducts', entries);
  listQuarantine = () => this.call<QuarantinedRow[]>('listQuarantine');
  releaseQuarantine = (ids: string[]) => this.call<void>('releaseQuarantine', ids);
  getMeta = (key: string) => this.call<string | undefined>('getMeta', key);
  setMeta = (key: string, value: string) => this.call<void>('setMeta', key, value);
  putJob = (j: JobRecord) => this.call<void>('putJob', j);
  getJob = (id: string) => this.call<JobRecord | undefined>('getJob', id);
  listJobs = (filter?: { states?: JobState[]; limit?: number }) => this.call<JobRecord[]>('listJobs', filter ?? {});
  putTemplate = (t: TemplateRecord) => this.call<void>('putTemplate', t);
  listTemplates = () => this.call<TemplateRecord[]>('listTemplates');
  deleteTemplate = (id: string) => this.call<void>('deleteTemplate', id);

  async flush(): Promise<void> {
    this.unflushed = false;
    await this.send({ op: 'flush' });
  }

  async compact(): Promise<void> {
    await this.send({ op: 'compact' });
  }

  stats = () => this.send({ op: 'stats' }) as Promise<StoreStats>;

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.send({ op: 'close' });
    } finally {
      this.closed = true;
      openDbs.delete(this);
      await this.shared.release(this.db);
    }
  }
}

/** Open (or create) the project's database. A damaged file throws StorageError('corrupt-db')
 * with the backups that exist; it is never replaced by an empty database. */
export async function openProjectDb(projectDir: string, opts: OpenOptions = {}): Promise<ProjectDb> {
  const file = dbPath(projectDir);
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.access(path.dirname(file), (await import('node:fs')).constants.W_OK);
  } catch (e) {
    throw new StorageError('not-writable', `${path.dirname(file)} is not writable (${(e as NodeJS.ErrnoException).code ?? String(e)}). Check the folder's permissions.`);
  }
  // The project's own folder must be a real folder inside it: a symlinked .artfactory/ would
  // send the database, its backups and their rotation somewhere else.
  const own = await fs.lstat(path.dirname(file));
  if (!own.isDirectory()) throw new StorageError('unsafe-path', `${path.dirname(file)} is a symbolic link or not a folder; Art Factory keeps its database only in a real .artfactory folder inside the project. Replace the link with a folder.`);
  const isNew = !existsSync(file);
  const shared = SharedWorker.for(opts.workerPath);
  const handle = shared.attach();
  const db = new WorkerDb(file, shared, handle, opts.onWarning);
  const args: OpenArgs = { dbPath: file, wasmPath: opts.wasmPath, backups: opts.backups ?? 5, idleMs: opts.saveDelayMs, compactAtBytes: opts.compactAtBytes };
  try {
    await db.send({ op: 'open', args });
  } catch (e) {
    openDbs.delete(db);
    await shared.release(handle);
    throw e;
  }
  if (isNew) await markWrittenHere(db, projectDir);
  return db;
}

// Where a database was written. A database that comes from elsewhere (a restored backup, a
// cloned repository, a synced folder, another machine) is not trusted to describe this folder
// until Verify Project has checked it. The database records one hash of the machine's host
// name and the project folder's real path: nothing readable (no user name or path) travels with
// it, and any move, copy or other machine gives a different hash.
const ORIGIN = 'origin';

export async function originStamp(projectDir: string): Promise<string> {
  const real = await fs.realpath(projectDir).catch(() => path.resolve(projectDir));
  return createHash('sha256').update(`${os.hostname()}\0${real}`).digest('hex').slice(0, 32);
}

/** True when the database was last written (or verified) as another folder or on another
 * machine, or by a version that did not record it. */
export async function writtenElsewhere(db: ProjectDb, projectDir: string): Promise<boolean> {
  return (await db.getMeta(ORIGIN)) !== (await originStamp(projectDir));
}

/** Record that the database belongs to this folder on this machine (after a verify, or when the
 * user trusts it as it is). */
export async function markWrittenHere(db: ProjectDb, projectDir: string): Promise<void> {
  await db.setMeta(ORIGIN, await originStamp(projectDir));
  await db.flush();
}

async function moveAside(projectDir: string, reason: string): Promise<string | undefined> {
  const file = dbPath(projectDir);
  if (!existsSync(file)) return undefined;
  const at = new Date();
  await fs.mkdir(backupsDir(file), { recursive: true });
  const dest = backupName(file, 'db', reason, at);
  await fs.rename(file, dest);
  // The journal belongs to that file: it goes with it (and is never replayed onto another).
  await fs.rename(journalPath(file), backupName(file, 'journal', reason, at)).catch(() => undefined);
  return dest;
}

/** How far a rebuild is: sidecars read of those found. */
export interface RebuildProgress {
  done: number;
  total: number;
}

export interface RebuildOptions extends OpenOptions {
  onSkip?: (file: string, reason: string) => void;
  /** Called every 1,000 sidecars or so, and at the end. */
  onProgress?: (p: RebuildProgress) => void;
  /** Aborting stops the rebuild (StorageError 'canceled') and leaves the database as it was. */
  signal?: AbortSignal;
}

/** Recreate the database from every sidecar. It is built in memory and installed whole at the
 * end, under the lock (the old file and journal go to backups/), so a canceled, failed or
 * killed rebuild leaves the project's database as it was, and other windows reload the new
 * one. Returns the number of products indexed; unreadable sidecars are skipped and reported
 * through `onSkip`. */
export async function rebuildIndex(projectDir: string, opts: RebuildOptions = {}): Promise<number> {
  const file = dbPath(projectDir);
  const canceled = () => new StorageError('canceled', 'Rebuild Index was canceled; the database is as it was.');
  const files = await listSidecars(projectDir, opts.signal).catch((e: unknown) => {
    throw opts.signal?.aborted ? canceled() : e;
  });
  await fs.mkdir(path.dirname(file), { recursive: true });
  const shared = SharedWorker.for(opts.workerPath);
  const handle = shared.attach();
  const db = new WorkerDb(file, shared, handle);
  try {
    await db.send({ op: 'open', args: { dbPath: file, wasmPath: opts.wasmPath, backups: 0, scratch: true } });
  } catch (e) {
    await shared.release(handle);
    throw e;
  }
  let n = 0;
  let done = 0;
  let batch: ProductRecord[] = [];
  try {
    // Reading many sidecars at once keeps the disk busy while the worker inserts the last batch.
    for await (const s of readSidecars(projectDir, files, 32)) {
      if (opts.signal?.aborted) throw canceled();
      done++;
      if (s.record) batch.push(s.record);
      else opts.onSkip?.(s.file, s.error ?? 'unreadable');
      if (batch.length >= 1000) {
        await db.putProducts(batch);
        n += batch.length;
        batch = [];
      }
      if (done % 1000 === 0) opts.onProgress?.({ done, total: files.length });
    }
    await db.putProducts(batch);
    n += batch.length;
    if (opts.signal?.aborted) throw canceled();
    await db.setMeta(ORIGIN, await originStamp(projectDir));
    await db.send({ op: 'install', reason: 'before-rebuild' });
    opts.onProgress?.({ done, total: files.length });
  } finally {
    await db.close();
  }
  return n;
}

/** Replace the database with its newest backup (the current file is moved aside, not deleted). */
export async function restoreLatestBackup(projectDir: string): Promise<string> {
  const dir = path.join(projectDir, '.artfactory', 'backups');
  const backups = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^index-.*\.db$/.test(n) && !n.includes('-damaged')).sort().reverse();
  if (!backups[0]) throw new StorageError('corrupt-db', 'There is no backup to restore. Rebuild the index from the sidecars instead.');
  const source = path.join(dir, backups[0]);
  await moveAside(projectDir, 'damaged');
  await fs.copyFile(source, dbPath(projectDir));
  // A file moved aside (before a rebuild, as damaged) has its journal beside it: both come back.
  await fs.copyFile(source.replace(/\.db$/, '.journal'), journalPath(dbPath(projectDir))).catch(() => undefined);
  return source;
}
