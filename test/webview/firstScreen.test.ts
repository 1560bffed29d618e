// The first screen's thumbnails carried in the gallery's HTML (src/webviews/firstScreen.ts):
// real WebP files made by sharp, read back from data: URIs the webview's own schema accepts;
// what is not a small regular image file keeps its URI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { firstScreenTiles, inlineThumbnails, MAX_INLINE_BYTES } from '../../src/webviews/firstScreen.ts';
import { Tile, type Tile as TileT } from '../../src/webviews/protocol.ts';

let dir: string;
const files = new Map<string, string>();

function tile(i: number, file?: string): TileT {
  const thumb = file === undefined ? undefined : `https://file.test/${i}`;
  if (thumb && file) files.set(thumb, file);
  return Tile.parse({ id: `p${i}`, kind: 'product', project: dir, thumb, provider: 'sample', model: 'sample/gradient', createdAt: '2026-12-01T00:00:00Z' });
}

const fileOf = (uri: string) => files.get(uri);

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'af-first-screen-'));
  for (let i = 0; i < 6; i++) {
    await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 40 * i, g: 100, b: 200 } } }).webp().toFile(path.join(dir, `t${i}.webp`));
  }
});

test('the first screen of a tile size: columns and rows of a 1600 × 1000 editor, rounded up', () => {
  assert.equal(firstScreenTiles(180), 9 * 6);
  assert.equal(firstScreenTiles(640), 3 * 2);
});

test('the first `count` thumbnails become data: URIs of the very bytes, which the webview schema accepts; the rest keep their URIs', async () => {
  const tiles = [0, 1, 2, 3].map((i) => tile(i, path.join(dir, `t${i}.webp`)));
  const { tiles: out, carried } = await inlineThumbnails(tiles, fileOf, { count: 3, budget: 1_000_000 });
  for (const i of [0, 1, 2]) {
    const m = /^data:image\/webp;base64,(.+)$/.exec(out[i].thumb ?? '');
    assert.ok(m, `tile ${i} is carried`);
    assert.deepEqual(Buffer.from(m[1], 'base64'), await fs.readFile(path.join(dir, `t${i}.webp`)));
    assert.equal(carried.get(path.join(dir, `t${i}.webp`)), out[i].thumb);
    assert.ok(Tile.safeParse(out[i]).success, 'the schema the webview checks it with accepts it');
  }
  assert.equal(out[3].thumb, 'https://file.test/3', 'past the first screen');
  assert.equal(carried.size, 3);
  assert.equal(tiles[0].thumb, 'https://file.test/0', 'the tiles given are not changed');
});

test('the budget stops the carrying: the tiles after it keep their URIs', async () => {
  const size = (await fs.stat(path.join(dir, 't0.webp'))).size;
  const tiles = [0, 1, 2].map((i) => tile(10 + i, path.join(dir, `t${i}.webp`)));
  const { tiles: out } = await inlineThumbnails(tiles, fileOf, { count: 3, budget: size + 1 });
  assert.match(out[0].thumb ?? '', /^data:/);
  assert.equal(out[1].thumb, 'https://file.test/11');
  assert.equal(out[2].thumb, 'https://file.test/12');
});

test('what is not a small regular image file keeps its URI: too large, a link, a pipe, another type, missing, no thumbnail, an unknown URI', async () => {
  const large = path.join(dir, 'large.png');
  await fs.writeFile(large, Buffer.alloc(MAX_INLINE_BYTES + 1, 1));
  const link = path.join(dir, 'link.webp');
  await fs.symlink(path.join(dir, 't0.webp'), link);
  const pipe = path.join(dir, 'pipe.webp');
  execFileSync('mkfifo', [pipe]);
  const text = path.join(dir, 'notes.txt');
  await fs.writeFile(text, 'not an image');
  const cases = [tile(20, large), tile(21, link), tile(22, pipe), tile(23, text), tile(24, path.join(dir, 'gone.webp')), tile(25), { ...tile(26), thumb: 'https://file.test/unknown' }];
  // Within a second: a pipe is never opened (opening one for reading would wait for a writer).
  const { tiles: out, carried } = await Promise.race([inlineThumbnails(cases, fileOf, { count: 10, budget: 10_000_000 }), new Promise<never>((_, no) => setTimeout(() => no(new Error('waited on the pipe')), 1000).unref())]);
  assert.deepEqual(
    out.map((t) => t.thumb),
    cases.map((t) => t.thumb),
  );
  assert.equal(carried.size, 0);
});
