// sharp for a VSIX: its JavaScript (from this checkout's node_modules, as the lock file pins
// it) and the prebuilt binaries of ONE platform, copied into dist/node_modules, which is what
// the VSIX ships instead of the whole node_modules. Another platform's binaries come from a
// staging folder where npm installs sharp with `--os/--cpu/--libc` (npm ≥ 10 installs the
// optional dependencies of the platform it is told, from the npm registry only).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STAGE = join(ROOT, 'node_modules', '.cache', 'art-factory-vsix');

/** VS Code targets (`vsce package --target`) → npm's platform and sharp's package suffix.
 * sharp 0.34 puts libvips in its own package except on Windows (inside sharp-win32-*), and has
 * a WebAssembly build that runs anywhere: the universal VSIX. */
export const TARGETS = {
  'darwin-arm64': { os: 'darwin', cpu: 'arm64', sharp: 'darwin-arm64', libvips: true },
  'darwin-x64': { os: 'darwin', cpu: 'x64', sharp: 'darwin-x64', libvips: true },
  'linux-x64': { os: 'linux', cpu: 'x64', libc: 'glibc', sharp: 'linux-x64', libvips: true },
  'linux-arm64': { os: 'linux', cpu: 'arm64', libc: 'glibc', sharp: 'linux-arm64', libvips: true },
  'linux-armhf': { os: 'linux', cpu: 'arm', libc: 'glibc', sharp: 'linux-arm', libvips: true },
  'alpine-x64': { os: 'linux', cpu: 'x64', libc: 'musl', sharp: 'linuxmusl-x64', libvips: true },
  'alpine-arm64': { os: 'linux', cpu: 'arm64', libc: 'musl', sharp: 'linuxmusl-arm64', libvips: true },
  'win32-x64': { os: 'win32', cpu: 'x64', sharp: 'win32-x64', libvips: false },
  'win32-arm64': { os: 'win32', cpu: 'arm64', sharp: 'win32-arm64', libvips: false },
  universal: { cpu: 'wasm32', sharp: 'wasm32', libvips: false },
};

/** The platform packages a target's VSIX must hold, and no others. */
export function sharpPackages(target) {
  const t = TARGETS[target];
  if (!t) throw new Error(`Unknown target "${target}". Use one of: ${Object.keys(TARGETS).join(', ')}.`);
  return [`@img/sharp-${t.sharp}`, ...(t.libvips ? [`@img/sharp-libvips-${t.sharp}`] : [])];
}

function sharpVersion() {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', 'sharp', 'package.json'), 'utf8')).version;
}

/** Files a VSIX does not need from a package: docs, tests, build sources, type declarations. */
const SKIP = /[/\\](docs?|test|install)([/\\]|$)|\.(md|map|cc|h|gyp)$|\.d\.ts$/i;

/** Copy a package, resolved as Node would from `fromDir`, and its dependencies (recursively)
 * into `out`/node_modules. Optional dependencies are followed only when `optional` is set. */
export function copyPackage(name, fromDir, out, { optional = true, seen = new Set() } = {}) {
  if (seen.has(name)) return;
  seen.add(name);
  // Not require.resolve(`${name}/package.json`): packages with "exports" (sharp) hide it.
  const req = createRequire(join(fromDir, 'package.json'));
  const pkgJson = (req.resolve.paths(name) ?? []).map((d) => join(d, name, 'package.json')).find((f) => existsSync(f));
  if (!pkgJson) return; // an optional dependency for another platform
  const dir = dirname(pkgJson);
  cpSync(dir, join(out, 'node_modules', name), { recursive: true, filter: (src) => !SKIP.test(src.slice(dir.length)) });
  const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
  for (const dep of Object.keys({ ...pkg.dependencies, ...(optional ? pkg.optionalDependencies : {}) })) copyPackage(dep, dir, out, { optional, seen });
}

/** A staging folder with sharp installed for `target`'s platform (kept between runs). */
export function stageTarget(target) {
  const t = TARGETS[target];
  const version = sharpVersion();
  const dir = join(STAGE, target);
  const ready = sharpPackages(target).every((p) => existsSync(join(dir, 'node_modules', p, 'package.json')));
  const stagedVersion = existsSync(join(dir, 'node_modules', 'sharp', 'package.json')) ? JSON.parse(readFileSync(join(dir, 'node_modules', 'sharp', 'package.json'), 'utf8')).version : undefined;
  if (ready && stagedVersion === version) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `stage-${target}`, private: true, dependencies: { sharp: version } }));
  const platform = [...(t.os ? [`--os=${t.os}`] : []), `--cpu=${t.cpu}`, ...(t.libc ? [`--libc=${t.libc}`] : [])];
  execFileSync('npm', ['install', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...platform], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const missing = sharpPackages(target).filter((p) => !existsSync(join(dir, 'node_modules', p, 'package.json')));
  if (missing.length) throw new Error(`npm did not install ${missing.join(', ')} for ${target} into ${dir}.`);
  return dir;
}

/** Fill `out`/node_modules with sharp for `target`, or for this machine when target is undefined. */
export function copySharp(out, target) {
  rmSync(join(out, 'node_modules'), { recursive: true, force: true });
  if (!target) return copyPackage('sharp', ROOT, out);
  copyPackage('sharp', ROOT, out, { optional: false });
  const stage = stageTarget(target);
  for (const p of sharpPackages(target)) copyPackage(p, stage, out);
}
