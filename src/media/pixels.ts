// How much memory decoding an image would take, read from its header before anything is
// decoded: a 16383×16383 PNG is 1 MB on disk and 1 GB of pixels. The size comes from the
// image's own structure (imageStructure.ts, no library); the frames of an animation from
// sharp's header read when sharp is there.
import { imageStructure, type ImageStructure } from './imageStructure.ts';
import { loadSharp } from './sharp.ts';
import { sniffMedia } from './sniff.ts';

/** Default decode budget, in megapixels (about 400 MB of RGBA pixels). */
export const DEFAULT_MAX_MEGAPIXELS = 100;

export interface PixelCount {
  width: number;
  height: number;
  /** Frames of an animation (1 for a still). */
  frames: number;
  megapixels: number;
}

/** The image's size from its header; undefined when it cannot be read (the full check that
 * follows reports that). `structure`, when the caller read it already, is not read again. */
export async function pixelCount(bytes: Uint8Array, structure?: ImageStructure): Promise<PixelCount | undefined> {
  const sniffed = sniffMedia(bytes);
  if (sniffed?.kind !== 'image') return undefined;
  structure ??= imageStructure(bytes, sniffed.mediaType);
  let { width = 0, height = 0 } = structure ?? {};
  let frames = 1;
  const sharp = await loadSharp();
  if (sharp && (sniffed.mediaType === 'image/gif' || sniffed.mediaType === 'image/webp' || !width || !height)) {
    try {
      // metadata() parses the header only, whatever the image's size.
      const m = await sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { animated: true, limitInputPixels: false }).metadata();
      frames = Math.max(1, m.pages ?? 1);
      width ||= m.width ?? 0;
      height ||= m.pageHeight ?? Math.round((m.height ?? 0) / frames);
    } catch {
      // the full check reports an unreadable header
    }
  }
  if (!width || !height) return undefined;
  return { width, height, frames, megapixels: (width * height * frames) / 1_000_000 };
}

/** Why an image is over the budget, in words, or undefined when it fits. */
export function overPixelBudget(count: PixelCount | undefined, maxMegapixels: number): string | undefined {
  if (!count || count.megapixels <= maxMegapixels) return undefined;
  const size = `${count.width}×${count.height}${count.frames > 1 ? ` × ${count.frames} frames` : ''}`;
  const mb = count.megapixels * 4; // RGBA bytes per pixel
  const memory = mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`;
  return `The image is ${size} pixels (${Math.round(count.megapixels)} megapixels); decoding it would take about ${memory} of memory, over the ${maxMegapixels}-megapixel budget. Raise the setting artFactory.import.maxMegapixels to import it.`;
}
