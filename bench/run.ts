// `npm run bench`: every benchmark, as tables and JSON in bench/results/. Figures depend on
// the machine: compare them as ratios on one machine, not across machines.
// `npm run bench -- --only sharp` (or storage, gallery, gallery-vscode, import, writes, rebuild,
// memory) runs one of them.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchGallery, bundleSize } from './gallery.ts';
import { benchGalleryVscode } from './galleryVscode.ts';
import { benchImport } from './import.ts';
import { benchMemory } from './memory.ts';
import { benchRebuild } from './rebuild.ts';
import { benchSharp } from './sharp.ts';
import { benchStorage } from './storage.ts';
import { benchWrites } from './writes.ts';

async function main(): Promise<void> {
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, Node ${process.version}`;
  const sizes = process.argv.includes('--quick') ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const runs = (name: string) => !only || only === name;
  console.log(`Machine: ${machine}`);
  const out = path.join(__dirname, 'results');
  await fs.mkdir(out, { recursive: true });
  if (runs('storage')) {
    const storage = await benchStorage(sizes);
    console.log('\nStorage (targets: no main-thread stall over 50 ms)');
    console.table(storage.map(({ betterSqlite3Ratio: _r, ...row }) => row));
    for (const r of storage) console.log(`better-sqlite3 at ${r.products.toLocaleString()}: ${r.betterSqlite3Ratio}`);
    await fs.writeFile(path.join(out, 'storage.json'), JSON.stringify({ machine, rows: storage }, null, 2));
  }
  if (runs('gallery')) {
    const gallery = await benchGallery(process.argv.includes('--quick') ? [10_000] : [10_000, 100_000]);
    const bundle = bundleSize();
    console.log('\nGallery in headless Chromium (targets at 100,000: first paint < 500 ms, search < 100 ms, no frame > 50 ms)');
    console.log('First paint: from the host starting its query (first page, tiles, the HTML) to the first frame painted with tiles, in a new browser context (empty cache, new renderer); medians of the cold opens.');
    console.log('Heap: the webview\'s JS heap after scrolling to the end, as found and after a full GC (live).');
    console.log(`Webview bundle: ${bundle.minifiedKB} KB minified, ${bundle.gzippedKB} KB gzipped. Load averages: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`);
    console.table(gallery);
    await fs.writeFile(path.join(out, 'gallery.json'), JSON.stringify({ machine, load: os.loadavg(), bundle, rows: gallery }, null, 2));
  }
  if (runs('gallery-vscode')) {
    const { rows, steps } = await benchGalleryVscode(process.argv.includes('--quick') ? [10_000] : [10_000, 100_000]);
    console.log('\nGallery in code-server 4.100.3 (target: under 1 s at 10,000 and 100,000)');
    console.log('From Enter on "Art Factory: Open Gallery" in the command palette to the first frame painted with every tile in view showing its thumbnail (measured in the webview\'s frame). First open: the window\'s first, which also opens the project database; reopen: median after closing the panel. Floor: a hello-world webview panel (a stylesheet, a script, one image) opened the same way in the same window.');
    console.log(`Load averages: ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`);
    console.table(rows);
    console.log('Where the time goes (ms from Enter; medians for reopens; -1 not seen): host = our extension host; iframe..workerReady = VS Code making the webview and its service worker; content = the HTML reaching the webview; pendingFrame..write = VS Code writing it into a fresh frame; then the page.');
    console.table(steps);
    await fs.writeFile(path.join(out, 'gallery-vscode.json'), JSON.stringify({ machine, load: os.loadavg(), rows, steps }, null, 2));
  }
  if (runs('import')) {
    const imported = await benchImport(process.argv.includes('--quick') ? 1_000 : 10_000);
    console.log('\nImport of generated PNGs with A1111 parameters, thumbnails in the background (targets: at least 200 images/s, memory flat)');
    console.table([imported]);
    // `rows`, as the other results have it: npm test's summary (scripts/fault-summary.mjs) reads them.
    await fs.writeFile(path.join(out, 'import.json'), JSON.stringify({ machine, load: os.loadavg(), rows: [imported] }, null, 2));
  }
  if (runs('sharp')) {
    const s = await benchSharp();
    console.log('\nsharp: WebAssembly (universal VSIX) against native, decode check + thumbnails per image (medians of 3; cold includes loading sharp)');
    console.table(s.rows);
    console.log(`wasm / native, geometric mean: cold ${s.coldRatio}×, warm ${s.warmRatio}×; loading sharp: native ${s.loadMs.native} ms, wasm ${s.loadMs.wasm} ms`);
    console.log(`VSIX sizes (MB): ${Object.entries(s.vsixMB).map(([t, mb]) => `${t} ${mb}`).join(', ')}`);
    await fs.writeFile(path.join(out, 'sharp.json'), JSON.stringify({ machine, ...s }, null, 2));
  }
  const big = process.argv.includes('--quick') ? [10_000] : [10_000, 100_000];
  if (runs('writes')) {
    const writes = await benchWrites(big, process.argv.includes('--quick') ? 3_000 : 30_000);
    console.log('\nSmall writes: bytes written (kernel-counted) and ms until durable (targets: every edit durable within 1 s; at most 1 MB written per edit over a burst of 100)');
    console.table(writes);
    await fs.writeFile(path.join(out, 'writes.json'), JSON.stringify({ machine, rows: writes }, null, 2));
  }
  if (runs('rebuild')) {
    const rebuild = await benchRebuild(big);
    console.log('\nRebuild Index from sidecars (target: 100,000 in under 60 s, with progress and cancel)');
    console.log(`CPU: the whole process (host thread, database worker, libuv pool).${rebuild.cold ? '' : ' Warm only: dropping the page cache needs root on Linux.'}`);
    console.table(rebuild.rows);
    await fs.writeFile(path.join(out, 'rebuild.json'), JSON.stringify({ machine, load: os.loadavg(), ...rebuild }, null, 2));
  }
  if (runs('memory')) {
    const memory = await benchMemory(30, process.argv.includes('--quick') ? 10_000 : 100_000);
    console.log('\nExtension host memory: 30 projects open, one of them large');
    console.table(memory);
    await fs.writeFile(path.join(out, 'memory.json'), JSON.stringify({ machine, rows: memory }, null, 2));
  }
  console.log(`\nJSON written to ${out}`);
}

void main();
