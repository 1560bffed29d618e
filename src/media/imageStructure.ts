// An image's structure and dimensions read from its bytes alone, with no image library: the
// check a download gets when sharp cannot load (sniff.ts), and a second opinion beside it.
// Each reader walks the container as its specification lays it out and reports what is wrong:
//   PNG   chunks and CRCs (pngChunks.ts), IHDR for the size
//   JPEG  marker segments (ITU T.81 B.1), the entropy-coded data to the EOI marker, SOFn for the size
//   WebP  the RIFF size and its chunks (RFC 9649), VP8 / VP8L / VP8X for the size
//   GIF   blocks and sub-blocks to the trailer (GIF89a spec), the logical screen for the size
//   AVIF  ISO BMFF boxes, item locations inside the file (ISO 14496-12 iloc), ispe for the size
// What it cannot see is damage inside compressed pixel data: only a decode finds that.
import { pngStructureProblems, readPngChunks, type PngChunk } from './pngChunks.ts';

export interface ImageStructure {
  width?: number;
  height?: number;
  /** Empty when the structure is sound. */
  problems: string[];
  /** The file ends before its structure does (a cut-off download). */
  truncated: boolean;
  /** A PNG's chunks, read once here for whoever reads the file next (its text, its pixels). */
  pngChunks?: PngChunk[];
}

class Cut extends Error {}

/** Bounds-checked big/little-endian reads that throw Cut past the end. */
class Reader {
  constructor(readonly b: Uint8Array) {}
  need(at: number, n: number): void {
    if (at < 0 || at + n > this.b.length) throw new Cut();
  }
  u8(at: number): number {
    this.need(at, 1);
    return this.b[at];
  }
  u16be(at: number): number {
    this.need(at, 2);
    return (this.b[at] << 8) | this.b[at + 1];
  }
  u16le(at: number): number {
    this.need(at, 2);
    return this.b[at] | (this.b[at + 1] << 8);
  }
  u24le(at: number): number {
    this.need(at, 3);
    return this.b[at] | (this.b[at + 1] << 8) | (this.b[at + 2] << 16);
  }
  u32be(at: number): number {
    this.need(at, 4);
    return ((this.b[at] << 24) | (this.b[at + 1] << 16) | (this.b[at + 2] << 8) | this.b[at + 3]) >>> 0;
  }
  u32le(at: number): number {
    this.need(at, 4);
    return (this.b[at] | (this.b[at + 1] << 8) | (this.b[at + 2] << 16) | (this.b[at + 3] << 24)) >>> 0;
  }
  /** Unsigned big-endian of 0, 4 or 8 bytes (BMFF sizes and offsets). */
  uintBe(at: number, size: number): number {
    if (size === 0) return 0;
    if (size === 4) return this.u32be(at);
    if (size === 8) return this.u32be(at) * 2 ** 32 + this.u32be(at + 4);
    throw new Error(`unsupported field size ${size}`);
  }
  ascii(at: number, n: number): string {
    this.need(at, n);
    return String.fromCharCode(...this.b.subarray(at, at + n));
  }
}

function result(width: number | undefined, height: number | undefined, problems: string[], truncated = false): ImageStructure {
  return { width, height, problems, truncated };
}

/** Runs a reader; running past the end of the file is a truncation. */
function guarded(format: string, read: (r: Reader) => ImageStructure): (b: Uint8Array) => ImageStructure {
  return (b) => {
    try {
      return read(new Reader(b));
    } catch (e) {
      if (e instanceof Cut) return result(undefined, undefined, [`The ${format} file ends in the middle of its structure (truncated).`], true);
      return result(undefined, undefined, [`The ${format} structure cannot be read: ${e instanceof Error ? e.message : String(e)}`]);
    }
  };
}

export const pngStructure = (b: Uint8Array): ImageStructure => {
  let chunks: PngChunk[] | undefined;
  try {
    chunks = readPngChunks(b);
  } catch {
    // pngStructureProblems says what is wrong
  }
  const problems = pngStructureProblems(b, chunks);
  const truncated = problems.some((p) => /cut short|past the end|without an IEND/.test(p));
  const r = new Reader(b);
  const ihdr = b.length >= 24 && r.ascii(12, 4) === 'IHDR';
  return { ...result(ihdr ? r.u32be(16) : undefined, ihdr ? r.u32be(20) : undefined, problems, truncated), pngChunks: chunks };
};

// SOF0–SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

export const jpegStructure = guarded('JPEG', (r) => {
  const b = r.b;
  if (r.u16be(0) !== 0xffd8) return result(undefined, undefined, ['The JPEG file does not start with SOI.']);
  let at = 2;
  let width: number | undefined;
  let height: number | undefined;
  let scans = 0;
  for (;;) {
    if (r.u8(at) !== 0xff) return result(width, height, [`The JPEG has no marker where one belongs (byte ${at}).`]);
    while (r.u8(at) === 0xff) at++; // fill bytes
    const m = r.u8(at);
    at++;
    if (m === 0xd9) break; // EOI: whatever follows is ignored, as decoders do
    if (m === 0xd8 || m === 0x00) return result(width, height, [`The JPEG has a misplaced marker 0x${m.toString(16)} at byte ${at - 1}.`]);
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) continue; // RSTn and TEM stand alone
    const len = r.u16be(at);
    if (len < 2) return result(width, height, [`The JPEG segment at byte ${at} has a bad length.`]);
    r.need(at, len);
    if (isSof(m)) {
      height = r.u16be(at + 3);
      width = r.u16be(at + 5);
    }
    at += len;
    if (m === 0xda) {
      if (width === undefined) return result(width, height, ['The JPEG starts a scan before its frame header (SOF).']);
      scans++;
      // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte) or RSTn inside it; any
      // other byte after 0xFF is the next marker.
      for (;;) {
        const ff = b.indexOf(0xff, at);
        if (ff < 0 || ff + 1 >= b.length) throw new Cut();
        const next = b[ff + 1];
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          at = next === 0xff ? ff + 1 : ff + 2;
          continue;
        }
        at = ff;
        break;
      }
    }
  }
  const problems: string[] = [];
  if (scans === 0) problems.push('The JPEG has no image data (no scan).');
  if (!width || !height) problems.push('The JPEG frame header gives no size.');
  return result(width, height, problems);
});

export const webpStructure = guarded('WebP', (r) => {
  const riffEnd = 8 + r.u32le(4);
  if (r.b.length < riffEnd) return result(undefined, undefined, [`The WebP file is ${r.b.length} bytes but its RIFF header says ${riffEnd} (truncated).`], true);
  let width: number | undefined;
  let height: number | undefined;
  let image = false;
  let first = true;
  for (let at = 12; at < riffEnd; ) {
    if (at + 8 > riffEnd) return result(width, height, [`The WebP chunk at byte ${at} runs past the end of the file.`], true);
    const type = r.ascii(at, 4);
    const size = r.u32le(at + 4);
    const data = at + 8;
    if (data + size > riffEnd) return result(width, height, [`The WebP ${type.trim()} chunk at byte ${at} runs past the end of the file.`], true);
    if (type === 'VP8 ') {
      if (r.u8(data) & 1 || r.u8(data + 3) !== 0x9d || r.u8(data + 4) !== 0x01 || r.u8(data + 5) !== 0x2a) return result(width, height, ['The WebP VP8 data does not start with a key frame.']);
      if (first) [width, height] = [r.u16le(data + 6) & 0x3fff, r.u16le(data + 8) & 0x3fff];
      image = true;
    } else if (type === 'VP8L') {
      if (r.u8(data) !== 0x2f) return result(width, height, ['The WebP lossless data has a bad signature.']);
      const bits = r.u32le(data + 1);
      if (first) [width, height] = [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
      image = true;
    } else if (type === 'VP8X') {
      if (!first) return result(width, height, ['The WebP VP8X chunk is not the first chunk.']);
      [width, height] = [r.u24le(data + 4) + 1, r.u24le(data + 7) + 1];
    } else if (type === 'ANMF') {
      image = true; // animation frames hold their own VP8/VP8L data
    }
    first = false;
    at = data + size + (size & 1);
  }
  const problems: string[] = [];
  if (!image) problems.push('The WebP file has no image data.');
  if (!width || !height) problems.push('The WebP file gives no size.');
  return result(width, height, problems);
});

export const gifStructure = guarded('GIF', (r) => {
  const width = r.u16le(6);
  const height = r.u16le(8);
  const packed = r.u8(10);
  let at = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
  const subBlocks = () => {
    for (let n = r.u8(at); n !== 0; n = r.u8(at)) at += 1 + n;
    at++;
  };
  let frames = 0;
  for (;;) {
    const block = r.u8(at);
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      at += 2; // introducer, label
      subBlocks();
    } else if (block === 0x2c) {
      const local = r.u8(at + 9);
      at += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0);
      r.u8(at); // LZW minimum code size
      at++;
      subBlocks();
      frames++;
    } else {
      return result(width, height, [`The GIF has an unknown block 0x${block.toString(16)} at byte ${at}.`]);
    }
  }
  const problems: string[] = [];
  if (frames === 0) problems.push('The GIF has no image.');
  if (!width || !height) problems.push('The GIF gives no size.');
  return result(width, height, problems);
});

interface Box {
  type: string;
  start: number;
  data: number;
  end: number;
}

/** The boxes between `from` and `to`; a box that runs past `to` is a truncation. */
function boxes(r: Reader, from: number, to: number): Box[] {
  const out: Box[] = [];
  for (let at = from; at < to; ) {
    if (at + 8 > to) throw new Cut();
    let size = r.u32be(at);
    const type = r.ascii(at + 4, 4);
    let data = at + 8;
    if (size === 1) {
      size = r.uintBe(at + 8, 8);
      data += 8;
    } else if (size === 0) size = to - at;
    if (size < data - at) throw new Error(`the ${type} box at byte ${at} has a bad size`);
    if (at + size > to) throw new Cut();
    out.push({ type, start: at, data, end: at + size });
    at += size;
  }
  return out;
}

/** The first `type` box inside `parent`; a full box parent (meta) has 4 bytes of version and flags first. */
const child = (r: Reader, parent: Box | undefined, type: string, parentIsFullBox = false): Box | undefined =>
  parent ? boxes(r, parent.data + (parentIsFullBox ? 4 : 0), parent.end).find((x) => x.type === type) : undefined;

/** The primary item's ispe size, else the first ispe (HEIF's property associations). */
function heifSize(r: Reader, meta: Box): { width?: number; height?: number } {
  const iprp = child(r, meta, 'iprp', true);
  const ipco = child(r, iprp, 'ipco');
  if (!ipco) return {};
  const props = boxes(r, ipco.data, ipco.end);
  const ispe = (p: Box | undefined) => (p?.type === 'ispe' ? { width: r.u32be(p.data + 4), height: r.u32be(p.data + 8) } : undefined);
  const pitm = child(r, meta, 'pitm', true);
  const ipma = iprp && boxes(r, iprp.data, iprp.end).find((x) => x.type === 'ipma');
  if (pitm && ipma) {
    const primary = r.u8(pitm.data) === 0 ? r.u16be(pitm.data + 4) : r.u32be(pitm.data + 4);
    const version = r.u8(ipma.data);
    const wide = r.u8(ipma.data + 3) & 1;
    let at = ipma.data + 4;
    const count = r.u32be(at);
    at += 4;
    for (let i = 0; i < count; i++) {
      const id = version < 1 ? r.u16be(at) : r.u32be(at);
      at += version < 1 ? 2 : 4;
      const n = r.u8(at++);
      for (let j = 0; j < n; j++) {
        const index = (wide ? r.u16be(at) & 0x7fff : r.u8(at) & 0x7f) - 1;
        at += wide ? 2 : 1;
        const size = id === primary ? ispe(props[index]) : undefined;
        if (size) return size;
      }
    }
  }
  return ispe(props.find((p) => p.type === 'ispe')) ?? {};
}

/** Item data extents (iloc, construction method 0) that reach past the end of the file. */
function ilocProblems(r: Reader, meta: Box): string[] {
  const iloc = child(r, meta, 'iloc', true);
  if (!iloc) return ['The AVIF file has no item locations (iloc).'];
  const version = r.u8(iloc.data);
  let at = iloc.data + 4;
  const sizes = r.u16be(at);
  at += 2;
  const [offsetSize, lengthSize, baseSize, indexSize] = [sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15, version > 0 ? sizes & 15 : 0];
  const count = version < 2 ? r.u16be(at) : r.u32be(at);
  at += version < 2 ? 2 : 4;
  const problems: string[] = [];
  for (let i = 0; i < count; i++) {
    at += version < 2 ? 2 : 4; // item id
    let method = 0;
    if (version > 0) {
      method = r.u16be(at) & 15;
      at += 2;
    }
    at += 2; // data reference index
    const base = r.uintBe(at, baseSize);
    at += baseSize;
    const extents = r.u16be(at);
    at += 2;
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      const offset = r.uintBe(at, offsetSize);
      at += offsetSize;
      const length = r.uintBe(at, lengthSize);
      at += lengthSize;
      if (method === 0 && base + offset + length > r.b.length) problems.push(`Image data at byte ${base + offset} (${length} bytes) lies past the end of the file (truncated).`);
    }
  }
  return problems;
}

/** A track's tkhd size (16.16 fixed point), for image sequences without a primary item. */
function trackSize(r: Reader, moov: Box): { width?: number; height?: number } {
  for (const trak of boxes(r, moov.data, moov.end).filter((x) => x.type === 'trak')) {
    const tkhd = child(r, trak, 'tkhd');
    if (!tkhd) continue;
    const at = tkhd.data + (r.u8(tkhd.data) === 1 ? 88 : 76);
    const width = r.u32be(at) >>> 16;
    const height = r.u32be(at + 4) >>> 16;
    if (width && height) return { width, height };
  }
  return {};
}

export const avifStructure = guarded('AVIF', (r) => {
  const top = boxes(r, 0, r.b.length);
  const meta = top.find((x) => x.type === 'meta');
  const moov = top.find((x) => x.type === 'moov');
  if (!meta && !moov) return result(undefined, undefined, ['The AVIF file has no image items (meta) or tracks (moov).']);
  const problems = meta ? ilocProblems(r, meta) : [];
  const { width, height } = meta ? heifSize(r, meta) : {};
  const size = width && height ? { width, height } : moov ? trackSize(r, moov) : {};
  if (!meta && !top.some((x) => x.type === 'mdat')) problems.push('The AVIF file has no media data (mdat).');
  if (!size.width || !size.height) problems.push('The AVIF file gives no size (ispe).');
  return result(size.width, size.height, problems, problems.some((p) => p.includes('truncated')));
});

const READERS: Record<string, (b: Uint8Array) => ImageStructure> = {
  'image/png': pngStructure,
  'image/jpeg': jpegStructure,
  'image/webp': webpStructure,
  'image/gif': gifStructure,
  'image/avif': avifStructure,
};

/** The structure of an image of a sniffed media type; undefined for types we cannot read. */
export function imageStructure(bytes: Uint8Array, mediaType: string): ImageStructure | undefined {
  return READERS[mediaType]?.(bytes);
}
