// Independent readers for what Art Factory writes into images: a few lines each, sharing no
// code with src/media, so a test that reads a file back checks the format, not our own code.
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

/** PNG text chunks (tEXt / iTXt), walked by hand. */
export function pngTexts(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (let at = 8; at + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    const nul = data.indexOf(0);
    if (type === 'tEXt') out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    if (type === 'iTXt') {
      const compressed = data[nul + 1] === 1;
      let p = data.indexOf(0, nul + 3) + 1;
      p = data.indexOf(0, p) + 1;
      out[data.toString('latin1', 0, nul)] = (compressed ? inflateSync(data.subarray(p)) : data.subarray(p)).toString('utf8');
    }
    at += 12 + len;
  }
  return out;
}

/** UserComment from an EXIF block as sharp hands it out (metadata().exif): IFD0 → Exif IFD → 0x9286. */
export function userCommentOf(exif: Buffer): { code: string; text: string } {
  const t = exif.toString('latin1', 0, 6) === 'Exif\0\0' ? exif.subarray(6) : exif;
  const le = t.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? t.readUInt16LE(o) : t.readUInt16BE(o));
  const u32 = (o: number) => (le ? t.readUInt32LE(o) : t.readUInt32BE(o));
  const find = (ifd: number, tag: number) => {
    for (let i = 0; i < u16(ifd); i++) if (u16(ifd + 2 + i * 12) === tag) return ifd + 2 + i * 12;
    return -1;
  };
  const ptr = find(u32(4), 0x8769);
  assert.ok(ptr > 0, 'the Exif IFD pointer is there');
  const e = find(u32(ptr + 8), 0x9286);
  assert.ok(e > 0, 'UserComment is in the Exif IFD');
  const raw = t.subarray(u32(e + 8), u32(e + 8) + u32(e + 4));
  const code = raw.toString('latin1', 0, 8);
  const body = Buffer.from(raw.subarray(8));
  // UNICODE is UTF-16, big-endian as A1111's piexif writes it.
  return { code, text: code === 'UNICODE\0' ? body.swap16().toString('utf16le') : body.toString('utf8') };
}
