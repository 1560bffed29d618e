// Each VSIX, unpacked: the bundles, the sql.js wasm and the media; sharp with exactly its
// platform's binaries (checked by their headers, not only their names); no sources or tests;
// under 10 MB. sharp really loads from the VSIXs built for this machine and the universal one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ALL_TARGETS, binaryPlatform, ensureVsix, readVsix, ROOT, type Target } from './vsix.ts';

const HOST = `${process.platform}-${process.arch}`;
const MAX_BYTES = 10_000_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'af-vsix-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** sharp's package names per target: its binary and, except on Windows and wasm, libvips. */
const EXPECTED: Record<Target, { packages: string[]; binary: string }> = {
  'darwin-arm64': { packages: ['@img/sharp-darwin-arm64', '@img/sharp-libvips-darwin-arm64'], binary: 'darwin-arm64' },
  'darwin-x64': { packages: ['@img/sharp-darwin-x64', '@img/sharp-libvips-darwin-x64'], binary: 'darwin-x64' },
  'linux-x64': { packages: ['@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64'], binary: 'linux-x64' },
  'linux-arm64': { packages: ['@img/sharp-linux-arm64', '@img/sharp-libvips-linux-arm64'], binary: 'linux-arm64' },
  'win32-x64': { packages: ['@img/sharp-win32-x64'], binary: 'win32-x64' },
  universal: { packages: ['@img/sharp-wasm32'], binary: 'wasm' },
};

function head(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4096);
    readSync(fd, b, 0, b.length, 0);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** What every VSIX must hold, and must not. */
function checkCommon(names: string[], label: string): void {
  for (const required of [
    'extension/package.json',
    'extension/readme.md',
    'extension/changelog.md',
    'extension/LICENSE.txt',
    'extension/dist/extension.js',
    'extension/dist/db-worker.js',
    'extension/dist/cli.js',
    'extension/dist/sql-wasm.wasm',
    'extension/dist/webviews/gallery.js',
    'extension/dist/webviews/gallery.css',
    'extension/media/icon.png',
    'extension/media/schemas/art.schema.json',
    'extension/dist/node_modules/sharp/package.json',
    'extension/dist/node_modules/sharp/lib/index.js',
  ]) {
    assert.ok(names.includes(required), `${label}: missing ${required}`);
  }
  const leaked = names.filter((n) => /^extension\/(src|test|bench|scripts|demo|docs)\//.test(n) || /\.map$|\.ts$/.test(n.replace(/\.d\.ts$/, '')) || n.startsWith('extension/node_modules/'));
  assert.deepEqual(leaked, [], `${label}: sources, tests or the full node_modules leaked`);
}

/** The @img packages in a VSIX (besides @img/colour, which is plain JavaScript). */
function imgPackages(names: string[]): string[] {
  const found = new Set<string>();
  for (const n of names) {
    const m = /^extension\/dist\/node_modules\/(@img\/[^/]+)\//.exec(n);
    if (m && m[1] !== '@img/colour') found.add(m[1]);
  }
  return [...found].sort();
}

/** Native code and wasm in the VSIX, except sql.js's own wasm. */
const isBinary = (n: string) => /\.(node|dll|dylib|wasm)$|\.so(\.\d+)*$/.test(n) && n !== 'extension/dist/sql-wasm.wasm';

for (const target of ALL_TARGETS) {
  test(`art-factory-${target}.vsix holds ${target}'s sharp binaries and no other platform's, the sql.js wasm, no sources, under 10 MB`, async () => {
    const file = ensureVsix(target);
    const dir = path.join(tmp, target);
    const names = await readVsix(file, dir);
    checkCommon(names, target);
    const want = EXPECTED[target];
    assert.deepEqual(imgPackages(names), [...want.packages].sort(), `${target}: exactly its platform's sharp packages`);
    const binaries = names.filter(isBinary);
    assert.ok(binaries.some((n) => n.includes(`${want.packages[0]}/lib/`)), `${target}: the sharp binary itself`);
    if (want.packages[1]) assert.ok(binaries.some((n) => /\/lib\/libvips-cpp/.test(n) && n.includes(want.packages[1])), `${target}: libvips`);
    if (target === 'win32-x64') assert.ok(binaries.some((n) => n.endsWith('libvips-42.dll')), 'win32: libvips inside sharp-win32-x64');
    for (const b of binaries) assert.equal(binaryPlatform(head(path.join(dir, b))), want.binary, `${target}: ${b} is built for ${want.binary}`);
    const manifest = readFileSync(path.join(dir, 'extension.vsixmanifest'), 'utf8');
    const declared = /TargetPlatform="([^"]+)"/.exec(manifest)?.[1];
    assert.equal(declared, target === 'universal' ? undefined : target, `${target}: the manifest's target platform`);
    const size = statSync(file).size;
    assert.ok(size < MAX_BYTES, `${target}: ${(size / 1e6).toFixed(2)} MB is under 10 MB`);
  });
}

test('the VSIX for this machine is the one `npm run package` builds, and sharp loads from it and from the universal one', async () => {
  const file = ensureVsix();
  const names = await readVsix(file, path.join(tmp, 'host'));
  checkCommon(names, 'art-factory.vsix');
  assert.ok(imgPackages(names).includes(`@img/sharp-${HOST}`), `sharp for ${HOST}`);
  // The Marketplace shows the README without the repository around it: vsce rewrites relative
  // links and images against package.json's "repository", and images must be https.
  const readme = readFileSync(path.join(tmp, 'host', 'extension', 'readme.md'), 'utf8');
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  const images = (text: string) => [...text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  const sourceImages = images(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  assert.ok(sourceImages.length > 0, 'the README has screenshots');
  assert.deepEqual(images(readme).map((t) => t.replace(/^https:\/\/.*?\/(docs\/images\/)/, '$1')), sourceImages, 'every screenshot of the README is in the packaged one');
  assert.deepEqual(targets.filter((t) => !/^https:\/\//.test(t) && !t.startsWith('#')), [], 'every README link and image is absolute https');
  // Load sharp from the unpacked extension as the extension host would, and make a thumbnail.
  const probe = (dir: string) =>
    JSON.parse(
      execFileSync(process.execPath, ['-e', "const s=require('sharp');s({create:{width:4,height:3,channels:3,background:'red'}}).webp().toBuffer().then(b=>console.log(JSON.stringify({versions:s.versions,bytes:b.length})))"], {
        cwd: path.join(dir, 'extension', 'dist'),
        encoding: 'utf8',
      }),
    ) as { versions: Record<string, string>; bytes: number };
  const native = probe(path.join(tmp, 'host'));
  assert.ok(native.bytes > 0 && native.versions.vips, 'native sharp works from the VSIX');
  await readVsix(ensureVsix('universal'), path.join(tmp, 'universal-load'));
  const wasm = probe(path.join(tmp, 'universal-load'));
  assert.ok(wasm.bytes > 0, 'sharp works from the universal VSIX');
  assert.ok(wasm.versions.emscripten, `the universal VSIX runs sharp's WebAssembly build (${JSON.stringify(wasm.versions)})`);
});
