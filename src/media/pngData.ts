// Whether a PNG's image data is whole, without an image library: the check that stands in for a
// full decode of the PNGs generators write (8- or 16-bit grey, RGB, with or without alpha). A
// decoder needs, beyond the chunks and their CRCs (pngChunks.ts), exactly three things of the
// data (PNG spec, 10 and 9.2): one zlib stream across consecutive IDAT chunks that inflates
// completely, its Adler-32 matching what it inflates to (zlib checks it at the stream's end), to
// exactly one filter byte plus the packed pixels per row of each pass (Adam7 has seven), with
// every filter byte a known filter (0-4). That is what is checked here, so a PNG damaged
// anywhere in its pixels with CRCs made to match (a faulty writer) is refused as a decode
// refuses it, at half a decode's CPU (zlib alone, no unfiltering, no image library).
// Palette images are left to the decoder: their pixels are indices that must each fall inside
// the palette, which only unpacking every pixel shows.
import { inflate, type ZlibOptions } from 'node:zlib';
import type { PngChunk } from './pngChunks.ts';

/** zlib's inflate with what it consumed (`info`), as a promise. */
function inflateWithInfo(data: Buffer, opts: ZlibOptions): Promise<{ buffer: Buffer; engine: { bytesWritten: number } }> {
  return new Promise((resolve, reject) => {
    inflate(data, { ...opts, info: true } as ZlibOptions, (e, r) => (e ? reject(e) : resolve(r as unknown as { buffer: Buffer; engine: { bytesWritten: number } })));
  });
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
const CRITICAL = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND']);
/** Adam7 passes: x start, y start, x step, y step (PNG spec, 8.2). */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Each pass's rows and bytes per row (the filter byte included); passes with no pixels have none. */
function passes(width: number, height: number, interlaced: boolean, bitsPerPixel: number): { rows: number; stride: number }[] {
  const rowBytes = (w: number) => 1 + Math.ceil((w * bitsPerPixel) / 8);
  if (!interlaced) return [{ rows: height, stride: rowBytes(width) }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({ w: Math.ceil((width - x0) / dx), h: Math.ceil((height - y0) / dy) }))
    .filter((p) => p.w > 0 && p.h > 0)
    .map((p) => ({ rows: p.h, stride: rowBytes(p.w) }));
}

/** The IDAT chunks' data end to end, in `scratch`'s buffer when given (an import reuses one per
 * file in flight, so a 400 KB copy per image does not bring V8's garbage collector sooner). */
function concatInto(idat: PngChunk[], scratch?: (bytes: number) => Buffer): Buffer {
  const total = idat.reduce((n, c) => n + c.data.length, 0);
  if (!scratch) return Buffer.concat(idat.map((c) => c.data), total);
  const out = scratch(total).subarray(0, total);
  let at = 0;
  for (const c of idat) at += c.data.copy(out, at);
  return out;
}

/**
 * Problems with a structurally sound PNG's image data (empty when it is whole), or undefined
 * when this check does not apply and a decoder must look (a palette image). `chunks` are the
 * file's chunks, already checked by pngStructureProblems.
 */
export async function pngDataProblems(chunks: PngChunk[], scratch?: (bytes: number) => Buffer): Promise<string[] | undefined> {
  const ihdr = chunks[0]?.type === 'IHDR' && chunks[0].data.length === 13 ? chunks[0].data : undefined;
  if (!ihdr) return ['The PNG has no IHDR chunk.'];
  const [width, height, depth, colour, interlace] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9], ihdr[12]];
  const channels = CHANNELS[colour];
  if (!channels) return undefined;
  // A critical chunk we do not know (its first letter upper case) means a decoder cannot go on.
  const unknown = chunks.find((c) => c.type.charCodeAt(0) < 0x61 && !CRITICAL.has(c.type));
  if (unknown) return [`The PNG has a critical chunk no decoder knows (${unknown.type}).`];
  const first = chunks.findIndex((c) => c.type === 'IDAT');
  const idat = chunks.filter((c) => c.type === 'IDAT');
  if (first < 0) return ['The file has no image data (IDAT).'];
  if (chunks.slice(first, first + idat.length).some((c) => c.type !== 'IDAT')) return ['The PNG image data (IDAT) is split by other chunks.'];
  const layout = passes(width, height, interlace === 1, depth * channels);
  const expected = layout.reduce((n, p) => n + p.rows * p.stride, 0);
  // Inflated in one go on libuv's threads, into one buffer the size of the image (zlib's default
  // 16 KB pieces are each a trip to those threads and back: 2.7 against 1.5 ms for a 512² PNG);
  // more than the image takes is refused.
  const data = idat.length === 1 ? idat[0].data : concatInto(idat, scratch);
  let raw: Buffer;
  let consumed: number;
  try {
    ({ buffer: raw, engine: { bytesWritten: consumed } } = await inflateWithInfo(data, { maxOutputLength: expected, chunkSize: Math.max(64, Math.min(expected + 1, 64 * 1024 * 1024)) }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return [`The PNG image data inflates to more than the ${expected} bytes its size and format take.`];
    const text = e instanceof Error ? e.message : String(e);
    return [`The PNG image data does not inflate (${text === 'unexpected end of file' ? 'it ends before the image does' : text}).`];
  }
  if (raw.length !== expected) return [`The PNG image data inflates to ${raw.length} bytes; its size and format take ${expected}.`];
  if (consumed < data.length) return [`The PNG image data has ${data.length - consumed} bytes after the end of its compressed stream.`];
  let at = 0;
  for (const [pass, { rows, stride }] of layout.entries()) {
    for (let row = 0; row < rows; row++, at += stride) {
      if (raw[at] > 4) return [`The PNG image data has an unknown row filter (${raw[at]}) in row ${row}${layout.length > 1 ? ` of pass ${pass + 1}` : ''}.`];
    }
  }
  return [];
}
