// A small, independent EXIF reader/writer for what image tools put there: the generation
// parameters in the Exif IFD's UserComment (tag 0x9286), Software and MakerNote (Fooocus names
// its metadata scheme there), ImageDescription and Artist (Midjourney), and Make / Model, where
// ComfyUI's WebP and animated savers write "workflow:{…}" and "prompt:{…}" (nodes_images.py).
// The XMP packet of a JPEG (APP1 "http://ns.adobe.com/xap/1.0/") or WebP ("XMP " chunk) is
// returned as text (Draw Things, Midjourney).
//
// Where it lives, by container:
//   JPEG  APP1 segment "Exif\0\0" + TIFF                       (A1111: piexif.insert)
//   WebP  RIFF "EXIF" chunk, TIFF (some writers keep "Exif\0\0")  (A1111: piexif.insert)
//   PNG   "eXIf" chunk, TIFF (rare)
// UserComment is an 8-byte character code then the text (EXIF 2.3 §4.6.5):
//   "UNICODE\0" + UTF-16 (piexif, and so A1111, writes big-endian whatever the TIFF order;
//   others follow the TIFF order or add a BOM), "ASCII\0\0\0" + text, 8 NULs (undefined).
//   Pillow (Fooocus) writes the text with no code at all.
// Everything read here is untrusted: every offset is bounds-checked, counts are capped, and a
// damaged block yields nothing rather than an exception that could fail an import.
import { readPngChunks, type PngChunk } from './pngChunks.ts';
import { sniffMedia } from './sniff.ts';

export interface ExifText {
  userComment?: string;
  software?: string;
  makerNote?: string;
  imageDescription?: string;
  artist?: string;
  make?: string;
  model?: string;
}

const TAG_EXIF_IFD = 0x8769;
const TAG_USER_COMMENT = 0x9286;
const TAG_SOFTWARE = 0x0131;
const TAG_MAKER_NOTE = 0x927c;
const TAG_IMAGE_DESCRIPTION = 0x010e;
const TAG_MAKE = 0x010f;
const TAG_MODEL = 0x0110;
const TAG_ARTIST = 0x013b;
const XMP_HEADER = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
/** Text longer than this is cut when read (the raw bytes stay in the file). */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;
const MAX_ENTRIES = 512;
const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');

function trimNuls(s: string): string {
  return s.replace(/\0+$/, '');
}

function decodeUtf8OrLatin1(b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  }
}

/** UTF-16 without a reliable order mark: ASCII-heavy text has its zero bytes on the high side,
 * so count zeros at even and odd positions. A tie falls back to the TIFF byte order. */
function utf16Order(body: Uint8Array, littleEndian: boolean): 'le' | 'be' {
  let even = 0;
  let odd = 0;
  const n = Math.min(body.length - (body.length % 2), 4096);
  for (let i = 0; i < n; i += 2) {
    if (body[i] === 0) even++;
    if (body[i + 1] === 0) odd++;
  }
  if (even > odd) return 'be';
  if (odd > even) return 'le';
  return littleEndian ? 'le' : 'be';
}

export function decodeUserComment(raw: Uint8Array, littleEndian = false): string {
  const code = Buffer.from(raw.buffer, raw.byteOffset, Math.min(8, raw.byteLength)).toString('latin1');
  const body = raw.subarray(8);
  if (code === 'UNICODE\0') {
    let order = utf16Order(body, littleEndian);
    let start = 0;
    if (body[0] === 0xfe && body[1] === 0xff) [order, start] = ['be', 2];
    else if (body[0] === 0xff && body[1] === 0xfe) [order, start] = ['le', 2];
    const text = body.subarray(start, start + ((body.length - start) & ~1));
    return trimNuls(new TextDecoder(order === 'le' ? 'utf-16le' : 'utf-16be').decode(text));
  }
  if (code === 'ASCII\0\0\0' || code === '\0\0\0\0\0\0\0\0') return trimNuls(decodeUtf8OrLatin1(body));
  if (code.startsWith('JIS\0')) return '';
  return trimNuls(decodeUtf8OrLatin1(raw));
}

/** The text fields of a TIFF block (the body of an EXIF segment or chunk). Never throws. */
export function parseTiffText(input: Uint8Array): ExifText {
  let tiff = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (tiff.subarray(0, 6).equals(EXIF_HEADER)) tiff = tiff.subarray(6);
  const out: ExifText = {};
  if (tiff.length < 8) return out;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return out;
  const le = order === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return out;

  /** One IFD's entries: tag → raw value bytes (inline or at the offset). */
  const readIfd = (offset: number): Map<number, { type: number; bytes: Uint8Array; value: number }> => {
    const entries = new Map<number, { type: number; bytes: Uint8Array; value: number }>();
    if (offset < 8 || offset + 2 > tiff.length) return entries;
    const count = Math.min(u16(offset), MAX_ENTRIES);
    for (let i = 0; i < count; i++) {
      const at = offset + 2 + i * 12;
      if (at + 12 > tiff.length) break;
      const tag = u16(at);
      const type = u16(at + 2);
      const n = u32(at + 4);
      const unit = type === 3 || type === 8 ? 2 : type === 4 || type === 9 ? 4 : type === 5 || type === 10 ? 8 : 1;
      const size = n * unit;
      if (size > MAX_TEXT_BYTES) continue;
      let bytes: Uint8Array;
      if (size <= 4) bytes = tiff.subarray(at + 8, at + 8 + size);
      else {
        const ptr = u32(at + 8);
        if (ptr + size > tiff.length) continue;
        bytes = tiff.subarray(ptr, ptr + size);
      }
      entries.set(tag, { type, bytes, value: type === 3 ? u16(at + 8) : u32(at + 8) });
    }
    return entries;
  };

  try {
    const ifd0 = readIfd(u32(4));
    const ascii = (e?: { bytes: Uint8Array }) => (e ? trimNuls(decodeUtf8OrLatin1(e.bytes)) || undefined : undefined);
    out.software = ascii(ifd0.get(TAG_SOFTWARE));
    out.imageDescription = ascii(ifd0.get(TAG_IMAGE_DESCRIPTION));
    out.artist = ascii(ifd0.get(TAG_ARTIST));
    out.make = ascii(ifd0.get(TAG_MAKE));
    out.model = ascii(ifd0.get(TAG_MODEL));
    const exifPtr = ifd0.get(TAG_EXIF_IFD);
    if (exifPtr) {
      const exif = readIfd(exifPtr.value);
      const uc = exif.get(TAG_USER_COMMENT);
      if (uc) out.userComment = decodeUserComment(uc.bytes, le) || undefined;
      out.makerNote = ascii(exif.get(TAG_MAKER_NOTE));
    }
    // Some writers put these in IFD0 instead.
    if (!out.userComment) {
      const uc0 = ifd0.get(TAG_USER_COMMENT);
      if (uc0) out.userComment = decodeUserComment(uc0.bytes, le) || undefined;
    }
    if (!out.makerNote) out.makerNote = ascii(ifd0.get(TAG_MAKER_NOTE));
  } catch {
    // A damaged block gives what was read before the damage.
  }
  return out;
}

// ---- containers: reading ----

/** JPEG: the TIFF body of the first APP1 "Exif" segment, its XMP packet, and the text of COM segments. */
export function readJpegSegments(bytes: Uint8Array): { exif?: Uint8Array; comment?: string; xmp?: string } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { exif?: Uint8Array; comment?: string; xmp?: string } = {};
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return out;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) break;
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end: no more metadata segments
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const len = b.readUInt16BE(at + 2);
    if (len < 2 || at + 2 + len > b.length) break;
    const data = b.subarray(at + 4, at + 2 + len);
    if (marker === 0xe1 && !out.exif && data.subarray(0, 6).equals(EXIF_HEADER)) out.exif = data.subarray(6);
    if (marker === 0xe1 && out.xmp === undefined && data.subarray(0, XMP_HEADER.length).equals(XMP_HEADER)) out.xmp = decodeUtf8OrLatin1(data.subarray(XMP_HEADER.length));
    if (marker === 0xfe && out.comment === undefined) out.comment = trimNuls(decodeUtf8OrLatin1(data));
    at += 2 + len;
  }
  return out;
}

interface RiffChunk {
  id: string;
  offset: number;
  size: number;
  data: Buffer;
}

function riffChunks(b: Buffer): RiffChunk[] | undefined {
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  const chunks: RiffChunk[] = [];
  let at = 12;
  while (at + 8 <= b.length && chunks.length < 1000) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (at + 8 + size > b.length) break;
    chunks.push({ id, offset: at, size, data: b.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size & 1);
  }
  return chunks;
}

export function readWebpExif(bytes: Uint8Array): Uint8Array | undefined {
  return riffChunks(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))?.find((c) => c.id === 'EXIF')?.data;
}

/** The EXIF text fields of a PNG, JPEG or WebP file, with a JPEG's comment and the XMP packet
 * of a JPEG or WebP (empty when it has none). A PNG's chunks, when already read, are passed
 * in. Never throws. */
export function readExifText(bytes: Uint8Array, pngChunks?: PngChunk[]): ExifText & { jpegComment?: string; xmp?: string } {
  try {
    const type = sniffMedia(bytes)?.mediaType;
    if (type === 'image/jpeg') {
      const { exif, comment, xmp } = readJpegSegments(bytes);
      return { ...(exif ? parseTiffText(exif) : {}), jpegComment: comment, xmp };
    }
    if (type === 'image/webp') {
      const chunks = riffChunks(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) ?? [];
      const exif = chunks.find((c) => c.id === 'EXIF')?.data;
      const xmp = chunks.find((c) => c.id === 'XMP ')?.data;
      return { ...(exif ? parseTiffText(exif) : {}), ...(xmp ? { xmp: decodeUtf8OrLatin1(xmp) } : {}) };
    }
    if (type === 'image/png') {
      const exif = (pngChunks ?? readPngChunks(bytes)).find((c) => c.type === 'eXIf');
      return exif ? parseTiffText(exif.data) : {};
    }
  } catch {
    // unreadable containers carry no metadata we can use
  }
  return {};
}

// ---- writing ----

/** The APP1 payload limit of a JPEG segment, less "Exif\0\0" and our TIFF structure. */
const JPEG_MAX_TIFF = 65533 - 6;
const TIFF_OVERHEAD = 8 + 18 + 18 + 8;

/** A big-endian TIFF block (as piexif writes for A1111) holding one UserComment, UNICODE +
 * UTF-16BE, in the Exif IFD. `maxBytes` bounds the whole block; longer text is cut (at a
 * character boundary) and `truncated` says so. */
export function buildUserCommentTiff(text: string, maxBytes = JPEG_MAX_TIFF): { tiff: Buffer; truncated: boolean } {
  let units = text;
  const room = Math.floor((maxBytes - TIFF_OVERHEAD) / 2);
  let truncated = false;
  if (units.length > room) {
    units = units.slice(0, room);
    if (/[\ud800-\udbff]$/.test(units)) units = units.slice(0, -1);
    truncated = true;
  }
  const utf16 = Buffer.from(units, 'utf16le').swap16();
  const comment = Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), utf16]);
  const ifd0At = 8;
  const exifAt = ifd0At + 18;
  const dataAt = exifAt + 18;
  const t = Buffer.alloc(dataAt + comment.length);
  t.write('MM', 0, 'latin1');
  t.writeUInt16BE(42, 2);
  t.writeUInt32BE(ifd0At, 4);
  // IFD0: one entry, the pointer to the Exif IFD.
  t.writeUInt16BE(1, ifd0At);
  t.writeUInt16BE(TAG_EXIF_IFD, ifd0At + 2);
  t.writeUInt16BE(4, ifd0At + 4); // LONG
  t.writeUInt32BE(1, ifd0At + 6);
  t.writeUInt32BE(exifAt, ifd0At + 10);
  t.writeUInt32BE(0, ifd0At + 14); // no next IFD
  // Exif IFD: UserComment, UNDEFINED, at dataAt.
  t.writeUInt16BE(1, exifAt);
  t.writeUInt16BE(TAG_USER_COMMENT, exifAt + 2);
  t.writeUInt16BE(7, exifAt + 4);
  t.writeUInt32BE(comment.length, exifAt + 6);
  t.writeUInt32BE(dataAt, exifAt + 10);
  t.writeUInt32BE(0, exifAt + 14);
  comment.copy(t, dataAt);
  return { tiff: t, truncated };
}

/** Replace any EXIF APP1 segment of a JPEG with one holding `tiff` (after SOI and JFIF APP0). */
export function writeJpegExif(bytes: Uint8Array, tiff: Uint8Array): Buffer {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error('Not a JPEG file.');
  if (tiff.length > JPEG_MAX_TIFF) throw new Error('The EXIF block is too large for a JPEG segment.');
  const parts: Buffer[] = [b.subarray(0, 2)];
  let at = 2;
  let inserted = false;
  const segment = Buffer.alloc(4 + 6 + tiff.length);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(2 + 6 + tiff.length, 2);
  EXIF_HEADER.copy(segment, 4);
  Buffer.from(tiff.buffer, tiff.byteOffset, tiff.byteLength).copy(segment, 10);
  while (at + 4 <= b.length && b[at] === 0xff) {
    const marker = b[at + 1];
    if (marker === 0xda || marker === 0xd9) break;
    const len = b.readUInt16BE(at + 2);
    if (len < 2 || at + 2 + len > b.length) throw new Error('The JPEG file is damaged (a segment runs past the end).');
    const data = b.subarray(at + 4, at + 2 + len);
    const isExif = marker === 0xe1 && data.subarray(0, 6).equals(EXIF_HEADER);
    if (!inserted && marker !== 0xe0) {
      parts.push(segment);
      inserted = true;
    }
    if (!isExif) parts.push(b.subarray(at, at + 2 + len));
    at += 2 + len;
  }
  if (!inserted) parts.push(segment);
  parts.push(b.subarray(at));
  return Buffer.concat(parts);
}

function riffChunk(id: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.alloc(data.length & 1)]);
}

/** Canvas size and alpha of a simple (VP8 / VP8L) WebP, from its bitstream header. */
function simpleWebpInfo(c: RiffChunk): { width: number; height: number; alpha: boolean } {
  const d = c.data;
  if (c.id === 'VP8L' && d.length >= 5 && d[0] === 0x2f) {
    const bits = d.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
  }
  if (c.id === 'VP8 ' && d.length >= 10 && d[3] === 0x9d && d[4] === 0x01 && d[5] === 0x2a) {
    return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff, alpha: false };
  }
  throw new Error('The WebP file has an image chunk this writer does not understand.');
}

/** Replace any EXIF chunk of a WebP with `tiff` (raw TIFF, as the WebP container spec says),
 * converting a simple file to the extended (VP8X) layout when needed. */
export function writeWebpExif(bytes: Uint8Array, tiff: Uint8Array): Buffer {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = riffChunks(b);
  if (!chunks?.length) throw new Error('Not a WebP file.');
  let vp8x: Buffer;
  let rest = chunks.filter((c) => c.id !== 'EXIF');
  if (chunks[0].id === 'VP8X') {
    vp8x = Buffer.from(chunks[0].data);
    rest = rest.slice(1);
  } else {
    const info = simpleWebpInfo(chunks[0]);
    vp8x = Buffer.alloc(10);
    vp8x[0] = info.alpha ? 0x10 : 0;
    vp8x.writeUIntLE(info.width - 1, 4, 3);
    vp8x.writeUIntLE(info.height - 1, 7, 3);
  }
  vp8x[0] |= 0x08; // EXIF present
  // EXIF goes after the image data and before XMP.
  const xmpAt = rest.findIndex((c) => c.id === 'XMP ');
  const before = xmpAt >= 0 ? rest.slice(0, xmpAt) : rest;
  const after = xmpAt >= 0 ? rest.slice(xmpAt) : [];
  const body = Buffer.concat([
    Buffer.from('WEBP', 'latin1'),
    riffChunk('VP8X', vp8x),
    ...before.map((c) => riffChunk(c.id, c.data)),
    riffChunk('EXIF', tiff),
    ...after.map((c) => riffChunk(c.id, c.data)),
  ]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** JPEG and WebP: put `text` in the EXIF UserComment the way A1111 does, so A1111, Civitai and
 * prompt readers find it. Other formats come back unchanged. */
export function embedUserComment(bytes: Uint8Array, text: string): { bytes: Uint8Array; truncated: boolean } {
  const type = sniffMedia(bytes)?.mediaType;
  if (type === 'image/jpeg') {
    const { tiff, truncated } = buildUserCommentTiff(text);
    return { bytes: writeJpegExif(bytes, tiff), truncated };
  }
  if (type === 'image/webp') {
    const { tiff, truncated } = buildUserCommentTiff(text, MAX_TEXT_BYTES);
    return { bytes: writeWebpExif(bytes, tiff), truncated };
  }
  return { bytes, truncated: false };
}
