// `npm run package`: the VSIX for this machine, dist/art-factory.vsix (the tests install it).
// `npm run package -- --target T`: dist/art-factory-T.vsix for a VS Code target (darwin-arm64,
//   darwin-x64, linux-x64, linux-arm64, win32-x64, …, or universal: sharp's WebAssembly build).
// `npm run package:all`: the five platform VSIXs. The universal one is not shipped: its cold
//   start is over 3× slower than native (docs/ARCHITECTURE.md, `npm run bench -- --only sharp`).
// The bundles are built once; each VSIX then gets exactly its platform's sharp binaries in
// dist/node_modules (scripts/sharp-runtime.mjs), and this machine's are put back at the end.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { copySharp, ROOT, TARGETS } from './sharp-runtime.mjs';

export const ALL = ['darwin-arm64', 'darwin-x64', 'linux-x64', 'linux-arm64', 'win32-x64'];

const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, all: { type: 'boolean' } } });
const targets = [...new Set([...(values.all ? ALL : []), ...(values.target ?? [])])];
for (const t of targets) if (!TARGETS[t]) throw new Error(`Unknown target "${t}". Use one of: ${Object.keys(TARGETS).join(', ')}.`);

const dist = join(ROOT, 'dist');
execFileSync(process.execPath, [join(ROOT, 'esbuild.mjs'), '--production'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

function vsce(target) {
  const out = join(dist, target ? `art-factory-${target}.vsix` : 'art-factory.vsix');
  // universal is vsce's default: no --target, so it installs on every platform.
  const args = ['package', '--no-dependencies', ...(target && target !== 'universal' ? ['--target', target] : []), '-o', out];
  execFileSync(join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce'), args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`${out} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MB)`);
}

try {
  if (targets.length === 0) vsce(undefined);
  for (const t of targets) {
    copySharp(dist, t);
    vsce(t);
  }
} finally {
  if (targets.length) copySharp(dist); // dist/ runs on this machine again (tests, the CLI)
}
