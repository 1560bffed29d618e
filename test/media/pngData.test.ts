// The PNG data check (src/media/pngData.ts) stands in for a full decode of PNGs without a
// palette: it must refuse what a decode refuses, including damage that every CRC was made to
// match (a faulty writer), and accept what a decode accepts (PngSuite, both ways, sharp as the
// reference).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { pngStructure } from '../../src/media/imageStructure.ts';
import { pngDataProblems } from '../../src/media/pngData.ts';
import { readPngChunks, type PngChunk } from '../../src/media/pngChunks.ts';
import { checkDownloaded, MediaError } from '../../src/media/sniff.ts';
import { pngChunk as chunk } from '../archive/metadataFixtures.ts';
import { fixtureFiles, needsFixtures, PNGSUITE } from '../fixtures.ts';

/** A PNG rebuilt from `png`'s chunks with its image data replaced by `idat` (CRCs recomputed),
 * optionally split into several IDAT chunks with `between` after the first. */
function withData(png: Buffer, idat: Buffer, opts: { split?: number; between?: Buffer } = {}): Buffer {
  const chunks = readPngChunks(png);
  const parts: Buffer[] = [png.subarray(0, 8)];
  let placed = false;
  for (const c of chunks) {
    if (c.type !== 'IDAT') {
      parts.push(chunk(c.type, c.data));
      continue;
    }
    if (placed) continue;
    placed = true;
    const at = opts.split ?? idat.length;
    parts.push(chunk('IDAT', idat.subarray(0, at)));
    if (opts.between) parts.push(opts.between);
    if (at < idat.length) parts.push(chunk('IDAT', idat.subarray(at)));
  }
  return Buffer.concat(parts);
}

const idatOf = (png: Buffer) => Buffer.concat(readPngChunks(png).filter((c) => c.type === 'IDAT').map((c) => c.data));

/** What sharp makes of the file when decoding it strictly, as the full check did. */
async function sharpDecodes(png: Buffer): Promise<boolean> {
  return sharp(png, { failOn: 'warning' })
    .raw()
    .toBuffer()
    .then(
      () => true,
      () => false,
    );
}

async function problemsOf(png: Buffer): Promise<string[] | undefined> {
  const s = pngStructure(png);
  assert.deepEqual(s.problems, [], 'the structure is sound: the damage is in the data only');
  return sameWithScratch(s.pngChunks!);
}

/** The verdict, checked to be the same when the data is put together in a reused buffer holding
 * another file's leftovers (as an import passes one per file in flight). */
async function sameWithScratch(chunks: PngChunk[]): Promise<string[] | undefined> {
  const plain = await pngDataProblems(chunks);
  const size = chunks.reduce((n, c) => n + c.data.length, 0);
  let asked = 0;
  const reused = await pngDataProblems(chunks, (n) => {
    asked = n;
    return Buffer.alloc(size * 2 + 100, 0xa5);
  });
  assert.deepEqual(reused, plain, 'the same verdict with a reused buffer');
  if (chunks.filter((c) => c.type === 'IDAT').length > 1 && plain?.length === 0) assert.ok(asked > 0, 'split image data, accepted, went through the reused buffer');
  return plain;
}

test('PNG data: damage with every CRC made to match is refused, as a full decode refuses it', async () => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6' } })
    .composite([{ input: Buffer.from('<svg width="64" height="48"><circle cx="30" cy="20" r="15" fill="#a22"/></svg>') }])
    .removeAlpha()
    .png({ compressionLevel: 6 })
    .toBuffer();
  assert.deepEqual(await problemsOf(png), []);
  const raw = inflateSync(idatOf(png));
  const stride = 1 + 64 * 3;
  assert.equal(raw.length, 48 * stride);

  const cases: [string, Buffer, RegExp][] = [];
  // The last rows' compressed bytes changed (what a decode that stops early never sees).
  const flipped = Buffer.from(idatOf(png));
  flipped[flipped.length - 8] ^= 0x5a;
  cases.push(['a byte flipped near the end of the stream', withData(png, flipped), /does not inflate|inflates to|row filter/]);
  // The stream cut short, the file itself whole.
  const cut = idatOf(png).subarray(0, idatOf(png).length - 30);
  cases.push(['the stream cut short', withData(png, cut), /does not inflate|ends before/]);
  // Sound zlib, one row too few.
  cases.push(['a row missing', withData(png, deflateSync(raw.subarray(0, raw.length - stride))), /inflates to \d+ bytes; its size and format take/]);
  // Sound zlib, a row too many.
  cases.push(['a row too many', withData(png, deflateSync(Buffer.concat([raw, raw.subarray(0, stride)]))), /inflates to more than/]);
  // Sound zlib, an unknown filter type on the last row.
  const badFilter = Buffer.from(raw);
  badFilter[47 * stride] = 7;
  cases.push(['an unknown row filter', withData(png, deflateSync(badFilter)), /unknown row filter \(7\) in row 47/]);
  // Data after the end of the zlib stream.
  cases.push(['bytes after the stream', withData(png, Buffer.concat([idatOf(png), Buffer.from([1, 2, 3])])), /after the end of its compressed stream/]);
  // The image data split by another chunk.
  cases.push(['IDAT split by a text chunk', withData(png, idatOf(png), { split: 10, between: chunk('tEXt', Buffer.from('a\0b')) }), /split by other chunks/]);
  // A critical chunk no decoder knows.
  cases.push(['an unknown critical chunk', withData(png, idatOf(png), { split: idatOf(png).length, between: chunk('QUUX', Buffer.alloc(4)) }), /critical chunk/]);

  for (const [name, bad, reason] of cases) {
    const problems = await problemsOf(bad);
    assert.ok(problems?.length, `${name}: refused`);
    assert.match(problems[0], reason, name);
    await assert.rejects(checkDownloaded(bad), (e: unknown) => e instanceof MediaError && e.kind === 'corrupt', name);
  }
  // sharp, decoding strictly, refuses those that leave pixels out or wrong, and split data (the
  // reference). It stops reading once it has the pixels, so it takes a row too many, bytes after
  // the stream and an unknown critical chunk after the data; refusing those is stricter than
  // it, and no sound writer makes them.
  const bySharp = await Promise.all(cases.map(([, bad]) => sharpDecodes(bad)));
  assert.deepEqual(cases.map(([name], i) => `${name}: ${bySharp[i] ? 'decodes' : 'refused'}`), cases.map(([name], i) => `${name}: ${[3, 5, 7].includes(i) ? 'decodes' : 'refused'}`));
  // Split image data still inflates whole: accepted as a decoder would, once rejoined.
  assert.deepEqual(await problemsOf(withData(png, idatOf(png), { split: 10 })), []);
});

test('PNG data: every PngSuite file without a palette is judged as sharp judges it; palette images are left to the decoder', needsFixtures(PNGSUITE), async () => {
  let checked = 0;
  let palette = 0;
  for (const file of fixtureFiles(PNGSUITE, (f) => f.endsWith('.png'))) {
    const bytes = await fs.readFile(file);
    const s = pngStructure(bytes);
    if (s.problems.length || !s.pngChunks) continue; // refused by the structure already
    const problems = await sameWithScratch(s.pngChunks);
    if (!problems) {
      palette++;
      assert.equal(s.pngChunks[0].data[9], 3, `${path.basename(file)}: only palette images are left to the decoder`);
      continue;
    }
    checked++;
    assert.equal(problems.length === 0, await sharpDecodes(bytes), `${path.basename(file)}: ${problems.join('; ') || 'accepted'}`);
    if (problems.length === 0) assert.equal((await checkDownloaded(bytes)).checkedBy, 'data', path.basename(file));
  }
  // PngSuite's sound files: grey, grey+alpha, RGB and RGBA at every depth, interlaced and not,
  // and the palette ones.
  assert.deepEqual({ checked, palette }, { checked: 98, palette: 63 });
});

test('PNG data: an image claiming more pixels than accepted is refused by its size, before its data is inflated', async () => {
  const small = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123' } }).png().toBuffer();
  const chunks = readPngChunks(small);
  const ihdr = Buffer.from(chunks[0].data);
  ihdr.writeUInt32BE(20_000, 0);
  ihdr.writeUInt32BE(20_000, 4);
  // 400 million pixels, whose data a few KB of zlib could claim; the CRCs made to match.
  const bomb = Buffer.concat([small.subarray(0, 8), chunk('IHDR', ihdr), ...chunks.slice(1).map((c) => chunk(c.type, c.data))]);
  await assert.rejects(checkDownloaded(bomb), (e: unknown) => e instanceof MediaError && /20000×20000 pixels, more than/.test(e.message));
});
