import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { pngBytes } from '../fakes/common.ts';
import { runCli as run } from './run.ts';

interface JsonOut {
  products: { id: string; path: string; inputs: { field: string; sha256: string; product: string | null; path: string | null }[] }[];
}

test('init makes a project and refuses a folder that already is one; generate takes a path and a product: and prints their lineage', async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'af-cli-img-'));
  const dir = path.join(base, 'studio');
  const made = await run(['init', dir, '--name', 'Studio']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /Created the Art Factory project "Studio"/);
  assert.equal(JSON.parse(await fs.readFile(path.join(dir, 'artfactory.json'), 'utf8')).name, 'Studio');
  for (const sub of ['params', 'products', 'templates', '.artfactory']) assert.ok(existsSync(path.join(dir, sub)), sub);
  const manifest = await fs.readFile(path.join(dir, 'artfactory.json'), 'utf8');
  const again = await run(['init', dir, '--name', 'Other']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already an Art Factory project; nothing was changed/);
  assert.equal(await fs.readFile(path.join(dir, 'artfactory.json'), 'utf8'), manifest, 'the manifest is untouched');
  assert.equal((await run(['init'])).code, 2, 'a folder is required');
  const named = await run(['init', path.join(base, 'plain-name')]);
  assert.equal(named.code, 0);
  assert.equal(JSON.parse(await fs.readFile(path.join(base, 'plain-name', 'artfactory.json'), 'utf8')).name, 'plain-name', 'the name defaults to the folder');

  const photo = await pngBytes(80, 60, [30, 90, 200]);
  await fs.writeFile(path.join(dir, 'params', 'photo.png'), photo);
  const first = path.join(dir, 'params', 'tint.art.json');
  await fs.writeFile(first, JSON.stringify({ provider: 'sample', model: 'sample/image-to-image', input: { prompt: 'cli tint', image_url: './photo.png', width: 256, height: 256, duration_ms: 50 } }));
  const gen = await run(['generate', first, '--project', dir, '--json']);
  assert.equal(gen.code, 0, gen.stderr);
  const out = JSON.parse(gen.stdout) as JsonOut;
  assert.deepEqual(out.products[0].inputs, [{ field: 'image_url', sha256: createHash('sha256').update(photo).digest('hex'), product: null, path: './photo.png' }]);

  const source = out.products[0].id;
  const second = path.join(dir, 'params', 'again.art.json');
  await fs.writeFile(second, JSON.stringify({ provider: 'sample', model: 'sample/image-to-image', input: { prompt: 'cli again', image_url: `product:${source}`, width: 256, height: 256, duration_ms: 50 } }));
  const gen2 = await run(['generate', second, '--project', dir, '--json']);
  assert.equal(gen2.code, 0, gen2.stderr);
  const out2 = JSON.parse(gen2.stdout) as JsonOut;
  const sourceBytes = await fs.readFile(out.products[0].path);
  assert.deepEqual(out2.products[0].inputs, [{ field: 'image_url', sha256: createHash('sha256').update(sourceBytes).digest('hex'), product: source, path: null }]);

  // A text-to-image product has no inputs; its entry says so with an empty list.
  const plain = path.join(dir, 'params', 'plain.art.json');
  await fs.writeFile(plain, JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'no inputs', width: 256, height: 256, duration_ms: 20 } }));
  assert.deepEqual((JSON.parse((await run(['generate', plain, '--project', dir, '--json'])).stdout) as JsonOut).products[0].inputs, []);
});

test('generate reports each bad image at its line and column and sends nothing; the input size limit comes from ARTFACTORY_INPUT_MAX_MB', async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'af-cli-img-'));
  const dir = path.join(base, 'p');
  assert.equal((await run(['init', dir])).code, 0);
  await fs.writeFile(path.join(dir, 'params', 'notes.png'), 'I am text with a .png name');
  await fs.writeFile(path.join(dir, 'params', 'big.png'), await pngBytes(64, 64, [1, 1, 1]));
  const file = path.join(dir, 'params', 'bad.art.json');
  await fs.writeFile(
    file,
    `{
  "provider": "sample",
  "model": "sample/image-to-image",
  "input": { "prompt": "x", "duration_ms": 10, "image_url": "./missing.png" },
  "sweep": { "image_url": ["notes.png", "product:NOPE-1", "./big.png"] }
}`,
  );
  const bad = await run(['generate', file, '--project', dir], { ARTFACTORY_INPUT_MAX_MB: String(100 / 1024 / 1024) });
  assert.equal(bad.code, 2);
  const lines = bad.stderr.trim().split('\n');
  assert.match(lines[0], /bad\.art\.json:4:\d+: error: "image_url": "\.\/missing\.png" was not found/);
  assert.match(lines[1], /bad\.art\.json:5:\d+: error: "image_url": "notes\.png" is not an image/);
  assert.match(lines[2], /bad\.art\.json:5:\d+: error: "image_url": There is no product "NOPE-1"/);
  assert.match(lines[3], /bad\.art\.json:5:\d+: error: "image_url": "\.\/big\.png" is [\d.]+ MB; image inputs are limited to 0\.0 MB \(raise ARTFACTORY_INPUT_MAX_MB\)/);
  assert.match(lines[4], /4 problems; nothing was sent\./);
  const cols = lines.slice(1, 4).map((l) => Number(/:5:(\d+):/.exec(l)![1]));
  assert.ok(cols[0] < cols[1] && cols[1] < cols[2], `each at its own value: ${cols.join(', ')}`);
  const listed = JSON.parse((await run(['list', '--project', dir, '--json'])).stdout);
  assert.equal(listed.total, 0, 'no product, no job ran');
});
