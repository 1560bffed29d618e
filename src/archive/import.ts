// Import Images: files or folders of images made by other tools become products, with the
// parameters their metadata holds (src/media/imageMetadata.ts). Each image is stored the way
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
import { promises as fs, type Dir, type Stats } from 'node:fs';
import * as path from 'node:path';
import { readImageMetadata, type ImageMetadata } from '../media/imageMetadata.ts';
import { DEFAULT_MAX_MEGAPIXELS, overPixelBudget, pixelCount } from '../media/pixels.ts';
import { checkDownloaded, MediaError, sniffMedia, type CheckedMedia } from '../media/sniff.ts';
import { productDayDir } from '../storage/project.ts';
import { ProductStore } from '../storage/productStore.ts';
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
  /** Files whose image is already a product (same sha256). */
  duplicates: { file: string; productId: string }[];
  skipped: ImportSkip[];
  /** Skipped files beyond those listed. */
  moreSkipped: number;
  /** Imported, but some metadata could not be read. */
  withWarnings: number;
  byTool: Record<string, number>;
  canceled: boolean;
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

/** Import image files and folders (walked recursively) into the project at `projectDir`. */
export async function importImages(projectDir: string, db: ProjectDb, sources: string[], opts: ImportOptions = {}): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, importedIds: [], duplicates: [], skipped: [], moreSkipped: 0, withWarnings: 0, byTool: {}, canceled: false };
  const skip = (s: ImportSkip) => {
    if (report.skipped.length < MAX_LISTED_SKIPS) report.skipped.push(s);
    else report.moreSkipped++;
  };
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_BYTES;
  const maxMegapixels = opts.maxMegapixels ?? DEFAULT_MAX_MEGAPIXELS;
  const store = new ProductStore(projectDir, db);
  const now = opts.now ?? (() => new Date());
  const total = opts.onProgress ? await countImportCandidates(sources, projectDir, opts.signal) : 0;
  let done = 0;

  for await (const file of walkSources(sources, projectDir, skip)) {
    if (opts.signal?.aborted) break;
    try {
      await importOne(file);
    } finally {
      done++;
      opts.onProgress?.({ done, total: Math.max(total, done), file });
    }
  }
  report.canceled = opts.signal?.aborted === true;
  await db.flush();
  return report;

  async function importOne(file: string): Promise<void> {
    let bytes: Buffer;
    let stat: Stats;
    try {
      stat = await fs.stat(file);
      if (!stat.isFile()) return skip({ file, kind: 'unsupported', reason: 'Not a regular file.' });
      if (stat.size === 0) return skip({ file, kind: 'empty', reason: 'The file is empty (0 bytes).' });
      if (stat.size > maxBytes) return skip({ file, kind: 'too-large', reason: `The file is ${Math.round(stat.size / 1024 / 1024)} MB; images over ${Math.round(maxBytes / 1024 / 1024)} MB are not imported.` });
      bytes = await fs.readFile(file);
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
    if (await db.getProduct(id)) {
      report.duplicates.push({ file, productId: id });
      return;
    }
    // The pixel count, from the header, before the full decode below would allocate it.
    const tooMany = overPixelBudget(await pixelCount(bytes), maxMegapixels);
    if (tooMany) return skip({ file, kind: 'too-many-pixels', reason: tooMany });
    let checked: CheckedMedia;
    try {
      checked = await checkDownloaded(bytes, undefined, { minSide: 1 });
    } catch (e) {
      return skip(skipFor(e, file));
    }
    const meta = readImageMetadata(bytes);
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
    // File → sidecar → row, as the engine stores its outputs (a failed sidecar takes the file away).
    await store.put(product, bytes);
    report.imported++;
    report.importedIds.push(id);
    report.byTool[meta.tool] = (report.byTool[meta.tool] ?? 0) + 1;
    if (meta.warnings.length) report.withWarnings++;
    opts.onProduct?.(product);
    if (opts.makeThumbnails !== false) {
      try {
        await store.thumbnail(product);
        opts.onThumbnail?.(id);
      } catch {
        // A thumbnail is rebuildable; the gallery falls back to the file.
      }
    }
  }
}

/** One line per skipped file, for a log or a details view. */
export function describeSkips(report: ImportReport): string[] {
  const lines = report.skipped.map((s) => `${s.file}: ${s.reason}`);
  if (report.moreSkipped) lines.push(`… and ${report.moreSkipped} more.`);
  return lines;
}
