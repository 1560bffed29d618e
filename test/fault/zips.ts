// A tiny zip writer for crafted archives (bombs, links, duplicates, damaged data): the
// entries are written exactly as given, which no zip library will do for such input.
import { deflateRawSync, crc32 } from 'node:zlib';

export interface RawEntry {
  name: string;
  /** The uncompressed bytes (deflated here unless `stored`), or `raw` bytes written as they are. */
  data?: Buffer;
  raw?: { bytes: Buffer; method: 0 | 8; crc: number; size: number };
  stored?: boolean;
  /** Unix mode for the external attributes (e.g. 0o120777 for a symbolic link). */
  mode?: number;
}

/** The bytes of a zip holding `entries` (an entry's `raw` may be shared by many entries: a
 * bomb of many large entries deflated once). */
export function makeZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const prepared = e.raw ?? (e.stored ? { bytes: e.data!, method: 0 as const, crc: crc32(e.data!), size: e.data!.length } : { bytes: deflateRawSync(e.data!, { level: 9 }), method: 8 as const, crc: crc32(e.data!), size: e.data!.length });
    // Local and central headers share these fields (method, time, date, crc, sizes, name length).
    const shared = (b: Buffer, at: number) => {
      b.writeUInt16LE(0x0800, at); // UTF-8 names
      b.writeUInt16LE(prepared.method, at + 2);
      b.writeUInt16LE(0, at + 4);
      b.writeUInt16LE(0x21, at + 6);
      b.writeUInt32LE(prepared.crc >>> 0, at + 8);
      b.writeUInt32LE(prepared.bytes.length, at + 12);
      b.writeUInt32LE(prepared.size, at + 16);
      b.writeUInt16LE(name.length, at + 20);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    shared(local, 6);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    shared(central, 8);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, prepared.bytes);
    centrals.push(central, name);
    offset += local.length + name.length + prepared.bytes.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** One entry's data deflated once, to be written under many names. */
export function deflatedOnce(data: Buffer): RawEntry['raw'] {
  return { bytes: deflateRawSync(data, { level: 9 }), method: 8, crc: crc32(data), size: data.length };
}

export const MANIFEST_ENTRY: RawEntry = { name: 'artfactory.json', data: Buffer.from(JSON.stringify({ name: 'Crafted', version: 1, createdAt: '2026-01-01T00:00:00.000Z' })) };
