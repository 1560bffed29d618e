// Helpers for the package tests: build the VSIXs when they are missing, list and unpack them,
// and tell which platform a native binary is for from its header (ELF, Mach-O, PE, wasm).
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';

export const ROOT = path.resolve(__dirname, '../..');
export const PLATFORM_TARGETS = ['darwin-arm64', 'darwin-x64', 'linux-x64', 'linux-arm64', 'win32-x64'] as const;
export const ALL_TARGETS = [...PLATFORM_TARGETS, 'universal'] as const;
export type Target = (typeof ALL_TARGETS)[number];

export function vsixPath(target?: Target): string {
  return path.join(ROOT, 'dist', target ? `art-factory-${target}.vsix` : 'art-factory.vsix');
}

/** The test command packages before it runs the tests; build here only when run alone. */
export function ensureVsix(target?: Target): string {
  const file = vsixPath(target);
  if (!existsSync(file)) execFileSync('npm', ['run', '--silent', 'package', '--', ...(target ? ['--target', target] : [])], { cwd: ROOT, stdio: 'ignore' });
  return file;
}

function open(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(file, { lazyEntries: true }, (err, zip) => (err || !zip ? reject(err) : resolve(zip))));
}

/** Every entry's name; with `into`, the files are also written under that folder. */
export async function readVsix(file: string, into?: string): Promise<string[]> {
  const zip = await open(file);
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (e: yauzl.Entry) => {
      names.push(e.fileName);
      if (!into || e.fileName.endsWith('/')) return zip.readEntry();
      const dest = path.join(into, e.fileName);
      if (!dest.startsWith(into + path.sep)) return reject(new Error(`entry outside the folder: ${e.fileName}`));
      mkdirSync(path.dirname(dest), { recursive: true });
      zip.openReadStream(e, (err, stream) => {
        if (err || !stream) return reject(err);
        pipeline(stream, createWriteStream(dest)).then(() => zip.readEntry(), reject);
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  zip.close();
  return names;
}

/** The platform a native binary (or wasm module) is built for, from its first bytes. */
export function binaryPlatform(head: Buffer): string {
  if (head.readUInt32BE(0) === 0x7f454c46) {
    const machine = head.readUInt16LE(18);
    return `linux-${machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : `machine-0x${machine.toString(16)}`}`;
  }
  if (head.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = head.readUInt32LE(4);
    return `darwin-${cpu === 0x01000007 ? 'x64' : cpu === 0x0100000c ? 'arm64' : `cpu-0x${cpu.toString(16)}`}`;
  }
  if (head.toString('latin1', 0, 2) === 'MZ') {
    const pe = head.readUInt32LE(0x3c);
    if (head.toString('latin1', pe, pe + 4) !== 'PE\0\0') return 'pe-without-header';
    const machine = head.readUInt16LE(pe + 4);
    return `win32-${machine === 0x8664 ? 'x64' : machine === 0xaa64 ? 'arm64' : `machine-0x${machine.toString(16)}`}`;
  }
  if (head.readUInt32BE(0) === 0x0061736d) return 'wasm';
  return 'unknown';
}
