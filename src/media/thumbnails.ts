// WebP thumbnails in two sizes, made in the background: the gallery never waits for them.
// Without sharp there are none, and the gallery scales the original instead.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { requireSharp } from './sharp.ts';

export const THUMB_SIZES = { small: 256, large: 768 } as const;

export function thumbnailPaths(outDir: string, id: string): { small: string; large: string } {
  return { small: path.join(outDir, `${id}-${THUMB_SIZES.small}.webp`), large: path.join(outDir, `${id}-${THUMB_SIZES.large}.webp`) };
}

/** WebP encoding effort (0-6). sharp's default, 4, takes 2.4 times as long as 1 for thumbnails
 * of the same size and look (measured on 512² and 1024² pictures); thumbnails are many and small. */
const WEBP_EFFORT = 1;

export type ThumbSize = keyof typeof THUMB_SIZES;

/** Writes `<id>-256.webp` and `<id>-768.webp` (long side, never upscaled) atomically, from one
 * decode of the source, or only the sizes asked for. Throws SharpUnavailableError when sharp
 * cannot load. */
export async function makeThumbnails(srcPath: string, outDir: string, id: string, sizes: readonly ThumbSize[] = ['small', 'large']): Promise<Partial<Record<ThumbSize, string>>> {
  const sharp = await requireSharp('Making thumbnails');
  await fs.mkdir(outDir, { recursive: true });
  const all = thumbnailPaths(outDir, id);
  // Decoded and scaled once to the largest size asked for; a smaller one is made from those pixels.
  const largest = Math.max(...sizes.map((k) => THUMB_SIZES[k]));
  const { data, info } = await sharp(srcPath, { failOn: 'none' })
    .rotate()
    .resize(largest, largest, { fit: 'inside', withoutEnlargement: true })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const pixels = () => sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  const out: Partial<Record<ThumbSize, string>> = {};
  for (const key of sizes) {
    const size = THUMB_SIZES[key];
    // Its own temp name (the form of storage/atomic.ts tempNameFor): two makers of the same
    // thumbnail (a job's, a gallery's) never share one.
    const tmp = `${all[key]}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await pixels().resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: key === 'small' ? 72 : 80, effort: WEBP_EFFORT }).toFile(tmp);
      await fs.rename(tmp, all[key]);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    out[key] = all[key];
  }
  return out;
}

export async function imageSize(file: string): Promise<{ width?: number; height?: number }> {
  const sharp = await requireSharp('Reading an image size');
  const m = await sharp(file).metadata();
  return { width: m.width, height: m.pageHeight ?? m.height };
}
