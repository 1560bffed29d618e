// "Stealth" parameters: text hidden in the lowest bit of each pixel, which survives sites that
// strip PNG text chunks. Layout, as the sd-webui-stealth-pnginfo extension writes it
// (ashen-sensored/sd_webui_stealth_pnginfo scripts/stealth_pnginfo.py, add_data / prepare_data;
// NovelAI writes the same in alpha):
//   - pixels are visited column by column: x = 0…width-1, and inside each column y = 0…height-1;
//   - alpha mode: one bit per pixel, the alpha's lowest bit; rgb mode: three bits per pixel,
//     the lowest bits of r, g, b in that order;
//   - the bit stream is: the signature (15 ASCII bytes: "stealth_pnginfo" / "stealth_pngcomp"
//     in alpha, "stealth_rgbinfo" / "stealth_rgbcomp" in rgb), then the payload's length in
//     bits as a 32-bit big-endian number, then the payload; every byte most significant bit
//     first. "comp" payloads are gzip; "info" payloads are UTF-8.
// The payload is A1111 text, or (NovelAI) a JSON dictionary of its PNG chunks.
// Pixels come from our own decoder of 8-bit RGB/RGBA PNGs (what these writers produce), so
// this works with or without sharp: the first columns are inflated to look for the signature,
// and the whole image only when it is there.
import { gunzipSync, inflateSync, constants as zc } from 'node:zlib';
import type { PngChunk } from '../pngChunks.ts';

const SIGNATURES = { alpha: ['stealth_pnginfo', 'stealth_pngcomp'], rgb: ['stealth_rgbinfo', 'stealth_rgbcomp'] } as const;
const SIGNATURE_BITS = 15 * 8;
/** Hidden texts longer than this are not read (1 MB of bits is 8 million pixels). */
const MAX_PAYLOAD_BITS = 8 * 1024 * 1024;
const MAX_TEXT = 4 * 1024 * 1024;
/** Larger images are not decoded here (the import's pixel budget is checked before). */
const MAX_PIXELS = 100_000_000;

export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA), interleaved, rows top to bottom. */
  channels: number;
  /** Rows actually present in `data` (a partial decode has fewer than `height`). */
  rows: number;
}

export interface StealthText {
  mode: 'alpha' | 'rgb';
  compressed: boolean;
  text: string;
}

/** The bit reader over pixels in the writer's order (columns first). */
function bits(p: Pixels, mode: 'alpha' | 'rgb') {
  const perPixel = mode === 'alpha' ? 1 : 3;
  let i = 0;
  return {
    /** The next `n` bits as bytes; undefined past the pixels present. */
    bytes(n: number): Uint8Array | undefined {
      const out = new Uint8Array(n);
      for (let b = 0; b < n * 8; b++, i++) {
        const pixel = Math.floor(i / perPixel);
        const x = Math.floor(pixel / p.height);
        const y = pixel % p.height;
        if (x >= p.width || y >= p.rows) return undefined;
        const at = (y * p.width + x) * p.channels + (mode === 'alpha' ? 3 : i % perPixel);
        out[b >> 3] = (out[b >> 3] << 1) | (p.data[at] & 1);
      }
      return out;
    },
  };
}

/** Rows of column 0 needed to read the signature in either mode. */
export function signatureRows(height: number): number {
  return Math.min(height, SIGNATURE_BITS);
}

/** Which mode's signature the pixels start with, if any (needs signatureRows() rows). */
export function stealthSignature(p: Pixels): { mode: 'alpha' | 'rgb'; compressed: boolean } | undefined {
  for (const mode of p.channels === 4 ? (['alpha', 'rgb'] as const) : (['rgb'] as const)) {
    const sig = bits(p, mode).bytes(15);
    const text = sig && Buffer.from(sig).toString('latin1');
    const found = SIGNATURES[mode].indexOf(text as never);
    if (found >= 0) return { mode, compressed: found === 1 };
  }
  return undefined;
}

/** The hidden text of fully decoded pixels; undefined when there is none or it is damaged. */
export function readStealth(p: Pixels): StealthText | undefined {
  const sig = stealthSignature(p);
  if (!sig) return undefined;
  const r = bits(p, sig.mode);
  r.bytes(15);
  const len = r.bytes(4);
  if (!len) return undefined;
  const bitLength = Buffer.from(len).readUInt32BE(0);
  if (bitLength === 0 || bitLength > MAX_PAYLOAD_BITS || bitLength % 8 !== 0) return undefined;
  const payload = r.bytes(bitLength / 8);
  if (!payload) return undefined;
  try {
    const raw = sig.compressed ? gunzipSync(payload, { maxOutputLength: MAX_TEXT }) : Buffer.from(payload);
    return { ...sig, text: raw.toString('utf8') };
  } catch {
    return undefined;
  }
}

// ---- a small PNG decoder: 8-bit RGB / RGBA, not interlaced ----

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Undo the row filters (PNG spec 9.2) of the complete rows in `raw`. */
function unfilter(raw: Uint8Array, width: number, channels: number, maxRows: number): { data: Uint8Array; rows: number } {
  const stride = width * channels;
  const rows = Math.min(maxRows, Math.floor(raw.length / (stride + 1)));
  const out = new Uint8Array(rows * stride);
  for (let y = 0; y < rows; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[row + x - channels] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      const c = x >= channels && y > 0 ? out[prev + x - channels] : 0;
      const v = raw[src + x];
      out[row + x] = (filter === 0 ? v : filter === 1 ? v + a : filter === 2 ? v + b : filter === 3 ? v + ((a + b) >> 1) : filter === 4 ? v + paeth(a, b, c) : v) & 0xff;
    }
  }
  return { data: out, rows };
}

/** The pixels of a PNG (its chunks), up to `maxRows` rows; undefined for the formats this
 * decoder does not read (palette, grey, 16-bit, interlaced), which the writers never produce. */
export function decodePngRows(chunks: PngChunk[], maxRows = Infinity): Pixels | undefined {
  const ihdr = chunks[0]?.type === 'IHDR' ? chunks[0].data : undefined;
  if (!ihdr || ihdr.length !== 13) return undefined;
  const [width, height, depth, colour, interlace] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9], ihdr[12]];
  if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0 || !width || !height || width * height > MAX_PIXELS) return undefined;
  const channels = colour === 6 ? 4 : 3;
  const idat = Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data));
  const wantRows = Math.min(height, maxRows);
  const wanted = wantRows * (width * channels + 1);
  try {
    // A partial inflate (Z_SYNC_FLUSH: no error at the end of the input) of a prefix that
    // grows until it holds the rows wanted; more output than a sound image has is refused.
    for (let prefix = Math.min(idat.length, 16 * 1024); ; prefix = Math.min(idat.length, prefix * 4)) {
      const raw = inflateSync(idat.subarray(0, prefix), { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: prefix === idat.length ? height * (width * channels + 1) : wanted + 16 * 1024 * 1024 });
      if (raw.length >= wanted || prefix === idat.length) return { width, height, channels, ...unfilter(raw, width, channels, wantRows) };
    }
  } catch {
    return undefined;
  }
}

/** The stealth text of a PNG, reading only the first rows unless a signature is there. */
export function pngStealthText(chunks: PngChunk[]): StealthText | undefined {
  const ihdr = chunks[0]?.type === 'IHDR' ? chunks[0].data : undefined;
  if (!ihdr || ihdr.length !== 13) return undefined;
  const head = decodePngRows(chunks, signatureRows(ihdr.readUInt32BE(4)));
  if (!head || !stealthSignature(head)) return undefined;
  const all = decodePngRows(chunks);
  return all ? readStealth(all) : undefined;
}
