// Import, export and contact sheets in a process whose sharp cannot load (its module
// resolution cannot find the platform package, test/support/hide-sharp-binaries.mjs).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { createProject } from '../../src/storage/index.ts';
import { stealthPng } from './formatFixtures.ts';
import { A1111_TEXT } from './metadataFixtures.ts';

const run = promisify(execFile);

test('without sharp: images import checked by their bytes, originals export; converting and contact sheets say they need sharp, once each', async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'af-nosharp-archive-'));
  const project = path.join(base, 'project');
  await createProject(project, 'No sharp');
  const source = path.join(base, 'in');
  await fs.mkdir(source);
  const noise = () => sharp({ create: { width: 300, height: 200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 50 } } });
  await fs.writeFile(path.join(source, 'one.png'), await noise().png().toBuffer());
  await fs.writeFile(path.join(source, 'two.jpg'), await noise().resize(150, 100).jpeg().toBuffer());
  // Parameters hidden in the alpha channel are read from the PNG's own pixels, sharp or not.
  await fs.writeFile(path.join(source, 'stealth.png'), await stealthPng(A1111_TEXT, { width: 80, height: 60 }));
  const cut = await noise().webp().toBuffer();
  await fs.writeFile(path.join(source, 'cut.webp'), cut.subarray(0, cut.length - 100));

  const { stdout } = await run(process.execPath, ['--import', path.join(__dirname, '../support/hide-sharp-binaries.mjs'), '--import', 'tsx', path.join(__dirname, 'noSharp.child.ts'), project, source, path.join(base, 'out')], { cwd: path.resolve(__dirname, '../..') });
  const r = JSON.parse(stdout) as { imported: number; skipped: { file: string; reason: string }[]; sizes: number[][]; tools: Record<string, { tool: string; prompt?: string }>; originals: number; jpeg: string; sheet: string; thumbs: string[]; warnings: string[] };
  assert.equal(r.imported, 3);
  assert.deepEqual(r.tools['stealth.png'], { tool: 'a1111', prompt: 'masterpiece, a lighthouse at dusk, <lora:film:0.7>' });
  assert.deepEqual(r.skipped.map((s) => path.basename(s.file)), ['cut.webp'], 'the cut WebP is refused by its structure');
  assert.deepEqual(r.sizes.map((s) => s.join('×')).sort(), ['150×100', '300×200', '80×60']);
  assert.equal(r.originals, 3, 'originals need no sharp');
  assert.match(r.jpeg, /^Converting exports to PNG, JPEG or WebP needs the image library sharp, which could not load on this machine \([\w-]+\)\. Install the Art Factory build for /);
  assert.match(r.sheet, /^Making contact sheets needs the image library sharp/);
  assert.deepEqual(r.thumbs, []);
  assert.equal(r.warnings.length, 1, 'one warning for the whole process');
  await fs.rm(base, { recursive: true, force: true });
});
