// sharp's WebAssembly build (the universal VSIX) against the native one (a platform VSIX): the
// time a finished job costs (download check by full decode, then thumbnails), cold and warm, on
// real pictures at the sizes providers deliver; and the size of every VSIX. Each runtime runs
// from its unpacked VSIX, so the figures are for exactly what ships.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import sharp from 'sharp';
import { ALL_TARGETS, readVsix, vsixPath } from '../test/package/vsix.ts';

const ROOT = path.join(__dirname, '..');
// Real pictures from Debian's gnome-backgrounds (4096×4096 WebP): a photograph of wood and
// rendered scenes, with the detail and noise of real images.
const BACKGROUNDS = '/usr/share/backgrounds/gnome';

/** What providers deliver: flux/SDXL squares as PNG, fal's JPEG default, Replicate's WebP, a
 * wide gpt-image PNG and an upscaler's JPEG. */
const OUTPUTS = [
  { name: 'png-1024x1024', source: 'wood-l.webp', width: 1024, height: 1024, encode: (s: sharp.Sharp) => s.png() },
  { name: 'jpeg-1024x768', source: 'adwaita-l.webp', width: 1024, height: 768, encode: (s: sharp.Sharp) => s.jpeg({ quality: 90 }) },
  { name: 'webp-1024x1024', source: 'licorice-l.webp', width: 1024, height: 1024, encode: (s: sharp.Sharp) => s.webp({ quality: 80 }) },
  { name: 'png-1536x1024', source: 'pixels-l.webp', width: 1536, height: 1024, encode: (s: sharp.Sharp) => s.png() },
  { name: 'jpeg-2048x2048', source: 'wood-d.webp', width: 2048, height: 2048, encode: (s: sharp.Sharp) => s.jpeg({ quality: 92 }) },
];

export interface SharpRow {
  image: string;
  kb: number;
  nativeColdMs: number;
  wasmColdMs: number;
  coldRatio: number;
  nativeWarmMs: number;
  wasmWarmMs: number;
  warmRatio: number;
}

export interface SharpBench {
  rows: SharpRow[];
  /** Geometric means over the images. */
  coldRatio: number;
  warmRatio: number;
  loadMs: { native: number; wasm: number };
  vsixMB: Record<string, number>;
}

function ensureBackgrounds(): void {
  if (existsSync(path.join(BACKGROUNDS, 'wood-l.webp'))) return;
  if (process.getuid?.() !== 0) throw new Error('The sharp benchmark needs Debian\'s gnome-backgrounds: sudo apt-get install -y gnome-backgrounds');
  execFileSync('apt-get', ['install', '-y', '-qq', 'gnome-backgrounds'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

export async function benchSharp(reps = 3): Promise<SharpBench> {
  ensureBackgrounds();
  execFileSync(process.execPath, ['scripts/package.mjs'], { cwd: ROOT, stdio: 'ignore' });
  execFileSync(process.execPath, ['scripts/package.mjs', '--all'], { cwd: ROOT, stdio: 'ignore' });
  const vsixMB: Record<string, number> = {};
  for (const t of ALL_TARGETS) vsixMB[t] = round(statSync(vsixPath(t)).size / 1e6, 2);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'af-bench-sharp-'));
  try {
    const runtimes: Record<'native' | 'wasm', string> = { native: '', wasm: '' };
    for (const [name, vsix] of [['native', vsixPath()], ['wasm', vsixPath('universal')]] as const) {
      const dir = path.join(tmp, name);
      await readVsix(vsix, dir);
      runtimes[name] = path.join(dir, 'extension', 'dist', 'bench-sharp.js');
      await esbuild.build({ entryPoints: [path.join(__dirname, 'sharpWork.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['sharp'], outfile: runtimes[name], logLevel: 'silent' });
    }
    const images = path.join(tmp, 'images');
    mkdirSync(images);
    const rows: SharpRow[] = [];
    const loads: Record<'native' | 'wasm', number[]> = { native: [], wasm: [] };
    for (const o of OUTPUTS) {
      const file = path.join(images, `${o.name}.${o.name.split('-')[0]}`);
      await o.encode(sharp(path.join(BACKGROUNDS, o.source)).resize(o.width, o.height, { fit: 'cover' })).toFile(file);
      const times: Record<'native' | 'wasm', { cold: number[]; warm: number[] }> = { native: { cold: [], warm: [] }, wasm: { cold: [], warm: [] } };
      for (let r = 0; r < reps; r++) {
        for (const rt of ['native', 'wasm'] as const) {
          const out = JSON.parse(execFileSync(process.execPath, [runtimes[rt], path.join(tmp, `thumbs-${rt}`), file], { encoding: 'utf8' })) as { wasm: boolean; loadMs: number; cold: { decodeMs: number; thumbsMs: number }; warm: { decodeMs: number; thumbsMs: number } };
          if (out.wasm !== (rt === 'wasm')) throw new Error(`the ${rt} run loaded the ${out.wasm ? 'wasm' : 'native'} sharp`);
          // Cold: what the first finished job of a session waits for, sharp's loading included.
          times[rt].cold.push(out.loadMs + out.cold.decodeMs + out.cold.thumbsMs);
          times[rt].warm.push(out.warm.decodeMs + out.warm.thumbsMs);
          loads[rt].push(out.loadMs);
        }
      }
      const [nc, wc, nw, ww] = [median(times.native.cold), median(times.wasm.cold), median(times.native.warm), median(times.wasm.warm)];
      rows.push({ image: o.name, kb: Math.round(statSync(file).size / 1024), nativeColdMs: round(nc), wasmColdMs: round(wc), coldRatio: round(wc / nc, 2), nativeWarmMs: round(nw), wasmWarmMs: round(ww), warmRatio: round(ww / nw, 2) });
    }
    return {
      rows,
      coldRatio: round(geomean(rows.map((r) => r.wasmColdMs / r.nativeColdMs)), 2),
      warmRatio: round(geomean(rows.map((r) => r.wasmWarmMs / r.nativeWarmMs)), 2),
      loadMs: { native: round(median(loads.native)), wasm: round(median(loads.wasm)) },
      vsixMB,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
