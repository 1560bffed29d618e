// The database worker: owns the project databases of one process (sql.js), so neither queries
// nor the occasional whole-file write (db.export() of a large database takes hundreds of
// milliseconds) block the caller's thread. One worker hosts every project's database: a worker
// with its own copy of sql.js costs about 16 MB, which dozens of projects would multiply.
//
// Writes are small: each write's statements are appended to the change journal (journal.ts)
// and fdatasync'd before the call resolves, so an acknowledged write survives a kill, and a
// rating costs kilobytes, not the whole file. The journal is folded into the database file
// (compaction: export, atomic write, new journal) once it has grown past a threshold and the
// database is idle. Another process (a second VS Code window, the command line) may write the
// same project: every write holds the lock file, first applies what others appended (or reloads
// the file when another process compacted it), then appends its own; reads apply others'
// records without the lock.
import { closeSync, copyFileSync, openSync, promises as fs, readFileSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import initSqlJs, { type Database, type SqlJsStatic, type Statement as SqlStatement } from 'sql.js';
import { removeStaleTemps } from './atomic.ts';
import { BulkLoader } from './bulkLoad.ts';
import { backupName, backupsDir, dailyBackup, exportAs, generationOf, identity, journalPath, openBytes, sameFile, setGeneration, statOrUndefined, writeAtomic, type FileId } from './dbFile.ts';
import { isDiskFull, StorageError } from './errors.ts';
import { appendRecord, createJournal, encodeStatements, newGeneration, readHeader, readRecords, truncateJournal, type JournalScan, type Statement } from './journal.ts';
import { diskFull, ProjectLock } from './lock.ts';
import { migrate, Repo, schemaVersion } from './repo.ts';
import type { ProductRecord, StoreStats } from './types.ts';

export interface OpenArgs {
  dbPath: string;
  wasmPath?: string;
  backups: number;
  /** Compact once the journal holds this many bytes (default 8 MiB) and the database has been
   * idle for `idleMs`; at four times this, at once. */
  compactAtBytes?: number;
  idleMs?: number;
  /** Rebuild Index: a database built in memory (op `load`) and installed whole at the end
   * (`install`): no lock, journal or backup until then. */
  scratch?: boolean;
}

/** `db` names one open database in the worker (the client numbers them). */
export type WorkerRequest =
  | { id: number; db: number; op: 'open'; args: OpenArgs }
  | { id: number; db: number; op: 'call'; method: string; args: unknown[] }
  | { id: number; db: number; op: 'flush' }
  | { id: number; db: number; op: 'compact' }
  | { id: number; db: number; op: 'stats' }
  | { id: number; db: number; op: 'load'; products: ProductRecord[] }
  | { id: number; db: number; op: 'install'; reason: string }
  | { id: number; db: number; op: 'close' };

/** `notes`: things the user should hear about (a damaged journal), whatever the reply. */
export type WorkerReply = ({ id: number; ok: true; value: unknown } | { id: number; ok: false; error: { message: string; kind?: string; backups?: string[] } }) & { notes?: string[] };

const WRITES = new Set(['putProduct', 'putProducts', 'updateProduct', 'deleteProducts', 'putJob', 'putTemplate', 'deleteTemplate', 'setProject', 'putUpload', 'quarantineProducts', 'releaseQuarantine', 'setMeta']);
const READS = new Set(['getProduct', 'queryProducts', 'productsMatching', 'countBefore', 'costSum', 'countProducts', 'facets', 'usedIn', 'getJob', 'listJobs', 'listTemplates', 'getUpload', 'rawProducts', 'listQuarantine', 'getMeta']);
const COMPACT_AT = 8 * 1024 * 1024;

let SQL: SqlJsStatic | undefined;

/** A write applied here but not yet in the journal (the disk was full): written with the next. */
interface Unsaved {
  method: string;
  args: unknown[];
  statements: Statement[];
}

/** One open project database: its sql.js copy, the journal it follows, and the lock. */
class Store {
  private repo: Repo | undefined;
  private a!: OpenArgs;
  private lock!: ProjectLock;
  private journalFile = '';
  /** The database file our copy was read from or last written as (undefined: none on disk). */
  private loaded: FileId | undefined;
  /** That file's generation: only a journal with the same one is ours to replay. */
  private generation: string | undefined;
  /** The journal we follow and how far we have applied it; undefined while none matches. */
  private journal: { ino: number; applied: number } | undefined;
  /** Why replay stopped before the journal's end (a torn tail, damage), until repaired. */
  private stop: JournalScan['stop'];
  /** A journal beside the file that is not its own (left by a crash mid-compaction, or beside a
   * restored backup): not read again on every read; the next write replaces it. */
  private foreign: number | undefined;
  /** The schema was migrated in memory: the file must be written whole before journaling. */
  private migrated = false;
  private unsaved: Unsaved[] = [];
  private compactTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private notes: string[] = [];
  private compactions = 0;
  /** Rebuild Index's loader, on a scratch database until it is installed. */
  private loader: BulkLoader | undefined;

  /** Run `fn` after everything queued before it: one operation at a time per database. */
  serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  takeNotes(): string[] | undefined {
    if (!this.notes.length) return undefined;
    const n = this.notes;
    this.notes = [];
    return n;
  }

  async open(a: OpenArgs): Promise<void> {
    this.a = a;
    this.lock = new ProjectLock(`${a.dbPath}.lock`);
    this.journalFile = journalPath(a.dbPath);
    SQL ??= await initSqlJs(a.wasmPath ? { locateFile: () => a.wasmPath! } : undefined);
    await fs.mkdir(path.dirname(a.dbPath), { recursive: true });
    if (a.scratch) {
      const db = new SQL.Database();
      migrate(db);
      this.repo = new Repo(db);
      this.loader = new BulkLoader(this.repo);
      return;
    }
    // A write killed mid-way leaves index.db.tmp-PID (a whole copy) or index.db.journal.tmp-PID.
    await removeStaleTemps(path.dirname(a.dbPath));
    await this.load();
    // Damage is repaired at once (under the lock), so it is reported when the project opens.
    if (this.stop?.kind === 'damaged') await this.lock.with(() => this.catchUp(true)).catch(() => undefined);
    if (this.loaded) await dailyBackup(a.dbPath, a.backups, this.repo!.db);
  }

  private get db(): Database {
    if (!this.repo) throw new StorageError('closed', 'The database is not open.');
    return this.repo.db;
  }

  // ---------------------------------------------------------------------------------------
  // Reading the file and the journal

  /** Read the database file and replay its journal: our copy becomes what is on disk, plus the
   * writes not saved yet (run again on top). */
  private async load(): Promise<void> {
    const st = statOrUndefined(this.a.dbPath);
    const db = st ? await openBytes(SQL!, readFileSync(this.a.dbPath), this.a.dbPath) : new SQL!.Database();
    this.repo?.db.close();
    this.repo = new Repo(db);
    this.loaded = identity(st);
    this.generation = st ? generationOf(db) : undefined;
    this.journal = undefined;
    this.stop = undefined;
    this.foreign = undefined;
    this.followJournal();
    const before = schemaVersion(db);
    this.migrated = migrate(db) !== before;
    for (const u of this.unsaved) {
      const run = this.execute(u.method, u.args);
      this.db.run('RELEASE w');
      u.statements = run.statements;
    }
  }

  /** Start following the journal beside the file when it is the file's own. */
  private followJournal(): void {
    if (!this.generation) return;
    const st = statOrUndefined(this.journalFile);
    if (!st) return;
    const fd = openSync(this.journalFile, 'r');
    try {
      const head = readHeader(fd, st.size);
      if (head?.header.generation !== this.generation) {
        this.foreign = st.ino;
        return;
      }
      this.journal = { ino: st.ino, applied: head.end };
      this.applyRecords(fd, st.size);
    } finally {
      closeSync(fd);
    }
  }

  /** Apply the records after what we applied, up to `size`. */
  private applyRecords(fd: number, size: number): void {
    const j = this.journal!;
    const scan = readRecords(fd, j.applied, size);
    const cache = new Map<string, SqlStatement>();
    try {
      for (const r of scan.records) {
        try {
          this.replay(r.statements, cache);
        } catch (e) {
          this.stop = { kind: 'damaged', at: r.at, reason: `a record that does not apply (${e instanceof Error ? e.message : String(e)})` };
          return;
        }
        j.applied = r.next;
      }
      this.stop = scan.stop;
    } finally {
      for (const s of cache.values()) s.free();
    }
  }

  private replay(statements: Statement[], cache: Map<string, SqlStatement>): void {
    const db = this.db;
    db.run('SAVEPOINT replay');
    try {
      for (const [sql, params] of statements) {
        let stmt = cache.get(sql);
        if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
        stmt.run(params);
      }
      db.run('RELEASE replay');
    } catch (e) {
      db.run('ROLLBACK TO replay');
      db.run('RELEASE replay');
      throw e;
    }
  }

  /** Bring our copy up to what is on disk. Under the lock (before a write) it also repairs:
   * a torn tail is cut off, a damaged journal is kept in backups/ and the file written whole. */
  private async catchUp(locked: boolean): Promise<void> {
    if (!sameFile(identity(statOrUndefined(this.a.dbPath)), this.loaded)) {
      await this.load();
    } else {
      const st = statOrUndefined(this.journalFile);
      const j = this.journal;
      const moved = j ? !st || st.ino !== j.ino : !!st && !!this.generation && st.ino !== this.foreign;
      const grew = !!j && !!st && st.ino === j.ino && st.size > j.applied;
      // Our unsaved writes were made on what we had: with others' writes in between, run them again on top.
      if (moved || (grew && this.unsaved.length)) {
        if (j || this.unsaved.length) await this.load();
        else this.followJournal();
      } else if (grew && this.stop?.kind !== 'damaged') {
        const fd = openSync(this.journalFile, 'r');
        try {
          this.applyRecords(fd, st.size);
        } finally {
          closeSync(fd);
        }
      }
    }
    if (!locked || !this.stop || !this.journal) return;
    if (this.stop.kind === 'torn') {
      truncateJournal(this.journalFile, this.journal.applied);
      this.stop = undefined;
      return;
    }
    const { at, reason } = this.stop;
    const copy = backupName(this.a.dbPath, 'journal', 'damaged');
    await fs.mkdir(backupsDir(this.a.dbPath), { recursive: true });
    copyFileSync(this.journalFile, copy);
    this.compact();
    this.notes.push(`The change journal of ${path.basename(path.dirname(path.dirname(this.a.dbPath)))} was damaged at byte ${at} (${reason}). The database keeps every change before that point; the journal was copied to ${path.relative(path.dirname(path.dirname(this.a.dbPath)), copy)}. Products are also described by their sidecars: Rebuild Index brings back any that are missing.`);
  }

  // ---------------------------------------------------------------------------------------
  // Writing

  /** Run a repository write inside the savepoint `w`, recording its statements. The caller
   * releases or rolls back `w`. */
  private execute(method: string, args: unknown[]): { value: unknown; statements: Statement[] } {
    const repo = this.repo!;
    const fn = (repo as unknown as Record<string, (...x: unknown[]) => unknown>)[method];
    repo.recorder = [];
    repo.db.run('SAVEPOINT w');
    try {
      return { value: fn.apply(repo, args), statements: repo.recorder };
    } catch (e) {
      repo.db.run('ROLLBACK TO w');
      repo.db.run('RELEASE w');
      throw e;
    } finally {
      repo.recorder = undefined;
    }
  }

  /** Make sure the journal beside the file is ours, writing the file whole when it has no
   * generation yet, was migrated in memory, or does not exist. */
  private ensureJournal(): void {
    if (this.journal && !this.migrated) return;
    if (this.loaded && this.generation && !this.migrated) {
      const st = statOrUndefined(this.journalFile);
      if (st && st.size > 0) {
        const fd = openSync(this.journalFile, 'r');
        const head = (() => {
          try {
            return readHeader(fd, st.size);
          } finally {
            closeSync(fd);
          }
        })();
        // A journal we cannot even read the header of is kept before it is replaced.
        if (!head) copyFileSync(this.journalFile, backupName(this.a.dbPath, 'journal', 'damaged'));
      }
      this.journal = { ino: 0, applied: createJournal(this.journalFile, this.generation) };
      this.journal.ino = statOrUndefined(this.journalFile)!.ino;
      return;
    }
    this.compact();
  }

  /** Append the unsaved writes and `more` as one record. */
  private append(more: Statement[]): void {
    const statements = [...this.unsaved.flatMap((u) => u.statements), ...more];
    if (statements.length === 0) return;
    try {
      this.journal!.applied = appendRecord(this.journalFile, this.journal!.applied, encodeStatements(statements));
    } catch (e) {
      throw isDiskFull(e) ? diskFull(e) : e;
    }
    this.unsaved = [];
  }

  async write(method: string, args: unknown[]): Promise<unknown> {
    if (this.a.scratch) return this.call(method, args);
    let failed: unknown;
    let locked = false;
    try {
      await this.lock.acquire();
      locked = true;
      await this.catchUp(true);
      this.ensureJournal();
    } catch (e) {
      if (!isDiskFull(e)) {
        if (locked) this.lock.release();
        throw e;
      }
      failed = diskFull(e);
    }
    try {
      const run = this.execute(method, args);
      try {
        if (failed) throw failed;
        this.append(run.statements);
      } catch (e) {
        if (!isDiskFull(e)) {
          this.db.run('ROLLBACK TO w');
          this.db.run('RELEASE w');
          throw e;
        }
        // Kept here and written with the next write or flush; the caller hears it is not saved.
        this.db.run('RELEASE w');
        this.unsaved.push({ method, args, statements: run.statements });
        throw diskFull(e);
      }
      this.db.run('RELEASE w');
      this.compactWhenDue(true);
      return run.value;
    } finally {
      if (locked) this.lock.release();
    }
  }

  /** Durable already, unless a full disk left writes unsaved: write them now. */
  async flush(): Promise<void> {
    if (this.a.scratch || this.unsaved.length === 0) return;
    await this.lock.with(async () => {
      await this.catchUp(true);
      this.ensureJournal();
      this.append([]);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Compaction

  private get compactAt(): number {
    return this.a.compactAtBytes ?? COMPACT_AT;
  }

  /** Write the database whole under a new generation and start an empty journal (under the
   * lock, caught up). On a failure the file and the journal on disk are as they were. */
  private compact(): void {
    const generation = newGeneration();
    writeAtomic(this.a.dbPath, exportAs(this.db, generation));
    setGeneration(this.db, generation);
    this.loaded = identity(statOrUndefined(this.a.dbPath));
    this.generation = generation;
    this.migrated = false;
    this.unsaved = [];
    this.stop = undefined;
    this.journal = undefined;
    this.compactions++;
    // If this fails the next write starts the journal (the file already holds everything).
    const applied = createJournal(this.journalFile, generation);
    this.journal = { ino: statOrUndefined(this.journalFile)!.ino, applied };
  }

  /** After a write (holding the lock): far past the threshold, compact now; past it, once the
   * database has been idle a moment (a burst of edits never waits for a whole-file write). */
  private compactWhenDue(locked: boolean): void {
    const size = this.journal?.applied ?? 0;
    if (size < this.compactAt) return;
    if (locked && size >= 4 * this.compactAt) {
      this.tryCompact();
      return;
    }
    clearTimeout(this.compactTimer);
    this.compactTimer = setTimeout(() => void this.serial(() => this.compactIfDue()), this.a.idleMs ?? 1000);
    this.compactTimer.unref();
  }

  private tryCompact(): void {
    try {
      this.compact();
    } catch {
      // Everything is durable in the journal; the next write tries again.
    }
  }

  async compactIfDue(force = false): Promise<void> {
    clearTimeout(this.compactTimer);
    if (!this.repo || this.a.scratch) return;
    await this.lock
      .with(async () => {
        await this.catchUp(true);
        if (force || (this.journal?.applied ?? 0) >= this.compactAt || !this.journal) this.tryCompact();
      })
      .catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------
  // Rebuild Index: install a database built in memory

  /** Add products to the database being rebuilt. */
  loadProducts(products: ProductRecord[]): void {
    if (!this.loader) throw new Error('Products are loaded only into a database being rebuilt.');
    this.loader.add(products);
  }

  /** Under the lock: the current file and journal go to backups/, ours takes their place. */
  async install(reason: string): Promise<void> {
    if (!this.a.scratch) throw new Error('Only a rebuilt database is installed.');
    // Committed before the lock is taken: other windows wait only for the file to be written.
    this.loader?.finish();
    await this.lock.with(async () => {
      const at = new Date();
      await fs.mkdir(backupsDir(this.a.dbPath), { recursive: true });
      if (statOrUndefined(this.a.dbPath)) renameSync(this.a.dbPath, backupName(this.a.dbPath, 'db', reason, at));
      if (statOrUndefined(this.journalFile)) renameSync(this.journalFile, backupName(this.a.dbPath, 'journal', reason, at));
      const generation = newGeneration();
      writeAtomic(this.a.dbPath, exportAs(this.db, generation));
      createJournal(this.journalFile, generation);
    });
  }

  // ---------------------------------------------------------------------------------------

  call(method: string, args: unknown[]): unknown {
    const repo = this.repo;
    if (!repo) throw new StorageError('closed', 'The database is not open.');
    return (repo as unknown as Record<string, (...x: unknown[]) => unknown>)[method].apply(repo, args);
  }

  async read(method: string, args: unknown[]): Promise<unknown> {
    if (!this.a.scratch) await this.catchUp(false);
    return this.call(method, args);
  }

  stats(): StoreStats {
    return { journalBytes: this.journal?.applied ?? 0, compactions: this.compactions, worker: process.memoryUsage() };
  }

  async close(): Promise<void> {
    clearTimeout(this.compactTimer);
    try {
      if (this.repo && !this.a.scratch) {
        await this.flush();
        if ((this.journal?.applied ?? 0) >= this.compactAt) await this.compactIfDue();
      }
    } finally {
      this.repo?.db.close();
      this.repo = undefined;
    }
  }
}

const stores = new Map<number, Store>();

async function handle(store: Store, msg: WorkerRequest): Promise<unknown> {
  switch (msg.op) {
    case 'open':
      return store.open(msg.args);
    case 'call':
      if (WRITES.has(msg.method)) return store.write(msg.method, msg.args);
      if (READS.has(msg.method)) return store.read(msg.method, msg.args);
      throw new Error(`Unknown database method ${msg.method}.`);
    case 'flush':
      return store.flush();
    case 'compact':
      return store.compactIfDue(true);
    case 'stats':
      return store.stats();
    case 'load':
      return store.loadProducts(msg.products);
    case 'install':
      return store.install(msg.reason);
    case 'close':
      return store.close();
  }
}

// Each database's messages are handled one after another (so a write never interleaves with a
// reload or a compaction); different databases do not wait for each other's lock.
parentPort?.on('message', (msg: WorkerRequest) => {
  let store = stores.get(msg.db);
  if (msg.op === 'open') stores.set(msg.db, (store = new Store()));
  const reply = (r: WorkerReply) => parentPort!.postMessage({ ...r, notes: store?.takeNotes() } satisfies WorkerReply);
  if (!store) {
    reply({ id: msg.id, ok: false, error: { message: 'The database is not open.', kind: 'closed' } });
    return;
  }
  const s = store;
  if (msg.op === 'close') stores.delete(msg.db);
  void s.serial(() => handle(s, msg)).then(
    (value) => reply({ id: msg.id, ok: true, value }),
    (e: unknown) => {
      if (msg.op === 'open') stores.delete(msg.db);
      const error = e instanceof StorageError ? { message: e.message, kind: e.kind, backups: e.backups } : { message: e instanceof Error ? e.message : String(e) };
      reply({ id: msg.id, ok: false, error });
    },
  );
});
