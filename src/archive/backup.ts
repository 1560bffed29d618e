// Backup Project / Restore Project: one zip holding everything that cannot be rebuilt
// (manifest, database, sidecars, products, parameter files, templates). Thumbnails, schemas
// and database backups are left out: they are rebuilt. Restore goes into a NEW folder and
// verifies every product against the size and hash recorded in its sidecar.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { z } from 'zod';

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(
    readonly kind: 'not-a-project' | 'target-not-empty' | 'bad-archive' | 'unsafe-entry' | 'too-large' | 'verify-failed' | 'canceled',
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

export interface VerifyReport {
  products: number;
  verified: number;
  missing: string[];
  mismatched: { file: string; reason: string }[];
}

const MANIFEST = 'artfactory.json';
/** Folders that are rebuildable or machine-local. */
const SKIP_DIRS = new Set(['.artfactory/thumbs', '.artfactory/schemas', '.artfactory/backups', 'node_modules', '.git']);
/** A restore refuses archives that would unpack past this (a zip bomb guard). */
const MAX_TOTAL_BYTES = 64 * 1024 ** 3;

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

/** Unpack a backup into `targetDir` (new or empty), then verify it. Throws on an unsafe
 * entry before writing it; a failed restore removes what it wrote. */
export async function restoreProject(zipFile: string, targetDir: string, opts: BackupOptions = {}): Promise<ArchiveReport & { verify: VerifyReport }> {
  try {
    const existing = await fs.readdir(targetDir);
    if (existing.length > 0) throw new ArchiveError('target-not-empty', `${targetDir} is not empty. Restore into a new folder.`);
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
  }
  await fs.mkdir(targetDir, { recursive: true });
  const zip = await openZip(zipFile);
  let files = 0;
  let bytes = 0;
  let sawManifest = false;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (e: Error) => reject(new ArchiveError('bad-archive', `The archive is damaged: ${e.message}`)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          if (opts.signal?.aborted) throw new ArchiveError('canceled', 'Restore canceled.');
          const name = safeEntryName(entry.fileName);
          if (name === undefined) throw new ArchiveError('unsafe-entry', `The archive holds an unsafe path (${JSON.stringify(entry.fileName)}); nothing outside the target is written.`);
          if (name.endsWith('/') || entry.fileName.endsWith('/')) {
            zip.readEntry();
            return;
          }
          bytes += entry.uncompressedSize;
          if (bytes > MAX_TOTAL_BYTES) throw new ArchiveError('too-large', 'The archive unpacks to more than 64 GiB; refusing it.');
          if (name === MANIFEST) sawManifest = true;
          const dest = path.join(targetDir, ...name.split('/'));
          await fs.mkdir(path.dirname(dest), { recursive: true });
          const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => zip.openReadStream(entry, (err, s) => (err || !s ? rej(err ?? new Error('no stream')) : res(s))));
          await pipeline(stream, createWriteStream(dest, { flags: 'wx' }));
          files++;
          opts.onProgress?.(files, zip.entryCount);
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } catch (e) {
    zip.close();
    await fs.rm(targetDir, { recursive: true, force: true });
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError('bad-archive', `The archive could not be restored: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!sawManifest) {
    await fs.rm(targetDir, { recursive: true, force: true });
    throw new ArchiveError('not-a-project', `${path.basename(zipFile)} holds no ${MANIFEST}: it is not an Art Factory backup.`);
  }
  const verify = await verifyProject(targetDir);
  return { files, bytes, verify };
}

const SidecarShape = z.object({ id: z.string(), file: z.string(), bytes: z.number(), sha256: z.string() }).passthrough();

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** Every sidecar's product file is present with the recorded size and hash. */
export async function verifyProject(projectDir: string): Promise<VerifyReport> {
  const report: VerifyReport = { products: 0, verified: 0, missing: [], mismatched: [] };
  const productsDir = path.join(projectDir, 'products');
  let sidecars: string[] = [];
  try {
    for await (const f of walk(productsDir)) if (f.endsWith('.json')) sidecars.push(f);
  } catch {
    sidecars = [];
  }
  for (const rel of sidecars) {
    let record: z.infer<typeof SidecarShape>;
    try {
      record = SidecarShape.parse(JSON.parse(await fs.readFile(path.join(productsDir, rel), 'utf8')));
    } catch (e) {
      report.mismatched.push({ file: `products/${rel}`, reason: `unreadable sidecar: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
      continue;
    }
    report.products++;
    const name = safeEntryName(record.file);
    if (!name) {
      report.mismatched.push({ file: record.file, reason: 'sidecar points outside the project' });
      continue;
    }
    const abs = path.join(projectDir, ...name.split('/'));
    const stat = await fs.stat(abs).catch(() => undefined);
    if (!stat) {
      report.missing.push(name);
      continue;
    }
    if (stat.size !== record.bytes) {
      report.mismatched.push({ file: name, reason: `size ${stat.size} ≠ ${record.bytes} recorded` });
      continue;
    }
    if ((await sha256(abs)) !== record.sha256) {
      report.mismatched.push({ file: name, reason: 'content hash differs from the sidecar' });
      continue;
    }
    report.verified++;
  }
  return report;
}
