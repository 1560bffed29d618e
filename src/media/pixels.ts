// How much memory decoding an image would take, read from its header before anything is
// decoded: a 16383×16383 PNG is 1 MB on disk and 1 GB of pixels. sharp's metadata() parses
// only the header (width, height, frames), so this costs microseconds whatever the image.

/** Default decode budget, in megapixels (about 400 MB of RGBA pixels). */
export const DEFAULT_MAX_MEGAPIXELS = 100;

export interface PixelCount {
  width: number;
  height: number;
  /** Frames of an animation (1 for a still). */
  frames: number;
  megapixels: number;
}

/** The image's size from its header; undefined when the header cannot be read (the full decode
 * check reports that). */
export async function pixelCount(bytes: Uint8Array): Promise<PixelCount | undefined> {
  const { default: sharp } = await import('sharp');
  try {
    const m = await sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { animated: true, limitInputPixels: false }).metadata();
    const frames = Math.max(1, m.pages ?? 1);
    const width = m.width ?? 0;
    // With `animated`, height is every frame stacked; pageHeight is one frame.
    const height = m.pageHeight ?? Math.round((m.height ?? 0) / frames);
    return { width, height, frames, megapixels: (width * height * frames) / 1_000_000 };
  } catch {
    return undefined;
  }
}

/** Why an image is over the budget, in words, or undefined when it fits. */
export function overPixelBudget(count: PixelCount | undefined, maxMegapixels: number): string | undefined {
  if (!count || count.megapixels <= maxMegapixels) return undefined;
  const size = `${count.width}×${count.height}${count.frames > 1 ? ` × ${count.frames} frames` : ''}`;
  const mb = count.megapixels * 4; // RGBA bytes per pixel
  const memory = mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`;
  return `The image is ${size} pixels (${Math.round(count.megapixels)} megapixels); decoding it would take about ${memory} of memory, over the ${maxMegapixels}-megapixel budget. Raise the setting artFactory.import.maxMegapixels to import it.`;
}
