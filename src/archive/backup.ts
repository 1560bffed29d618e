// Backup Project / Restore Project: one zip holding everything that cannot be rebuilt
// (manifest, database, sidecars, products, parameter files, templates). Thumbnails, schemas
// and database backups are left out: they are rebuilt. A backup is untrusted input on the way
// back: restore checks the whole archive against limits (entries, sizes, ratios, free space)
// before writing anything, goes into a new or empty folder, removes only what it created when
// it fails, and runs Verify Project on the result, database included.
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { verifyProject, type VerifyOptions, type VerifyReport } from './verify.ts';

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(
    readonly kind: 'not-a-project' | 'target-not-empty' | 'bad-archive' | 'unsafe-entry' | 'too-large' | 'no-space' | 'verify-failed' | 'canceled',
    message: string,
  ) {
    super(message);
  }
}

export interface BackupOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** What a backup or restore touched. */
export interface ArchiveReport {
  files: number;
  bytes: number;
}

const MANIFEST = 'artfactory.json';
/** Folders that are rebuildable, machine-local, or deleted (the trash of an open gallery). */
const SKIP_DIRS = new Set(['.artfactory/thumbs', '.artfactory/schemas', '.artfactory/backups', '.artfactory/trash', 'node_modules', '.git']);

async function* walk(root: string, rel = ''): AsyncGenerator<string> {
  const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(r)) yield* walk(root, r);
    } else if (e.isFile()) {
      // Temp files of an interrupted atomic write and lock files are not part of the project.
      if (/\.tmp(-[\w-]+)?$|\.lock$/.test(e.name)) continue;
      yield r;
    }
  }
}

/** Write `projectDir` into the zip `outFile` (written to a temp name, then renamed). */
export async function backupProject(projectDir: string, outFile: string, opts: BackupOptions = {}): Promise<ArchiveReport> {
  try {
    await fs.access(path.join(projectDir, MANIFEST));
  } catch {
    throw new ArchiveError('not-a-project', `${projectDir} has no ${MANIFEST}, so it is not an Art Factory project.`);
  }
  const files: string[] = [];
  for await (const f of walk(projectDir)) files.push(f);
  const zip = new yazl.ZipFile();
  const tmp = `${outFile}.tmp-${process.pid}`;
  const written = pipeline(zip.outputStream, createWriteStream(tmp));
  let bytes = 0;
  try {
    for (const [i, rel] of files.entries()) {
      if (opts.signal?.aborted) throw new ArchiveError('canceled', 'Backup canceled.');
      const abs = path.join(projectDir, rel);
      const stat = await fs.stat(abs);
      bytes += stat.size;
      // Media is already compressed; deflating it again costs time for nothing.
      const compress = !/\.(png|jpe?g|webp|gif|avif|mp4|webm|mov|mp3|ogg|flac)$/i.test(rel);
      zip.addReadStreamLazy(rel, { mtime: stat.mtime, compress, size: stat.size }, (cb) => cb(null, createReadStream(abs)));
      opts.onProgress?.(i + 1, files.length);
    }
    zip.end();
    await written;
    const fh = await fs.open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, outFile);
  } catch (e) {
    (zip.outputStream as unknown as { destroy?: () => void }).destroy?.();
    await written.catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  }
  return { files: files.length, bytes };
}

/** An entry name is safe when it stays inside the target: relative, no `..`, no drive letters. */
export function safeEntryName(name: string): string | undefined {
  if (!name || name.includes('\\') || name.startsWith('/') || /^[a-zA-Z]:/.test(name) || name.includes('\0')) return undefined;
  const parts = name.split('/');
  if (parts.some((p) => p === '..' || p === '.')) return undefined;
  return parts.filter(Boolean).join('/');
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (err, zip) =>
      err || !zip ? reject(new ArchiveError('bad-archive', `${path.basename(file)} is not a readable zip archive: ${err?.message ?? 'unknown error'}`)) : resolve(zip),
    ),
  );
}

/** What a restore accepts. An archive past any of these is refused before anything is written. */
export interface RestoreLimits {
  maxEntries: number;
  /** Largest single file. */
  maxEntryBytes: number;
  /** Largest total unpacked size (and never more than the target's free space). */
  maxTotalBytes: number;
  /** Largest unpacked/packed ratio of an entry bigger than `ratioFloorBytes`: deflate reaches
   * about 1,000:1 on a zip bomb's zeros, while images, databases and JSON stay far below 100:1. */
  maxRatio: number;
  ratioFloorBytes: number;
  /** Space to leave free on the target's disk. */
  reserveBytes: number;
}

export const DEFAULT_RESTORE_LIMITS: RestoreLimits = {
  maxEntries: 1_000_000,
  maxEntryBytes: 4 * 1024 ** 3,
  maxTotalBytes: 256 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 1024 * 1024,
  reserveBytes: 256 * 1024 * 1024,
};

export interface RestoreOptions extends BackupOptions {
  limits?: Partial<RestoreLimits>;
  /** How the restored project's database is opened for the verify (the extension passes its own). */
  openDb?: VerifyOptions['openDb'];
}

function mb(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${Math.max(1, Math.round(n / 1024 ** 2))} MB`;
}

/** Bytes free for an unprivileged user on the disk that would hold `dir`. */
async function freeBytes(dir: string): Promise<number> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    try {
      const st = await fs.statfs(d);
      return st.bavail * st.bsize;
    } catch {
      if (path.dirname(d) === d) return Infinity;
    }
  }
}

interface Planned {
  name: string;
  bytes: number;
}

/** Read the central directory only and check every entry against the limits: names, sizes,
 * ratios, count, total against free space, no links, no duplicates, a manifest. */
async function planRestore(zipFile: string, targetDir: string, limits: RestoreLimits): Promise<{ files: Planned[]; bytes: number }> {
  const zip = await openZip(zipFile);
  try {
    if (zip.entryCount > limits.maxEntries) throw new ArchiveError('too-large', `The archive holds ${zip.entryCount.toLocaleString('en')} entries; a restore takes at most ${limits.maxEntries.toLocaleString('en')}. Nothing was written.`);
    const files: Planned[] = [];
    const seen = new Set<string>();
    const dirs = new Set<string>();
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (e: Error) => reject(new ArchiveError('bad-archive', `The archive is damaged: ${e.message}`)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        try {
          const name = safeEntryName(entry.fileName);
          if (name === undefined) throw new ArchiveError('unsafe-entry', `The archive holds an unsafe path (${JSON.stringify(entry.fileName.slice(0, 200))}); nothing outside the target is written.`);
          if (entry.fileName.endsWith('/')) {
            zip.readEntry();
            return;
          }
          // Unix mode in the high half of the external attributes: a symbolic link is not ours.
          if (((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000) throw new ArchiveError('unsafe-entry', `The archive holds a symbolic link (${JSON.stringify(name.slice(0, 200))}); backups made by Art Factory never do.`);
          const key = name.toLowerCase();
          if (seen.has(key) || dirs.has(key)) throw new ArchiveError('unsafe-entry', `The archive holds ${JSON.stringify(name.slice(0, 200))} twice (or as a file and a folder).`);
          seen.add(key);
          const parts = key.split('/');
          for (let i = 1; i < parts.length; i++) {
            const dir = parts.slice(0, i).join('/');
            if (seen.has(dir)) throw new ArchiveError('unsafe-entry', `The archive holds ${JSON.stringify(dir)} as a file and as a folder.`);
            dirs.add(dir);
          }
          const size = entry.uncompressedSize;
          if (size > limits.maxEntryBytes) throw new ArchiveError('too-large', `${name} would unpack to ${mb(size)}; a restore takes files of at most ${mb(limits.maxEntryBytes)}. Nothing was written.`);
          if (size > limits.ratioFloorBytes && size / Math.max(1, entry.compressedSize) > limits.maxRatio) {
            throw new ArchiveError('too-large', `${name} would unpack ${Math.round(size / Math.max(1, entry.compressedSize))} times larger than it is packed (${mb(entry.compressedSize)} → ${mb(size)}): a zip bomb, not a backup. Nothing was written.`);
          }
          total += size;
          if (total > limits.maxTotalBytes) throw new ArchiveError('too-large', `The archive unpacks to more than ${mb(limits.maxTotalBytes)}; refusing it. Nothing was written.`);
          if (files.length >= limits.maxEntries) throw new ArchiveError('too-large', `The archive holds more than ${limits.maxEntries.toLocaleString('en')} files. Nothing was written.`);
          files.push({ name, bytes: size });
          zip.readEntry();
        } catch (e) {
          reject(e);
        }
      });
      zip.readEntry();
    });
    if (!files.some((f) => f.name === MANIFEST)) throw new ArchiveError('not-a-project', `${path.basename(zipFile)} holds no ${MANIFEST}: it is not an Art Factory backup.`);
    const free = await freeBytes(targetDir);
    if (total + limits.reserveBytes > free) throw new ArchiveError('no-space', `The backup unpacks to ${mb(total)} but the disk holding ${targetDir} has ${mb(free)} free (${mb(limits.reserveBytes)} is kept in reserve). Free some space or restore onto another disk. Nothing was written.`);
    return { files, bytes: total };
  } finally {
    zip.close();
  }
}

/** Unpack a backup into `targetDir` (new, or an empty folder), then verify it, database
 * included. Every limit is checked from the archive's directory before anything is written; a
 * restore that fails later removes exactly the files and folders it created (a folder the user
 * made beforehand stays). */
export async function restoreProject(zipFile: string, targetDir: string, opts: RestoreOptions = {}): Promise<ArchiveReport & { verify: VerifyReport }> {
  const limits = { ...DEFAULT_RESTORE_LIMITS, ...opts.limits };
  try {
    const existing = await fs.readdir(targetDir);
    if (existing.length > 0) throw new ArchiveError('target-not-empty', `${targetDir} is not empty. Restore into a new folder.`);
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ArchiveError('target-not-empty', `${targetDir} cannot be used: ${(e as Error).message}`);
  }
  const plan = await planRestore(zipFile, targetDir, limits);
  const createdFiles: string[] = [];
  const createdDirs: string[] = [];
  // Folders are made one level at a time, so each one this restore made is known.
  const mkdirs = async (dir: string) => {
    const missing: string[] = [];
    for (let d = dir; !(await fs.stat(d).then((st) => st.isDirectory(), () => false)); d = path.dirname(d)) {
      missing.unshift(d);
      if (d === path.dirname(d)) break;
    }
    for (const d of missing) {
      await fs.mkdir(d);
      createdDirs.push(d);
    }
  };
  let files = 0;
  let bytes = 0;
  const zip = await openZip(zipFile);
  try {
    await mkdirs(targetDir);
    const planned = new Map(plan.files.map((f) => [f.name, f.bytes]));
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (e: Error) => reject(new ArchiveError('bad-archive', `The archive is damaged: ${e.message}`)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          if (opts.signal?.aborted) throw new ArchiveError('canceled', 'Restore canceled.');
          const name = safeEntryName(entry.fileName);
          // The same directory is read again: anything not planned (it changed on disk) is refused.
          if (entry.fileName.endsWith('/')) {
            zip.readEntry();
            return;
          }
          if (name === undefined || planned.get(name) !== entry.uncompressedSize) throw new ArchiveError('bad-archive', 'The archive changed while it was being restored.');
          const dest = path.join(targetDir, ...name.split('/'));
          await mkdirs(path.dirname(dest));
          const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => zip.openReadStream(entry, (err, st) => (err || !st ? rej(err ?? new Error('no stream')) : res(st))));
          const out = createWriteStream(dest, { flags: 'wx' });
          createdFiles.push(dest);
          await pipeline(stream, out);
          bytes += entry.uncompressedSize;
          files++;
          opts.onProgress?.(files, plan.files.length);
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } catch (e) {
    zip.close();
    // Only what this restore created goes: its files, then its folders (deepest first, if empty).
    for (const f of createdFiles.reverse()) await fs.rm(f, { force: true }).catch(() => undefined);
    for (const d of createdDirs.reverse()) await fs.rmdir(d).catch(() => undefined);
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError('bad-archive', `The archive could not be restored: ${e instanceof Error ? e.message : String(e)}`);
  }
  const verify = await verifyProject(targetDir, { openDb: opts.openDb, signal: opts.signal });
  return { files, bytes, verify };
}
