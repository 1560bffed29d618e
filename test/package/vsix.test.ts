import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as yauzl from 'yauzl';

const ROOT = path.resolve(__dirname, '../..');
const VSIX = path.join(ROOT, 'dist', 'art-factory.vsix');

function entries(file: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    }),
  );
}

test('the VSIX holds the bundles, the wasm, the media and sharp for this platform, and no sources or tests', async () => {
  // The test command packages before it runs the tests; build here only when run alone.
  if (!existsSync(VSIX)) execFileSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, stdio: 'ignore' });
  const names = await entries(VSIX);
  for (const required of [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/db-worker.js',
    'extension/dist/cli.js',
    'extension/dist/sql-wasm.wasm',
    'extension/dist/webviews/gallery.js',
    'extension/dist/webviews/gallery.css',
    'extension/media/icon.png',
    'extension/media/schemas/art.schema.json',
    'extension/dist/node_modules/sharp/package.json',
    `extension/dist/node_modules/@img/sharp-${process.platform}-${process.arch}/lib/sharp-${process.platform}-${process.arch}.node`,
  ]) {
    assert.ok(names.includes(required), `missing ${required}`);
  }
  assert.ok(names.some((n) => /@img\/sharp-libvips-[\w-]+\/lib\/libvips/.test(n)), 'libvips for the platform');
  const leaked = names.filter((n) => /^extension\/(src|test|bench|scripts)\//.test(n) || /\.map$|\.ts$/.test(n.replace(/\.d\.ts$/, '')) || n.startsWith('extension/node_modules/'));
  assert.deepEqual(leaked, []);
});
