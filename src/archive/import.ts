// Import Images: files or folders of images made by other tools become products, with the
// parameters their metadata holds (src/media/metadata/). Each image is stored the way
// the engine stores its outputs (file → sidecar → database row, each atomic), under a path
// of our own: products/YYYY/MM/DD/<id>.<ext>. The file is copied unchanged, so the complete
// original metadata stays with it.
//
// The id is derived from the file's sha256 (`imp-<hash>`), so importing the same image again
// (from the same place or another) finds the product already there and adds nothing.
// A file that is not a sound image is skipped with its reason; metadata that cannot be read
// never stops an image from being imported. Folders are walked lazily, one file in memory at
// a time, and an AbortSignal stops the walk between files (what was imported stays).
import { createHash } from 'node:crypto';
import { constants as fsc, promises as fs, type Dir, type Stats } from 'node:fs';
import * as path from 'node:path';
import { imageStructure } from '../media/imageStructure.ts';
import { readCompanionMetadata, readImageMetadata, type Companions, type ImageMetadata } from '../media/metadata/index.ts';
import { DEFAULT_MAX_MEGAPIXELS, overPixelBudget, pixelCount } from '../media/pixels.ts';
import { checkDownloaded, MediaError, sniffMedia, type CheckedMedia } from '../media/sniff.ts';
import { productDayDir } from '../storage/project.ts';
import { ProductStore } from '../storage/productStore.ts';
import { ThumbnailQueue } from '../storage/thumbnailQueue.ts';
import type { ProductRecord, ProjectDb } from '../storage/types.ts';

/** Extensions a folder walk considers; explicitly chosen files are tried whatever their name. */
export const IMPORT_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'avif'];
const EXT = new RegExp(`\\.(${IMPORT_EXTENSIONS.join('|')})$`, 'i');
export const IMPORT_PROVIDER = 'import';
const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;
/** Skipped files listed in the report; beyond this they are only counted. */
const MAX_LISTED_SKIPS = 5000;
const MAX_DEPTH = 64;

export type SkipKind = 'empty' | 'corrupt' | 'truncated' | 'unsupported' | 'too-large' | 'too-many-pixels' | 'unreadable' | 'inside-project';

export interface ImportSkip {
  file: string;
  kind: SkipKind;
  reason: string;
}

export interface ImportProgress {
  /** Files looked at so far (imported, duplicate or skipped). */
  done: number;
  /** Candidate files found by the counting pass. */
  total: number;
  file: string;
}

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Each stored product, as soon as it is in the database (for a live gallery). */
  onProduct?: (p: ProductRecord) => void;
  /** Each thumbnail made (after the import returned: they are made in the background). */
  onThumbnail?: (productId: string) => void;
  /** Largest file accepted (default 200 MB). */
  maxFileBytes?: number;
  /** Largest image accepted, in megapixels (all frames), read from the header before any
   * decoding (default 100: about 400 MB to decode). */
  maxMegapixels?: number;
  makeThumbnails?: boolean;
  now?: () => Date;
}

export interface ImportReport {
  imported: number;
  importedIds: string[];
  /** Each imported product with the file it came from and the tool whose metadata was read. */
  products: { file: string; id: string; tool: string }[];
  /** Files whose image is already a product (same sha256). */
  duplicates: { file: string; productId: string }[];
  skipped: ImportSkip[];
  /** Skipped files beyond those listed. */
  moreSkipped: number;
  /** Products an interrupted import had written whole but not yet indexed, finished by this one. */
  recovered: number;
  /** Imported, but some metadata could not be read. */
  withWarnings: number;
  byTool: Record<string, number>;
  canceled: boolean;
  /** Resolves when the thumbnails of the imported products are made (they are made after the
   * import returns, in the background). */
  thumbnailsDone: Promise<void>;
}

/** Everything a walk of the sources yields, lazily: explicit files, and image files under folders. */
async function* walkSources(sources: string[], projectDir: string, onSkip: (s: ImportSkip) => void): AsyncGenerator<string> {
  const own = [path.join(projectDir, 'products'), path.join(projectDir, '.artfactory')].map((p) => path.resolve(p) + path.sep);
  const insideProject = (p: string) => own.some((o) => (path.resolve(p) + path.sep).startsWith(o));
  async function* walk(dir: string, depth: number): AsyncGenerator<string> {
    if (depth > MAX_DEPTH || insideProject(dir)) return;
    let handle: Dir;
    try {
      handle = await fs.opendir(dir);
    } catch (e) {
      onSkip({ file: dir, kind: 'unreadable', reason: `The folder could not be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).` });
      return;
    }
    // Streamed: entries are read as they are walked, never collected.
    for await (const e of handle) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) yield* walk(p, depth + 1);
      } else if (e.isFile() && EXT.test(e.name) && !e.name.startsWith('._')) {
        if (!insideProject(p)) yield p;
      }
      // Symbolic links are not followed inside folders (no loops, no surprises).
    }
  }
  for (const src of sources) {
    let stat: Stats;
    try {
      stat = await fs.stat(src);
    } catch (e) {
      onSkip({ file: src, kind: 'unreadable', reason: `The file could not be found or read (${(e as NodeJS.ErrnoException).code ?? String(e)}).` });
      continue;
    }
    if (insideProject(src)) onSkip({ file: src, kind: 'inside-project', reason: `This ${stat.isDirectory() ? 'folder' : 'file'} is already part of the project (under products/ or .artfactory/).` });
    else if (stat.isDirectory()) yield* walk(src, 0);
    else yield src;
  }
}

/** How many files an import of `sources` will look at (a walk that only counts). */
export async function countImportCandidates(sources: string[], projectDir: string, signal?: AbortSignal): Promise<number> {
  let n = 0;
  for await (const _ of walkSources(sources, projectDir, () => undefined)) {
    if (signal?.aborted) break;
    n++;
  }
  return n;
}

export function importedProductId(sha256: string): string {
  return `imp-${sha256.slice(0, 32)}`;
}

/** The product's input: what the tool's metadata said, in the names our providers use. */
function inputFrom(meta: ImageMetadata): Record<string, unknown> {
  const input: Record<string, unknown> = { ...meta.params };
  const set = (k: string, v: unknown) => {
    if (v !== undefined && v !== '') input[k] = v;
  };
  set('tool', meta.tool);
  set('prompt', meta.prompt);
  set('negative_prompt', meta.negativePrompt);
  set('seed', meta.seed);
  set('steps', meta.steps);
  set('cfg_scale', meta.cfgScale);
  set('sampler', meta.sampler);
  set('scheduler', meta.scheduler);
  set('model', meta.model);
  set('width', meta.width);
  set('height', meta.height);
  return input;
}

function skipFor(e: unknown, file: string): ImportSkip {
  if (e instanceof MediaError) {
    // checkDownloaded speaks of downloads; only its empty-file message can reach here with that word.
    const reason = e.message.replace(/^The download/, 'The file');
    const kind: SkipKind = e.kind === 'empty' ? 'empty' : e.kind === 'truncated' ? 'truncated' : e.kind === 'unknown-format' ? 'unsupported' : 'corrupt';
    return { file, kind, reason };
  }
  return { file, kind: 'unreadable', reason: `The file could not be read (${(e as NodeJS.ErrnoException)?.code ?? (e instanceof Error ? e.message : String(e))}).` };
}

/** Files looked at together: reading, hashing and the check of one overlap the others' (zlib
 * inflates a PNG, sharp decodes the rest, on libuv's threads), without holding more than a few
 * files in memory (each is written to its temp file before the next is read). */
const IN_FLIGHT = 4;

/** Import image files and folders (walked recursively) into the project at `projectDir`.
 * Returns once every image is stored; thumbnails are made after, in the background
 * (`report.thumbnailsDone`), one at a time, so the import never waits for them. */
export async function importImages(projectDir: string, db: ProjectDb, sources: string[], opts: ImportOptions = {}): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, importedIds: [], products: [], duplicates: [], skipped: [], moreSkipped: 0, recovered: 0, withWarnings: 0, byTool: {}, canceled: false, thumbnailsDone: Promise.resolve() };
  const skip = (s: ImportSkip) => {
    if (report.skipped.length < MAX_LISTED_SKIPS) report.skipped.push(s);
    else report.moreSkipped++;
  };
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_BYTES;
  const maxMegapixels = opts.maxMegapixels ?? DEFAULT_MAX_MEGAPIXELS;
  // The folders' realpath checks are done once per import; every write is still checked.
  const store = new ProductStore(projectDir, db, { rememberFolders: true });
  const now = opts.now ?? (() => new Date());
  const total = opts.onProgress ? await countImportCandidates(sources, projectDir, opts.signal) : 0;
  const thumbnails = opts.makeThumbnails === false ? undefined : new ThumbnailQueue(store, opts.onThumbnail);
  const companions = new CompanionFiles();
  const buffers = new ReadBuffers();
  // What a killed import left is finished first (productBatch.ts), so its products are found
  // here as duplicates, whatever day their files were written on; they are announced like new
  // ones (the gallery has not seen them) and get their thumbnails.
  const recovered = await store.recoverBatches();
  report.recovered = recovered.completed.length;
  for (const p of recovered.completed) {
    opts.onProduct?.(p);
    thumbnails?.add(p);
  }
  // Products are written together, one wave of fsyncs and one journal record per batch, and
  // counted only once durable: a product is reported when its file, sidecar and row are.
  const batch = store.batch<{ file: string; meta: ImageMetadata }>((p, { file, meta }) => {
    storing.delete(p.id);
    report.imported++;
    report.importedIds.push(p.id);
    report.products.push({ file, id: p.id, tool: meta.tool });
    report.byTool[meta.tool] = (report.byTool[meta.tool] ?? 0) + 1;
    if (meta.warnings.length) report.withWarnings++;
    opts.onProduct?.(p);
    thumbnails?.add(p);
  });
  /** Ids being stored right now: the same image twice in one run is a duplicate, not two writes. */
  const storing = new Set<string>();
  let done = 0;
  /** The first failure that is not about one file (a sidecar that cannot be written, a full
   * disk) stops the walk; the files already in flight finish, then it is thrown. */
  let failure: { error: unknown } | undefined;

  const inFlight = new Set<Promise<void>>();
  for await (const file of walkSources(sources, projectDir, skip)) {
    if (opts.signal?.aborted || failure) break;
    const one = importFile(file)
      .catch((error: unknown) => void (failure ??= { error }))
      .finally(() => {
        inFlight.delete(one);
        done++;
        opts.onProgress?.({ done, total: Math.max(total, done), file });
      });
    inFlight.add(one);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await batch.close().catch((error: unknown) => void (failure ??= { error }));
  report.canceled = opts.signal?.aborted === true;
  await db.flush();
  // Thumbnails start once every image is stored: made alongside, they took a core from the
  // import and slowed it by a third (bench/import.ts); until then the gallery shows originals.
  if (thumbnails) report.thumbnailsDone = thumbnails.start();
  if (failure) throw failure.error;
  return report;

  async function importFile(file: string): Promise<void> {
    const slot = buffers.take();
    try {
      await importBytes(file, slot);
    } finally {
      buffers.give(slot);
    }
  }

  async function importBytes(file: string, slot: ReadSlot): Promise<void> {
    let bytes: Buffer;
    let stat: Stats;
    try {
      const read = await readRegularFile(file, slot, maxBytes);
      stat = read.stat;
      if (!stat.isFile()) return skip({ file, kind: 'unsupported', reason: 'Not a regular file.' });
      if (stat.size === 0) return skip({ file, kind: 'empty', reason: 'The file is empty (0 bytes).' });
      if (!read.bytes) return skip({ file, kind: 'too-large', reason: `The file is ${Math.round(stat.size / 1024 / 1024)} MB; images over ${Math.round(maxBytes / 1024 / 1024)} MB are not imported.` });
      bytes = read.bytes;
    } catch (e) {
      return skip(skipFor(e, file));
    }
    const sniffed = sniffMedia(bytes);
    if (!sniffed) {
      const head = bytes.subarray(0, 64).toString('latin1').trim();
      const text = /^[<{[]/.test(head) || ![...head].some((ch) => ch.charCodeAt(0) < 9);
      return skip({ file, kind: 'unsupported', reason: text ? 'The file is text (HTML, JSON or similar), not an image.' : 'Not an image format Art Factory imports (PNG, JPEG, WebP, GIF, AVIF).' });
    }
    if (sniffed.kind !== 'image') return skip({ file, kind: 'unsupported', reason: `This is ${sniffed.kind === 'video' ? 'a video' : 'an audio file'} (${sniffed.mediaType}); only images are imported.` });
    // A duplicate is found by its hash before the (far slower) full decode: its bytes were checked when it was imported.
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const id = importedProductId(sha256);
    if (storing.has(id)) {
      report.duplicates.push({ file, productId: id });
      return;
    }
    storing.add(id);
    let handedOver = false;
    try {
      if (await db.getProduct(id)) {
        report.duplicates.push({ file, productId: id });
        return;
      }
      // The structure is read once (a PNG's chunks: their CRCs, then its text), for every check below.
      const structure = imageStructure(bytes, sniffed.mediaType);
      // The pixel count, from the header, before the full decode below would allocate it.
      const tooMany = overPixelBudget(await pixelCount(bytes, structure), maxMegapixels);
      if (tooMany) return skip({ file, kind: 'too-many-pixels', reason: tooMany });
      let checked: CheckedMedia;
      try {
        checked = await checkDownloaded(bytes, undefined, { minSide: 1, structure, scratch: (n) => slot.scratch(n) });
      } catch (e) {
        return skip(skipFor(e, file));
      }
      const meta = readImageMetadata(bytes, { pngChunks: structure?.pngChunks });
      // An image that carries nothing itself: what some tools write beside it.
      if (meta.tool === 'unknown') readCompanionMetadata(meta, await companions.of(file));
      // Canceled while this file was read: what was not stored yet is not stored.
      if (opts.signal?.aborted) return;
      const when = now();
      const product: ProductRecord = {
        id,
        jobId: `import-${sha256.slice(0, 12)}`,
        provider: IMPORT_PROVIDER,
        model: meta.model ?? 'unknown',
        kind: 'image',
        mediaType: checked.mediaType,
        // Our own path: never the source's name.
        file: `${productDayDir(when)}/${id}.${checked.ext}`,
        width: checked.width,
        height: checked.height,
        bytes: bytes.length,
        sha256,
        input: inputFrom(meta),
        prompt: meta.prompt,
        negativePrompt: meta.negativePrompt,
        seed: meta.seed,
        createdAt: when.toISOString(),
        favorite: false,
        rating: 0,
        tags: [],
        notes: '',
        outputIndex: 0,
        imported: {
          tool: meta.tool,
          fileName: path.basename(file).slice(0, 255),
          sourcePath: file.slice(0, 4096),
          fileModifiedAt: stat.mtime.toISOString(),
          ...(Object.keys(meta.raw).length ? { raw: meta.raw } : {}),
          ...(meta.rawTruncated ? { rawTruncated: true } : {}),
          ...(meta.warnings.length ? { warnings: meta.warnings.slice(0, 20) } : {}),
        },
      };
      // File → sidecar → row, made durable with the rest of its batch. The id stays taken
      // until the row is written.
      await batch.add(product, bytes, { file, meta });
      handedOver = true;
    } finally {
      if (!handedOver) storing.delete(id);
    }
  }
}

/** Buffers for one file in flight, reused by the next file once this one is stored: the one it
 * is read into, and a scratch one (a PNG's image data put end to end for its check). */
class ReadSlot {
  buffer = Buffer.alloc(0);
  private spare = Buffer.alloc(0);

  scratch(bytes: number): Buffer {
    if (bytes > MAX_REUSED_BYTES) return Buffer.allocUnsafe(bytes);
    if (this.spare.length < bytes) this.spare = Buffer.allocUnsafe(bytes);
    return this.spare;
  }
}

/** Reused buffers, one slot per file in flight: an import reads thousands of files of about the
 * same size, and new buffers for each (memory outside the heap that V8 still counts) brought a
 * full garbage collection every eight to thirteen images. Buffers grow to the largest file up to
 * MAX_REUSED_BYTES; a larger file gets its own. */
class ReadBuffers {
  private readonly free: ReadSlot[] = [];

  take(): ReadSlot {
    return this.free.pop() ?? new ReadSlot();
  }

  give(slot: ReadSlot): void {
    this.free.push(slot);
  }
}

const MAX_REUSED_BYTES = 32 * 1024 * 1024;

/** A regular file's bytes (in `slot`'s buffer, valid until the slot is given back) and its stat
 * from the open handle, so the file checked is the file read. `bytes` is absent when it is not a
 * regular file, is empty or is larger than `maxBytes`. Opened non-blocking: a FIFO named as a
 * source must not hang the open. */
async function readRegularFile(file: string, slot: ReadSlot, maxBytes: number): Promise<{ stat: Stats; bytes?: Buffer }> {
  const fh = await fs.open(file, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0));
  try {
    const stat = await fh.stat();
    if (!stat.isFile() || stat.size === 0 || stat.size > maxBytes) return { stat };
    let buffer = slot.buffer;
    if (buffer.length < stat.size) {
      buffer = Buffer.allocUnsafe(stat.size);
      if (stat.size <= MAX_REUSED_BYTES) slot.buffer = buffer;
    }
    // A file that shrank since its stat is what it is now; the checks judge it.
    let got = 0;
    while (got < stat.size) {
      const { bytesRead } = await fh.read(buffer, got, stat.size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { stat, bytes: buffer.subarray(0, got) };
  } finally {
    await fh.close();
  }
}

/** Companion files some tools write beside their images: `<name>.txt` (A1111's option, Easy
 * Diffusion), `<name>.json` (Easy Diffusion), `log.html` per folder (Fooocus). Read only for
 * images that carry no metadata themselves; each folder's log is read once per import. */
class CompanionFiles {
  private readonly logs = new Map<string, Promise<string | undefined>>();

  async of(file: string): Promise<Companions> {
    const dir = path.dirname(file);
    const base = path.join(dir, path.basename(file, path.extname(file)));
    const [txt, json, fooocusLog] = await Promise.all([readSmall(`${base}.txt`, COMPANION_MAX_BYTES), readSmall(`${base}.json`, COMPANION_MAX_BYTES), this.log(dir)]);
    return { fileName: path.basename(file), txt, json, fooocusLog };
  }

  private log(dir: string): Promise<string | undefined> {
    let p = this.logs.get(dir);
    if (!p) {
      // A few folders' logs at a time: a walk through many folders does not keep them all.
      if (this.logs.size >= 8) this.logs.delete(this.logs.keys().next().value!);
      p = readSmall(path.join(dir, 'log.html'), FOOOCUS_LOG_MAX_BYTES);
      this.logs.set(dir, p);
    }
    return p;
  }
}

const COMPANION_MAX_BYTES = 1024 * 1024;
const FOOOCUS_LOG_MAX_BYTES = 32 * 1024 * 1024;

/** A regular file's text, if it exists and is not larger than `max` (symbolic links are not followed). */
async function readSmall(file: string, max: number): Promise<string | undefined> {
  try {
    const st = await fs.lstat(file);
    if (!st.isFile() || st.size > max) return undefined;
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** One line per skipped file, for a log or a details view. */
export function describeSkips(report: ImportReport): string[] {
  const lines = report.skipped.map((s) => `${s.file}: ${s.reason}`);
  if (report.moreSkipped) lines.push(`… and ${report.moreSkipped} more.`);
  return lines;
}
