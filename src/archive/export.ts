// Export Products: copy the originals, or convert to PNG / JPEG / WebP at a chosen size
// (longest side, never upscaled), keeping the generation parameters where other tools look:
//   PNG        the A1111 `parameters` text chunk, plus our `artfactory` chunk with the record;
//   JPEG/WebP  the EXIF UserComment, "UNICODE\0" + UTF-16BE, as A1111 writes it with piexif
//              (sharp's withExif writes UserComment as "ASCII\0\0\0" and turns every character
//              outside ASCII into "?", so the EXIF block is written by src/media/exif.ts).
// Output names are made here (prompt words + product id, letters/digits/dashes only) and a file
// that exists is never overwritten: the next free "-2", "-3" … name is taken, atomically.
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { a1111FromRecord, embedParameters, formatA1111Parameters } from '../media/a1111.ts';
import { embedUserComment } from '../media/exif.ts';
import { requireSharp } from '../media/sharp.ts';
import { sniffMedia } from '../media/sniff.ts';
import { safeFileName } from '../engine/templates.ts';
import { writeFileAtomic } from '../storage/atomic.ts';
import { isDiskFull } from '../storage/errors.ts';
import { layoutOf, ProjectPaths } from '../storage/productPaths.ts';
import type { ProductRecord } from '../storage/types.ts';

export type ExportFormat = 'original' | 'png' | 'jpeg' | 'webp';
export const EXPORT_FORMATS: ExportFormat[] = ['original', 'png', 'jpeg', 'webp'];

export interface ExportItem {
  projectDir: string;
  product: ProductRecord;
}

export interface ExportOptions {
  format: ExportFormat;
  /** Longest side in pixels; larger images are scaled down, smaller ones are left as they are. */
  maxSide?: number;
  /** JPEG / WebP quality, 1–100 (default 90). */
  quality?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ExportReport {
  written: { productId: string; file: string; note?: string }[];
  failed: { productId: string; reason: string }[];
  canceled: boolean;
}

const EXT: Record<Exclude<ExportFormat, 'original'>, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

/** The record as embedded in exported files: machine-specific and private fields left out. */
function shareableRecord(p: ProductRecord): Record<string, unknown> {
  const { bytes: _b, sha256: _s, notes: _n, sourceFile: _f, imported, ...rest } = p;
  if (!imported) return rest;
  const { sourcePath: _p, ...importedRest } = imported;
  return { ...rest, imported: importedRest };
}

/** The A1111 text for a product (what Civitai and A1111's PNG Info read). */
export function parametersText(p: ProductRecord): string {
  return formatA1111Parameters(a1111FromRecord(p));
}

/** A file name from the product: a few prompt words and its id. Never a path. */
export function exportBaseName(p: ProductRecord): string {
  let words = safeFileName((p.prompt ?? '').split(/\s+/).slice(0, 8).join(' '), '').replace(/^-+|-+$/g, '');
  if (words.length > 40) words = words.slice(0, 41).replace(/-[^-]*$/, '') || words.slice(0, 40);
  const id = p.id.replace(/[^\w-]/g, '').slice(0, 80) || 'product';
  return words ? `${words}-${id}` : id;
}

/** Write `data` as `dir/base.ext`, or `base-2.ext`, … — never replacing a file, never leaving a
 * partial one: a temp file is written atomically, then linked (or copied exclusively) in. */
export async function writeNoClobber(dir: string, base: string, ext: string, data: Uint8Array): Promise<string> {
  const tmp = path.join(dir, `.${base}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  await writeFileAtomic(tmp, data);
  try {
    for (let i = 1; i < 10_000; i++) {
      const dest = path.join(dir, `${base}${i === 1 ? '' : `-${i}`}.${ext}`);
      try {
        await fs.link(tmp, dest);
        return dest;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue;
        // File systems without hard links (FAT, some network shares): an exclusive copy.
        try {
          await fs.copyFile(tmp, dest, fsc.COPYFILE_EXCL);
          return dest;
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') continue;
          throw e2;
        }
      }
    }
    throw new Error(`Too many files named ${base}.${ext} in ${dir}.`);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** The exported bytes of one product in the chosen format and size, with its parameters. */
export async function convertProduct(source: string | Buffer, product: ProductRecord, format: Exclude<ExportFormat, 'original'>, opts: { maxSide?: number; quality?: number } = {}): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const sharp = await requireSharp('Converting exports to PNG, JPEG or WebP');
  let img = sharp(source, { failOn: 'none' }).rotate();
  if (opts.maxSide && opts.maxSide > 0) img = img.resize(Math.round(opts.maxSide), Math.round(opts.maxSide), { fit: 'inside', withoutEnlargement: true });
  const quality = Math.max(1, Math.min(100, Math.round(opts.quality ?? 90)));
  const out =
    format === 'png'
      ? await img.png().toBuffer()
      : format === 'jpeg'
        ? await img.flatten({ background: '#ffffff' }).jpeg({ quality, mozjpeg: true }).toBuffer()
        : await img.webp({ quality }).toBuffer();
  if (format === 'png') return { bytes: embedParameters(out, product, JSON.stringify(shareableRecord(product))), truncated: false };
  return embedUserComment(out, parametersText(product));
}

/** Export products into `targetDir`. One that fails (a missing file, say) is reported and the
 * rest go on. */
export async function exportProducts(items: ExportItem[], targetDir: string, opts: ExportOptions): Promise<ExportReport> {
  const report: ExportReport = { written: [], failed: [], canceled: false };
  // Said once for the whole export, not once per product (originals need no sharp).
  if (opts.format !== 'original' && items.some((i) => i.product.kind === 'image')) await requireSharp('Converting exports to PNG, JPEG or WebP');
  for (const [i, { projectDir, product }] of items.entries()) {
    if (opts.signal?.aborted) {
      report.canceled = true;
      break;
    }
    try {
      // The file is read under the project path rule: never a symlink, never outside products/.
      const source = await new ProjectPaths(projectDir).readFile(layoutOf(product).file, 'products', `Product ${product.id}: its file`);
      const base = exportBaseName(product);
      // Only what really is an image is converted; the rest is copied.
      if (opts.format !== 'original' && product.kind === 'image' && sniffMedia(source.subarray(0, 64))?.kind === 'image') {
        const { bytes, truncated } = await convertProduct(source, product, opts.format, opts);
        const file = await writeNoClobber(targetDir, base, EXT[opts.format], bytes);
        report.written.push({ productId: product.id, file, note: truncated ? 'the parameters were too long for EXIF and were shortened' : undefined });
      } else {
        const ext = path.extname(product.file).slice(1).replace(/[^\w]/g, '') || 'bin';
        const file = await writeNoClobber(targetDir, base, ext, source);
        report.written.push({ productId: product.id, file, note: opts.format !== 'original' ? `${product.kind} copied unchanged (only images are converted)` : undefined });
      }
    } catch (e) {
      report.failed.push({ productId: product.id, reason: failureReason(e, product, targetDir) });
    }
    opts.onProgress?.(i + 1, items.length);
  }
  return report;
}

/** Why one product could not be exported, in words (a full or read-only target is named as such). */
function failureReason(e: unknown, product: ProductRecord, targetDir: string): string {
  const err = e as NodeJS.ErrnoException;
  const inTarget = typeof err.path === 'string' && path.resolve(err.path).startsWith(path.resolve(targetDir) + path.sep);
  if (err.code === 'ENOENT' && !inTarget) return `Its file ${product.file} is missing.`;
  if (isDiskFull(e)) return `The disk is full: there is no room for it in ${targetDir}.`;
  if (inTarget && (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS')) return `${targetDir} cannot be written to (${err.code}); choose another folder.`;
  return e instanceof Error ? e.message : String(e);
}
