// What a downloaded file really is, by its magic bytes, and whether it decodes fully.
// Providers' claims (content type, file name) are never trusted on their own.
import { imageStructure, type ImageStructure } from './imageStructure.ts';
import { pngDataProblems } from './pngData.ts';
import { loadSharp } from './sharp.ts';

/** For provider outputs: smaller images are placeholders (a blank 1×1 from a refused or
 * failed run), not results. */
export const MIN_OUTPUT_SIDE = 8;

export type MediaKind = 'image' | 'video' | 'audio';

export interface SniffedMedia {
  mediaType: string;
  ext: string;
  kind: MediaKind;
}

export interface CheckedMedia extends SniffedMedia {
  width?: number;
  height?: number;
  /** How a still image was checked: decoded in full by sharp; a PNG without a palette by its
   * whole image data (pngData.ts: what a decode finds, without one); or (sharp could not load)
   * by its structure only, which cannot see damage inside the compressed pixels. */
  checkedBy?: 'decode' | 'data' | 'structure';
}

export class MediaError extends Error {
  override readonly name = 'MediaError';
  constructor(
    readonly kind: 'empty' | 'unknown-format' | 'mismatch' | 'truncated' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

function ascii(b: Uint8Array, at: number, len: number): string {
  return String.fromCharCode(...b.subarray(at, at + len));
}

function startsWith(b: Uint8Array, sig: number[], at = 0): boolean {
  return b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
}

export function sniffMedia(b: Uint8Array): SniffedMedia | undefined {
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mediaType: 'image/png', ext: 'png', kind: 'image' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { mediaType: 'image/jpeg', ext: 'jpg', kind: 'image' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { mediaType: 'image/webp', ext: 'webp', kind: 'image' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE') return { mediaType: 'audio/wav', ext: 'wav', kind: 'audio' };
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return { mediaType: 'image/gif', ext: 'gif', kind: 'image' };
  if (ascii(b, 4, 4) === 'ftyp') {
    const brand = ascii(b, 8, 4);
    if (brand === 'avif' || brand === 'avis') return { mediaType: 'image/avif', ext: 'avif', kind: 'image' };
    if (brand === 'qt  ') return { mediaType: 'video/quicktime', ext: 'mov', kind: 'video' };
    if (brand.startsWith('M4A')) return { mediaType: 'audio/mp4', ext: 'm4a', kind: 'audio' };
    return { mediaType: 'video/mp4', ext: 'mp4', kind: 'video' };
  }
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) {
    // EBML: WebM declares its doctype near the start; anything else is Matroska.
    const head = ascii(b, 0, Math.min(64, b.length));
    return head.includes('webm') ? { mediaType: 'video/webm', ext: 'webm', kind: 'video' } : { mediaType: 'video/x-matroska', ext: 'mkv', kind: 'video' };
  }
  if (ascii(b, 0, 4) === 'OggS') return { mediaType: 'audio/ogg', ext: 'ogg', kind: 'audio' };
  if (ascii(b, 0, 4) === 'fLaC') return { mediaType: 'audio/flac', ext: 'flac', kind: 'audio' };
  if (ascii(b, 0, 3) === 'ID3' || (b.length > 2 && b[0] === 0xff && (b[1] & 0xe0) === 0xe0 && (b[1] & 0x06) !== 0)) return { mediaType: 'audio/mpeg', ext: 'mp3', kind: 'audio' };
  return undefined;
}

/** Media types that name the same format family (image/jpg is jpeg, etc.). */
function family(mediaType: string): string {
  const t = mediaType.split(';')[0].trim().toLowerCase();
  const alias: Record<string, string> = { 'image/jpg': 'image/jpeg', 'image/pjpeg': 'image/jpeg', 'audio/mp3': 'audio/mpeg', 'audio/x-wav': 'audio/wav', 'audio/wave': 'audio/wav', 'video/x-m4v': 'video/mp4' };
  return alias[t] ?? t;
}

/** Checks that a provider's claim fits what the bytes are. A generic claim
 * (application/octet-stream, binary/octet-stream, empty) fits anything we recognise. */
function claimFits(claimed: string | undefined, sniffed: SniffedMedia): boolean {
  if (!claimed) return true;
  const c = family(claimed);
  if (c === '' || c === 'application/octet-stream' || c === 'binary/octet-stream') return true;
  if (c === sniffed.mediaType) return true;
  // Containers overlap: mp4/quicktime, webm/matroska.
  const groups = [
    ['video/mp4', 'video/quicktime', 'audio/mp4'],
    ['video/webm', 'video/x-matroska', 'audio/webm'],
  ];
  return groups.some((g) => g.includes(c) && g.includes(sniffed.mediaType));
}

/** Larger images are refused, as sharp's own decompression-bomb guard does. */
const MAX_PIXELS = 268_402_689;

/**
 * Accepts a download only if its bytes are a known format matching the claim and, for still
 * images, decode completely (truncated or corrupt data is refused): a PNG without a palette by
 * its whole image data (pngData.ts), any other image by sharp. Without sharp, such an image is
 * checked by its structure and size instead. Throws MediaError.
 */
export async function checkDownloaded(bytes: Uint8Array, claimedMediaType?: string, opts: { minSide?: number; structure?: ImageStructure; scratch?: (bytes: number) => Buffer } = {}): Promise<CheckedMedia> {
  const minSide = opts.minSide ?? 1;
  if (bytes.length === 0) throw new MediaError('empty', 'The download is empty (0 bytes).');
  const sniffed = sniffMedia(bytes);
  if (!sniffed) {
    const head = ascii(bytes, 0, Math.min(64, bytes.length)).trim().toLowerCase();
    const looksLikeText = head.startsWith('<') || head.startsWith('{');
    throw new MediaError('unknown-format', looksLikeText ? 'The download is a text or HTML page, not media (an error page from the provider?).' : 'The download is not an image, video or audio file we recognise.');
  }
  if (!claimFits(claimedMediaType, sniffed)) {
    throw new MediaError('mismatch', `The provider said ${claimedMediaType} but the file is ${sniffed.mediaType}.`);
  }
  if (sniffed.kind !== 'image') return sniffed;
  const structure = opts.structure ?? imageStructure(bytes, sniffed.mediaType);
  const refuse = (problem: string, truncated: boolean) => new MediaError(truncated ? 'truncated' : 'corrupt', `The ${sniffed.ext.toUpperCase()} file is ${truncated ? 'truncated' : 'damaged'}: ${problem}`);
  // libpng inside sharp tolerates some damage (a wrong IDAT CRC); a download must be sound.
  if (sniffed.mediaType === 'image/png' && structure?.problems.length) throw refuse(structure.problems[0], structure.truncated);
  const tooSmall = (width: number, height: number) => new MediaError('empty', `The image is only ${width}×${height} pixels: a blank placeholder, not a result.`);
  /** The size the structure gives, checked as a decode would check it. */
  const bySize = (s: ImageStructure, checkedBy: CheckedMedia['checkedBy']): CheckedMedia => {
    const width = s.width ?? 0;
    const height = s.height ?? 0;
    if (width < minSide || height < minSide) throw tooSmall(width, height);
    if (width * height > MAX_PIXELS) throw new MediaError('corrupt', `The image is ${width}×${height} pixels, more than the ${MAX_PIXELS.toLocaleString('en')} accepted.`);
    return { ...sniffed, width, height, checkedBy };
  };
  // Most generated images are PNGs without a palette: their data is checked whole by zlib at a
  // fraction of a decode's cost (bench/import.ts), with or without sharp.
  if (sniffed.mediaType === 'image/png' && structure?.pngChunks) {
    // The size first: a few KB of zlib can claim gigabytes of pixels, refused before inflating.
    const sized = bySize(structure, 'data');
    const problems = await pngDataProblems(structure.pngChunks, opts.scratch);
    if (problems?.length) throw refuse(problems[0], false);
    if (problems) return sized;
  }
  const sharp = await loadSharp();
  if (!sharp) {
    // No decoder here: the structure and size are what can be checked (sharp.ts says so once).
    if (!structure) throw new MediaError('unknown-format', `A ${sniffed.mediaType} file cannot be checked without the image library sharp.`);
    if (structure.problems.length) throw refuse(structure.problems[0], structure.truncated);
    return bySize(structure, 'structure');
  }
  try {
    // failOn 'warning' turns libpng/libjpeg warnings (bad CRCs, truncation, trailing junk) into errors.
    const animated = sniffed.mediaType === 'image/gif';
    const img = sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { failOn: 'warning', animated, limitInputPixels: MAX_PIXELS });
    // The decode's own output says the size; only an animation needs its header for the frame height.
    const meta = animated ? await img.metadata() : undefined;
    const { info } = await img.raw().toBuffer({ resolveWithObject: true });
    const width = meta?.width ?? info.width ?? 0;
    const height = meta ? (meta.pageHeight ?? meta.height ?? 0) : (info.height ?? 0);
    if (width < minSide || height < minSide) throw tooSmall(width, height);
    return { ...sniffed, width, height, checkedBy: 'decode' };
  } catch (e) {
    if (e instanceof MediaError) throw e;
    const text = e instanceof Error ? e.message : String(e);
    const truncated = /truncat|premature|end of (file|data)|unexpected end|not enough|too short|read error/i.test(text);
    throw new MediaError(truncated ? 'truncated' : 'corrupt', `The ${sniffed.ext.toUpperCase()} file is ${truncated ? 'truncated' : 'damaged'} (${text.split('\n')[0]}).`);
  }
}
