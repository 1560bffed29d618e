// `npm run package`: the VSIX for this machine, dist/art-factory.vsix (the tests install it).
// `npm run package -- --target T`: dist/art-factory-T.vsix for a VS Code target (darwin-arm64,
//   darwin-x64, linux-x64, linux-arm64, win32-x64, …, or universal: sharp's WebAssembly build).
// `npm run package:all`: the five platform VSIXs. The universal one is not shipped: its cold
//   start is over 3× slower than native (docs/ARCHITECTURE.md, `npm run bench -- --only sharp`).
// The bundles are built once; each VSIX then gets exactly its platform's sharp binaries in
// dist/node_modules (scripts/sharp-runtime.mjs), and this machine's are put back at the end.
import { execFileSync } from 'node:child_process';
import { renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';
import pako from 'pako';
import yauzl from 'yauzl';
import { copySharp, ROOT, TARGETS } from './sharp-runtime.mjs';

export const ALL = ['darwin-arm64', 'darwin-x64', 'linux-x64', 'linux-arm64', 'win32-x64'];

const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, all: { type: 'boolean' } } });
const targets = [...new Set([...(values.all ? ALL : []), ...(values.target ?? [])])];
for (const t of targets) if (!TARGETS[t]) throw new Error(`Unknown target "${t}". Use one of: ${Object.keys(TARGETS).join(', ')}.`);

const dist = join(ROOT, 'dist');
execFileSync(process.execPath, [join(ROOT, 'esbuild.mjs'), '--production'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

/** The VSIX again, same entries in the same order, deflated by pako (classic zlib). vsce
 * deflates with Node's zlib (Chromium's, tuned for speed), which packs libvips' DLL 2.5% worse:
 * recompressed, win32-x64 is about 230 KB smaller (level 9 would take twice the time for 0.3%
 * more). A plain zip (no zip64: a VSIX is far below 4 GB and 65,535 entries). */
async function recompress(file) {
  const zip = await yauzl.openPromise(file, { autoClose: false });
  const local = [];
  const central = [];
  let offset = 0;
  try {
    for await (const e of zip.eachEntry()) {
      const chunks = [];
      for await (const c of await zip.openReadStreamPromise(e)) chunks.push(c);
      const body = Buffer.concat(chunks);
      const data = Buffer.from(pako.deflateRaw(body, { level: 6 }));
      const name = Buffer.from(e.fileName, 'utf8');
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(20, 4); // version needed: deflate
      h.writeUInt16LE(0x0800, 6); // names are UTF-8
      h.writeUInt16LE(8, 8); // deflate
      h.writeUInt16LE(e.lastModFileTime, 10);
      h.writeUInt16LE(e.lastModFileDate, 12);
      h.writeUInt32LE(crc32(body), 14);
      h.writeUInt32LE(data.length, 18);
      h.writeUInt32LE(body.length, 22);
      h.writeUInt16LE(name.length, 26);
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(e.versionMadeBy, 4); // keeps the entries' Unix modes meaningful
      h.copy(c, 6, 4, 28); // version needed … name length, as in the local header
      c.writeUInt32LE(e.externalFileAttributes, 38);
      c.writeUInt32LE(offset, 42);
      local.push(h, name, data);
      central.push(c, name);
      offset += h.length + name.length + data.length;
    }
  } finally {
    zip.close();
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(central.length / 2, 8);
  end.writeUInt16LE(central.length / 2, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(`${file}.tmp`, Buffer.concat([...local, cd, end]));
  renameSync(`${file}.tmp`, file);
}

async function vsce(target) {
  const out = join(dist, target ? `art-factory-${target}.vsix` : 'art-factory.vsix');
  // universal is vsce's default: no --target, so it installs on every platform.
  const args = ['package', '--no-dependencies', ...(target && target !== 'universal' ? ['--target', target] : []), '-o', out];
  execFileSync(join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce'), args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  await recompress(out);
  console.log(`${out} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB)`);
}

try {
  if (targets.length === 0) await vsce(undefined);
  for (const t of targets) {
    copySharp(dist, t);
    await vsce(t);
  }
} finally {
  if (targets.length) copySharp(dist); // dist/ runs on this machine again (tests, the CLI)
}
