// The byte-level checks a download gets when sharp cannot load, held against sharp itself:
// the same sizes on every encoding sharp writes and every valid PngSuite file; every cut of a
// file refused as truncated; damaged structures refused with a reason.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { avifStructure, gifStructure, imageStructure, jpegStructure, webpStructure } from '../../src/media/imageStructure.ts';
import { sniffMedia } from '../../src/media/sniff.ts';
import { fixtureFiles, needsFixtures, PNGSUITE, PNGSUITE_CORRUPT, PNGSUITE_FILES } from '../fixtures.ts';


/** A picture with detail (noise over a gradient), so encoders make realistic streams. */
async function picture(width: number, height: number, alpha = false): Promise<sharp.Sharp> {
  const noise = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
  const gradient = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g"><stop offset="0" stop-color="#124"/><stop offset="1" stop-color="#fa3" stop-opacity="${alpha ? 0.3 : 1}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>`);
  return sharp(gradient).composite([{ input: noise, blend: 'soft-light' }]);
}

interface Sample {
  name: string;
  bytes: Buffer;
}

async function samples(): Promise<Sample[]> {
  const base = async (w: number, h: number, alpha = false) => sharp(await (await picture(w, h, alpha)).png().toBuffer());
  const frames = await Promise.all([0, 1, 2].map(async (i) => (await base(96, 64)).modulate({ hue: i * 90 }).png().toBuffer()));
  const animated = sharp(frames, { join: { animated: true } });
  const out: Sample[] = [
    { name: 'jpeg baseline 4:2:0', bytes: await (await base(640, 480)).jpeg({ quality: 85 }).toBuffer() },
    { name: 'jpeg progressive mozjpeg', bytes: await (await base(333, 517)).jpeg({ progressive: true, mozjpeg: true }).toBuffer() },
    { name: 'jpeg 4:4:4 with EXIF', bytes: await (await base(301, 203)).withMetadata({ orientation: 6 }).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer() },
    { name: 'jpeg greyscale', bytes: await (await base(250, 90)).greyscale().jpeg().toBuffer() },
    { name: 'jpeg cmyk', bytes: await (await base(120, 80)).toColourspace('cmyk').jpeg().toBuffer() },
    { name: 'webp lossy', bytes: await (await base(640, 480)).webp({ quality: 80 }).toBuffer() },
    { name: 'webp lossless', bytes: await (await base(321, 123)).webp({ lossless: true }).toBuffer() },
    { name: 'webp lossy with alpha (VP8X)', bytes: await (await base(300, 200, true)).webp({ quality: 70 }).toBuffer() },
    { name: 'webp animated', bytes: await animated.clone().webp().toBuffer() },
    { name: 'gif', bytes: await (await base(200, 150)).gif().toBuffer() },
    { name: 'gif animated', bytes: await animated.clone().gif().toBuffer() },
    { name: 'avif', bytes: await (await base(640, 480)).avif({ quality: 50, effort: 0 }).toBuffer() },
    { name: 'avif with alpha', bytes: await (await base(257, 129, true)).avif({ quality: 50, effort: 0 }).toBuffer() },
    { name: 'avif 4:4:4 lossless', bytes: await (await base(64, 48)).avif({ lossless: true, effort: 0 }).toBuffer() },
    { name: 'png', bytes: await (await base(640, 480)).png().toBuffer() },
  ];
  return out;
}

const all = samples();

test('sizes read from the bytes match sharp on every encoding, with no problems', async () => {
  for (const s of await all) {
    const sniffed = sniffMedia(s.bytes)!;
    const st = imageStructure(s.bytes, sniffed.mediaType)!;
    assert.deepEqual(st.problems, [], s.name);
    const m = await sharp(s.bytes).metadata();
    assert.deepEqual({ width: st.width, height: st.height }, { width: m.width, height: m.pageHeight ?? m.height }, s.name);
  }
});

test('a file cut anywhere is refused as truncated', async () => {
  let cuts = 0;
  for (const s of await all) {
    const type = sniffMedia(s.bytes)!.mediaType;
    for (const share of [0.05, 0.3, 0.6, 0.9]) {
      const cut = s.bytes.subarray(0, Math.max(32, Math.floor(s.bytes.length * share)));
      const st = imageStructure(cut, type)!;
      assert.ok(st.problems.length > 0 && st.truncated, `${s.name} cut at ${cut.length} of ${s.bytes.length}: ${JSON.stringify(st)}`);
      cuts++;
    }
    const lastByte = imageStructure(s.bytes.subarray(0, s.bytes.length - 1), type)!;
    assert.ok(lastByte.problems.length > 0, `${s.name} without its last byte`);
    cuts++;
  }
  assert.equal(cuts, (await all).length * 5);
});

test('damaged structures are refused with the reason', async () => {
  const byName = new Map((await all).map((s) => [s.name, s.bytes]));
  const jpeg = Buffer.from(byName.get('jpeg baseline 4:2:0')!);
  // The frame header (SOF0) renamed to an APP segment: a scan with no frame before it.
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  const noFrame = Buffer.from(jpeg);
  noFrame[sof + 1] = 0xe5;
  assert.match(jpegStructure(noFrame).problems[0], /scan before its frame header/);
  const noSoi = Buffer.from(jpeg);
  noSoi[1] = 0x00;
  assert.match(jpegStructure(noSoi).problems[0], /does not start with SOI/);

  const webp = Buffer.from(byName.get('webp lossy')!);
  const badChunk = Buffer.from(webp);
  badChunk.write('VP9 ', 12, 'latin1');
  assert.match(webpStructure(badChunk).problems[0], /no image data/);
  const longChunk = Buffer.from(webp);
  longChunk.writeUInt32LE(webp.length * 2, 16);
  assert.ok(webpStructure(longChunk).truncated, 'a chunk longer than the file');

  const gif = Buffer.from(byName.get('gif')!);
  const badBlock = Buffer.from(gif);
  badBlock[gif.length - 1] = 0x42; // the trailer replaced by an unknown block
  assert.match(gifStructure(badBlock).problems[0], /unknown block 0x42/);

  // AVIF: the media data box cut off, so the items' data (iloc) lies past the end of the file.
  const avif = Buffer.from(byName.get('avif')!);
  const mdat = avif.indexOf(Buffer.from('mdat'));
  const noMdat = avif.subarray(0, mdat - 4);
  const st = avifStructure(noMdat);
  assert.ok(st.problems.some((p) => /past the end of the file/.test(p)), `no mdat: ${JSON.stringify(st.problems)}`);
  assert.ok(st.truncated);
});

test('every valid PngSuite file gives sharp’s size; every x*.png has a problem', needsFixtures(PNGSUITE), async () => {
  let good = 0;
  let bad = 0;
  for (const file of fixtureFiles(PNGSUITE, (f) => f.endsWith('.png'))) {
    const f = path.basename(file);
    const bytes = await fs.readFile(file);
    const st = imageStructure(bytes, 'image/png')!;
    if (f.startsWith('x')) {
      assert.ok(st.problems.length > 0, f);
      bad++;
      continue;
    }
    const m = await sharp(bytes).metadata();
    assert.deepEqual([st.width, st.height], [m.width, m.height], f);
    assert.deepEqual(st.problems, [], f);
    good++;
  }
  assert.deepEqual({ good, bad }, { good: PNGSUITE_FILES - PNGSUITE_CORRUPT, bad: PNGSUITE_CORRUPT });
});
