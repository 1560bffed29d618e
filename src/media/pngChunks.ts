// A small, independent PNG chunk reader/writer: text chunks in and out, and a structural
// check (every CRC, IHDR first, IEND last). No image library involved, so it also serves to
// check what sharp wrote and what other tools embed.
import * as zlib from 'node:zlib';
import { inflateSync, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** zlib's own CRC-32 (Node 20.15+, about 50× the table loop below), where this Node has it. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export function crc32(...parts: Uint8Array[]): number {
  if (nativeCrc32) {
    let v = 0;
    for (const p of parts) v = nativeCrc32(p, v);
    return v >>> 0;
  }
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface PngChunk {
  type: string;
  data: Buffer;
  /** Offset of the chunk's length field in the file. */
  offset: number;
  crcOk: boolean;
}

export class PngFormatError extends Error {
  override readonly name = 'PngFormatError';
}

/** All chunks, in order. Throws PngFormatError when the file is not a PNG or is cut short. */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE)) throw new PngFormatError('Not a PNG file (bad signature).');
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < b.length) {
    if (at + 12 > b.length) throw new PngFormatError(`PNG cut short at byte ${at}.`);
    const len = b.readUInt32BE(at);
    if (len > 0x7fffffff || at + 12 + len > b.length) throw new PngFormatError(`PNG chunk at byte ${at} runs past the end of the file.`);
    const typeBytes = b.subarray(at + 4, at + 8);
    const type = typeBytes.toString('latin1');
    if (!/^[A-Za-z]{4}$/.test(type)) throw new PngFormatError(`Invalid PNG chunk type at byte ${at}.`);
    const data = b.subarray(at + 8, at + 8 + len);
    const crc = b.readUInt32BE(at + 8 + len);
    chunks.push({ type, data, offset: at, crcOk: crc32(typeBytes, data) === crc });
    at += 12 + len;
    if (type === 'IEND') break;
  }
  return chunks;
}

/** Problems with a PNG's structure (empty when sound): bad CRCs, misplaced IHDR/IEND, junk
 * after IEND. `chunks`, when the caller read them already, saves reading them again. */
export function pngStructureProblems(bytes: Uint8Array, chunks?: PngChunk[]): string[] {
  if (!chunks) {
    try {
      chunks = readPngChunks(bytes);
    } catch (e) {
      return [e instanceof Error ? e.message : String(e)];
    }
  }
  const problems: string[] = [];
  if (chunks[0]?.type !== 'IHDR') problems.push('The first chunk is not IHDR.');
  else problems.push(...ihdrProblems(chunks[0].data));
  const last = chunks.at(-1);
  if (last?.type !== 'IEND') problems.push('The file ends without an IEND chunk (truncated).');
  else if (last.offset + 12 < bytes.length) problems.push(`${bytes.length - last.offset - 12} bytes of junk after IEND.`);
  for (const c of chunks) if (!c.crcOk) problems.push(`Chunk ${c.type} at byte ${c.offset} has a wrong CRC.`);
  if (!chunks.some((c) => c.type === 'IDAT')) problems.push('The file has no image data (IDAT).');
  return problems;
}

// Bit depths allowed for each colour type (PNG spec, 11.2.2 IHDR).
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

function ihdrProblems(d: Buffer): string[] {
  if (d.length !== 13) return [`The IHDR chunk is ${d.length} bytes, not 13.`];
  const [width, height, depth, colour] = [d.readUInt32BE(0), d.readUInt32BE(4), d[8], d[9]];
  const problems: string[] = [];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) problems.push(`The image size ${width}×${height} is invalid.`);
  if (!DEPTHS[colour]) problems.push(`The colour type ${colour} is invalid.`);
  else if (!DEPTHS[colour].includes(depth)) problems.push(`The bit depth ${depth} is invalid for colour type ${colour}.`);
  if (d[10] !== 0 || d[11] !== 0 || d[12] > 1) problems.push('The IHDR compression, filter or interlace method is invalid.');
  return problems;
}

export interface TextChunk {
  keyword: string;
  text: string;
}

/** A compressed text chunk may not inflate past this (a few KB can hold a "zip bomb" of GBs). */
export const MAX_INFLATED_TEXT = 16 * 1024 * 1024;

/** tEXt, zTXt and iTXt chunks, wherever they are (before or after IDAT). Damaged ones, and
 * compressed ones that would inflate past MAX_INFLATED_TEXT, are skipped. Takes the file, or
 * its chunks when they were read already. */
export function readPngTextChunks(source: Uint8Array | PngChunk[]): TextChunk[] {
  const out: TextChunk[] = [];
  for (const c of Array.isArray(source) ? source : readPngChunks(source)) {
    if (c.type !== 'tEXt' && c.type !== 'zTXt' && c.type !== 'iTXt') continue;
    try {
      const nul = c.data.indexOf(0);
      if (nul < 1) continue;
      const keyword = c.data.subarray(0, nul).toString('latin1');
      if (c.type === 'tEXt') out.push({ keyword, text: c.data.subarray(nul + 1).toString('latin1') });
      else if (c.type === 'zTXt') out.push({ keyword, text: inflateSync(c.data.subarray(nul + 2), { maxOutputLength: MAX_INFLATED_TEXT }).toString('latin1') });
      else if (c.type === 'iTXt') {
        const compressed = c.data[nul + 1] === 1;
        let p = nul + 3;
        const langEnd = c.data.indexOf(0, p);
        const transEnd = c.data.indexOf(0, langEnd + 1);
        if (langEnd < 0 || transEnd < 0) continue;
        p = transEnd + 1;
        const raw = c.data.subarray(p);
        out.push({ keyword, text: (compressed ? inflateSync(raw, { maxOutputLength: MAX_INFLATED_TEXT }) : raw).toString('utf8') });
      }
    } catch {
      // A damaged text chunk never makes the image unreadable.
    }
  }
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4, 8), data), 0);
  return Buffer.concat([head, data, crc]);
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/** Insert text chunks before IEND, replacing chunks with the same keywords. Uses tEXt for
 * Latin-1 text and iTXt (UTF-8, compressed when large) otherwise. */
export function addPngTextChunks(bytes: Uint8Array, texts: TextChunk[]): Uint8Array {
  const chunks = readPngChunks(bytes);
  const keywords = new Set(texts.map((t) => t.keyword));
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Buffer[] = [SIGNATURE];
  for (const c of chunks) {
    if (c.type === 'IEND') break;
    if (c.type === 'tEXt' || c.type === 'zTXt' || c.type === 'iTXt') {
      const nul = c.data.indexOf(0);
      if (nul > 0 && keywords.has(c.data.subarray(0, nul).toString('latin1'))) continue;
    }
    kept.push(b.subarray(c.offset, c.offset + 12 + c.data.length));
  }
  for (const t of texts) {
    if (!/^[\u0020-\u007e\u00a1-\u00ff]{1,79}$/.test(t.keyword)) throw new PngFormatError(`Invalid PNG text keyword "${t.keyword}".`);
    const key = Buffer.from(t.keyword, 'latin1');
    if (isLatin1(t.text) && t.text.length < 64 * 1024) {
      kept.push(chunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(t.text, 'latin1')])));
    } else {
      const utf8 = Buffer.from(t.text, 'utf8');
      const compress = utf8.length > 1024;
      kept.push(chunk('iTXt', Buffer.concat([key, Buffer.from([0, compress ? 1 : 0, 0, 0, 0]), compress ? deflateSync(utf8) : utf8])));
    }
  }
  kept.push(chunk('IEND', Buffer.alloc(0)));
  return new Uint8Array(Buffer.concat(kept));
}
