import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import { test } from 'node:test';
import sharp from 'sharp';
import { checkDownloaded, MediaError, MIN_OUTPUT_SIDE, sniffMedia } from '../../src/media/sniff.ts';
import { addPngTextChunks, readPngTextChunks } from '../../src/media/pngChunks.ts';
import { embedParameters, formatA1111Parameters, parseA1111Parameters, readEmbeddedParameters } from '../../src/media/a1111.ts';
import { makeThumbnails } from '../../src/media/thumbnails.ts';
import { BAD_IMAGES, fixtureFiles, needsFixtures, PNGSUITE, PNGSUITE_CORRUPT, PNGSUITE_FILES } from '../fixtures.ts';


/** An independent reader for the test: walks chunks, checks CRCs with zlib's own crc32-free method (recomputed here). */
function independentTextChunks(buf: Buffer): Record<string, string> {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = ~0;
    for (const x of b) c = table[(c ^ x) & 255] ^ (c >>> 8);
    return ~c >>> 0;
  };
  const out: Record<string, string> = {};
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    assert.equal(buf.readUInt32BE(at + 8 + len), crc(buf.subarray(at + 4, at + 8 + len)), `CRC of ${type}`);
    const nul = data.indexOf(0);
    if (type === 'tEXt') out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    if (type === 'iTXt') {
      const rest = data.subarray(nul + 1);
      const compressed = rest[0] === 1;
      let p = 2;
      p = rest.indexOf(0, p) + 1;
      p = rest.indexOf(0, p) + 1;
      out[data.toString('latin1', 0, nul)] = (compressed ? inflateSync(rest.subarray(p)) : rest.subarray(p)).toString('utf8');
    }
    at += 12 + len;
  }
  return out;
}

test('every valid PngSuite file is accepted and thumbnailed; every x*.png is refused', needsFixtures(PNGSUITE), async () => {
  const files = fixtureFiles(PNGSUITE, (f) => f.endsWith('.png'));
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'af-thumbs-'));
  let good = 0;
  let bad = 0;
  for (const file of files) {
    const f = path.basename(file);
    const bytes = await fs.readFile(file);
    if (f.startsWith('x')) {
      await assert.rejects(checkDownloaded(bytes), (e: unknown) => e instanceof MediaError, f);
      bad++;
    } else {
      const r = await checkDownloaded(bytes, 'image/png');
      assert.equal(r.mediaType, 'image/png', f);
      const t = await makeThumbnails(file, out, f.replace('.png', ''));
      assert.equal((await sharp(t.small).metadata()).format, 'webp');
      good++;
    }
  }
  assert.deepEqual({ good, bad }, { good: PNGSUITE_FILES - PNGSUITE_CORRUPT, bad: PNGSUITE_CORRUPT });
});

test('broken real-world images are refused as provider outputs with a typed reason', needsFixtures(BAD_IMAGES), async () => {
  const kinds: Record<string, string> = {};
  for (const file of fixtureFiles(BAD_IMAGES)) {
    await assert.rejects(checkDownloaded(await fs.readFile(file), 'image/png', { minSide: MIN_OUTPUT_SIDE }), (e: unknown) => {
      kinds[path.basename(file)] = (e as MediaError).kind;
      return e instanceof MediaError;
    });
  }
  // 1×1 images are placeholders ("empty"), and a JPEG labelled PNG is a mismatch.
  assert.deepEqual(kinds, { 'empty_file.png': 'empty', 'empty_image.jpg': 'mismatch', 'empty_image.png': 'empty', 'text_after_idat.png': 'empty' });
  // Text after IDAT is legal: the chunk reader still finds it (A1111's parameters among it).
  const texts = readPngTextChunks(await fs.readFile(path.join(BAD_IMAGES, 'text_after_idat.png')));
  assert.equal(texts.length, 7);
  assert.match(texts.find((t) => t.keyword === 'parameters')?.text ?? '', /^photo of a duck\nNegative prompt: monochrome\nSteps: 15, Sampler: UniPC/);
});

test('sniffing by magic bytes, and claims that do not fit are refused', async () => {
  const cases: [number[] | string, string | undefined][] = [
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png'],
    [[0xff, 0xd8, 0xff, 0xe0], 'image/jpeg'],
    ['RIFF\0\0\0\0WEBPVP8 ', 'image/webp'],
    ['GIF89a', 'image/gif'],
    ['\0\0\0\x1cftypavif', 'image/avif'],
    ['\0\0\0\x18ftypisom', 'video/mp4'],
    ['\0\0\0\x14ftypqt  ', 'video/quicktime'],
    [[0x1a, 0x45, 0xdf, 0xa3, 0x42, 0x82, 0x84, ...Buffer.from('webm')], 'video/webm'],
    ['OggS', 'audio/ogg'],
    ['fLaC', 'audio/flac'],
    ['ID3\x04', 'audio/mpeg'],
    ['RIFF\0\0\0\0WAVEfmt ', 'audio/wav'],
    ['<!DOCTYPE html>', undefined],
  ];
  for (const [head, want] of cases) {
    const bytes = typeof head === 'string' ? Buffer.from(head, 'latin1') : Buffer.from(head);
    assert.equal(sniffMedia(bytes)?.mediaType, want, String(head));
  }
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: 'red' } }).png().toBuffer();
  await assert.rejects(checkDownloaded(png, 'image/jpeg'), (e: unknown) => (e as MediaError).kind === 'mismatch');
  await assert.rejects(checkDownloaded(Buffer.from('<html><body>502 Bad Gateway</body></html>')), (e: unknown) => (e as MediaError).kind === 'unknown-format');
  await assert.rejects(checkDownloaded(png.subarray(0, png.length - 20)), (e: unknown) => (e as MediaError).kind === 'truncated');
  assert.equal((await checkDownloaded(png, 'application/octet-stream')).width, 32);
});

test('A1111 parameters text has the exact layout and round-trips', () => {
  const text = formatA1111Parameters({ prompt: 'a fox, in snow', negativePrompt: 'blurry', steps: 28, sampler: 'Euler', cfgScale: 3.5, seed: 123, width: 1024, height: 768, model: 'fal-ai/flux/dev' });
  assert.equal(text, 'a fox, in snow\nNegative prompt: blurry\nSteps: 28, Sampler: Euler, CFG scale: 3.5, Seed: 123, Size: 1024x768, Model: fal-ai/flux/dev');
  assert.deepEqual(parseA1111Parameters(text), { prompt: 'a fox, in snow', negativePrompt: 'blurry', steps: 28, sampler: 'Euler', cfgScale: 3.5, seed: 123, width: 1024, height: 768, model: 'fal-ai/flux/dev' });
  const quoted = formatA1111Parameters({ prompt: 'x', model: 'a, b: c' });
  assert.equal(quoted, 'x\nModel: "a, b: c"');
  assert.equal(parseA1111Parameters(quoted).model, 'a, b: c');
  // A real Forge line with extra fields.
  const forge = parseA1111Parameters('cat\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x512, Model hash: abc123, Model: sdxl');
  assert.equal(forge.sampler, 'DPM++ 2M');
  assert.equal(forge.extra?.['Schedule type'], 'Karras');
});

test('embedded chunks are read back by an independent reader, and sharp still decodes the file', async () => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toBuffer();
  const full = JSON.stringify({ id: 'p1', prompt: 'Ünïcødé 🦊 lighthouse' });
  const out = Buffer.from(embedParameters(png, { prompt: 'Ünïcødé 🦊 lighthouse', seed: 7, width: 64, height: 48, model: 'sample/gradient', input: { num_inference_steps: 20, guidance_scale: 5 } }, full));
  const chunks = independentTextChunks(out);
  assert.equal(chunks.parameters.split('\n')[1], 'Steps: 20, CFG scale: 5, Seed: 7, Size: 64x48, Model: sample/gradient');
  assert.equal(chunks.artfactory, full);
  assert.deepEqual((await sharp(out).metadata()).width, 64);
  assert.equal(readEmbeddedParameters(out).parameters?.seed, 7);
  // Re-embedding replaces rather than duplicates.
  const again = addPngTextChunks(out, [{ keyword: 'parameters', text: 'y' }]);
  assert.equal(readPngTextChunks(again).filter((t) => t.keyword === 'parameters').length, 1);
});
