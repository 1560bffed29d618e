// `art-factory import`: the palette's import from a terminal, its --json report and exit codes.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createProject } from '../../src/storage/index.ts';
import * as X from '../archive/formatFixtures.ts';
import * as F from '../archive/metadataFixtures.ts';
import { runCli as run } from './run.ts';

async function setup(): Promise<{ dir: string; src: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-cli-import-'));
  const dir = path.join(root, 'p');
  await createProject(dir, 'CLI import');
  const src = path.join(root, 'in');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  return { dir, src };
}

interface Report {
  imported: Record<string, unknown>[];
  duplicates: { file: string; productId: string }[];
  skipped: { file: string; kind: string; reason: string }[];
}

test('import --json: each product with what was read, the duplicates and the skipped files with reasons; exit 3 when some were skipped', async () => {
  const { dir, src } = await setup();
  const a1111 = await F.pngWithText([{ keyword: 'parameters', text: F.A1111_TEXT }]);
  await fs.writeFile(path.join(src, 'a1111.png'), a1111);
  await fs.writeFile(path.join(src, 'sub', 'copy.png'), a1111);
  await fs.writeFile(path.join(src, 'sub', 'sd3.png'), await F.pngWithText([{ keyword: 'prompt', text: X.COMFY_API_SD3 }]));
  await fs.writeFile(path.join(src, 'cut.png'), a1111.subarray(0, 200));
  const r = await run(['import', src, '--project', dir, '--json']);
  assert.equal(r.code, 3, r.stderr);
  const out = JSON.parse(r.stdout) as Report;
  const byFile = Object.fromEntries(out.imported.map((e) => [path.basename(String(e.file)), e]));
  assert.equal(out.imported.length, 2);
  const a = byFile[out.duplicates[0]?.file === path.join(src, 'a1111.png') ? 'copy.png' : 'a1111.png'];
  assert.deepEqual(Object.keys(a), ['file', 'id', 'tool', 'prompt', 'negativePrompt', 'seed', 'steps', 'cfgScale', 'sampler', 'model', 'width', 'height']);
  assert.deepEqual({ ...a, file: undefined, id: undefined }, { file: undefined, id: undefined, tool: 'a1111', prompt: 'masterpiece, a lighthouse at dusk, <lora:film:0.7>', negativePrompt: 'blurry, lowres', seed: 3021544718, steps: 28, cfgScale: 6.5, sampler: 'DPM++ 2M', model: 'sd_xl_base_1.0', width: 832, height: 1216 });
  assert.match(String(a.id), /^imp-[0-9a-f]{32}$/);
  assert.ok(path.isAbsolute(String(a.file)), 'the source, as an absolute path');
  const sd3 = byFile['sd3.png'];
  assert.equal(sd3.seed, '18446744073709551557', 'a 64-bit seed as its exact digits');
  assert.equal(sd3.tool, 'comfyui');
  assert.equal(out.duplicates.length, 1, 'the copy in sub/ is a duplicate');
  assert.equal(out.duplicates[0].productId, a.id);
  assert.deepEqual(out.skipped.map((s) => [path.basename(s.file), s.kind]), [['cut.png', 'truncated']]);
  assert.match(out.skipped[0].reason, /^The PNG file is truncated/);
  assert.match(r.stderr, /2 imported \(1 a1111, 1 comfyui\), 1 already in the project, 1 skipped\./);
  assert.ok(existsSync(path.join(dir, '.artfactory', 'thumbs', `${String(a.id)}-256.webp`)), 'thumbnails are made before the command exits');
  const listed = await run(['list', '--project', dir, '--json']);
  assert.equal(JSON.parse(listed.stdout).total, 2);
});

test('import exit codes: 0 all imported or already there, 4 nothing imported, 2 usage; plain output is one line per product', async () => {
  const { dir, src } = await setup();
  await fs.writeFile(path.join(src, 'one.png'), await F.pngWithText([{ keyword: 'parameters', text: 'a cat\nSteps: 4' }]));
  const first = await run(['import', path.join(src, 'one.png'), '--project', dir]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^imp-[0-9a-f]{32}\ta1111\t\/.*one\.png\n$/);
  const again = await run(['import', src, '--project', dir]);
  assert.equal(again.code, 0, 'already in the project is not a failure');
  assert.match(again.stderr, /0 imported, 1 already in the project, 0 skipped/);
  await fs.mkdir(path.join(src, 'empty'));
  const none = await run(['import', path.join(src, 'empty'), '--project', dir]);
  assert.equal(none.code, 4);
  assert.match(none.stderr, /No images found/);
  await fs.writeFile(path.join(src, 'empty', 'notes.png'), 'not an image');
  const bad = await run(['import', path.join(src, 'empty'), path.join(src, 'missing.png'), '--project', dir, '--json']);
  assert.equal(bad.code, 4, 'every file skipped');
  assert.deepEqual((JSON.parse(bad.stdout) as Report).skipped.map((s) => s.kind).sort(), ['unreadable', 'unsupported']);
  assert.equal((await run(['import', '--project', dir])).code, 2);
  assert.equal((await run(['import', src])).code, 2, '--project is required');
  assert.equal((await run(['import', src, '--project', dir, '--max-megapixels', 'lots'])).code, 2);
});
