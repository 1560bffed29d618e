// Bundled by bench/sharp.ts into an unpacked VSIX's dist/, so `sharp` resolves from what the
// VSIX ships (native or WebAssembly). What a finished job costs the extension host: load
// sharp, check the download by a full decode, make the two thumbnails. Each file is done twice:
// the first pass is cold (sharp loading, the wasm module compiling), the second warm.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadSharp } from '../src/media/sharp.ts';
import { checkDownloaded } from '../src/media/sniff.ts';
import { makeThumbnails } from '../src/media/thumbnails.ts';

async function main(): Promise<void> {
  const [outDir, file] = process.argv.slice(2);
  const t0 = performance.now();
  const sharp = await loadSharp();
  if (!sharp) throw new Error('sharp did not load');
  const loadMs = performance.now() - t0;
  const passes = [];
  for (let pass = 0; pass < 2; pass++) {
    const a = performance.now();
    const bytes = await fs.readFile(file);
    await checkDownloaded(bytes);
    const b = performance.now();
    await makeThumbnails(file, outDir, `${path.basename(file)}-${pass}`);
    passes.push({ decodeMs: b - a, thumbsMs: performance.now() - b });
  }
  process.stdout.write(JSON.stringify({ wasm: 'emscripten' in sharp.versions, loadMs, cold: passes[0], warm: passes[1] }));
}

void main();
