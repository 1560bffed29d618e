// Import throughput (issue 13): 10,000 generated PNGs carrying A1111 parameters imported into a
// fresh project, the whole path the user waits for (walk, read, hash, structure, decode check,
// metadata, file + sidecar + database row, the final save), with thumbnails made in the
// background, and how long those take to catch up. Memory (RSS and V8 heap) is sampled over the
// run; its slope, by least squares over the samples after the first 10 %, says whether it grows
// with the number of images; the database itself lives in memory (sql.js), so its size per
// 1,000 products is given beside it. Target: at least 200 images/s, memory flat.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { importImages } from '../src/archive/import.ts';
import { formatA1111Parameters } from '../src/media/a1111.ts';
import { addPngTextChunks } from '../src/media/pngChunks.ts';
import { createProject, openProjectDb } from '../src/storage/index.ts';
import { dropPageCache } from './rebuild.ts';

// Real pictures (Debian's gnome-backgrounds, as bench/sharp.ts uses): crops of them are the
// pixels, so the PNGs compress (and decode) like generated images, not like flat colour or noise.
const BACKGROUNDS = '/usr/share/backgrounds/gnome';
const SOURCES = ['wood-l.webp', 'adwaita-l.webp', 'licorice-l.webp', 'pixels-l.webp', 'wood-d.webp'];

export interface ImportBench {
  images: number;
  size: string;
  /** Whether the page cache was dropped before the import (root on Linux): the sources are read from the disk. */
  coldSources: boolean;
  avgKB: number;
  /** Until importImages returns: every product stored and the database saved. */
  importSeconds: number;
  imagesPerSecond: number;
  /** CPU time (all threads: main, database worker, image decoding) per image imported: the
   * figure that does not depend on what else the machine runs. */
  cpuMsPerImage: number;
  /** Until the background thumbnails are all made (from the start). */
  thumbnailsSeconds: number;
  rssStartMB: number;
  rssPeakMB: number;
  /** MB per 1,000 images imported, least squares over the samples (after the first 10 %). */
  rssSlopeMBPer1000: number;
  heapSlopeMBPer1000: number;
  /** The database file per 1,000 products: sql.js keeps the database in memory, so RSS grows
   * by about this much per 1,000 images whatever the import does. */
  databaseMBPer1000: number;
  /** RSS less the database worker's memory outside its heap (sql.js's WebAssembly memory, which
   * holds the database): what the import itself keeps per 1,000 images. */
  rssOutsideDatabaseSlopeMBPer1000: number;
  /** The database worker's memory outside its heap when the import returned. */
  databaseWorkerMB: number;
  samples: number;
  /** Images/s in each tenth of the run: does the rate hold as the project grows? */
  ratePerTenth: number[];
}

/** `n` distinct PNGs (each its own prompt and seed) of `side`×`side` pixels under `dir`, 1,000 a folder. */
export async function makeImages(dir: string, n: number, side: number): Promise<number> {
  const bases: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const file = path.join(BACKGROUNDS, SOURCES[i % SOURCES.length]);
    const meta = await sharp(file).metadata();
    const span = Math.min(meta.width ?? side, meta.height ?? side);
    const crop = Math.floor(span / (2 + (i % 3)));
    const left = Math.floor(((meta.width ?? span) - crop) * ((i * 37) % 100) / 100);
    const top = Math.floor(((meta.height ?? span) - crop) * ((i * 61) % 100) / 100);
    bases.push(await sharp(file).extract({ left, top, width: crop, height: crop }).resize(side, side).png().toBuffer());
  }
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const text = formatA1111Parameters({
      prompt: `masterpiece, best quality, a lighthouse on a cliff at dusk, study ${i}, dramatic clouds, <lora:film_grain:0.6>`,
      negativePrompt: 'lowres, bad anatomy, watermark, blurry',
      steps: 20 + (i % 20),
      sampler: 'DPM++ 2M',
      cfgScale: 7,
      seed: 1_000_000_000 + i,
      width: side,
      height: side,
      model: 'sd_xl_base_1.0',
      extra: { 'Schedule type': 'Karras', 'Model hash': '31e35c80fc', Version: 'v1.10.1' },
    });
    const png = addPngTextChunks(bases[i % bases.length], [{ keyword: 'parameters', text }]);
    const sub = path.join(dir, `batch-${String(Math.floor(i / 1000)).padStart(3, '0')}`);
    if (i % 1000 === 0) await fs.mkdir(sub, { recursive: true });
    await fs.writeFile(path.join(sub, `${String(i).padStart(5, '0')}-${1_000_000_000 + i}.png`), png);
    bytes += png.length;
  }
  return bytes;
}

function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den ? num / den : 0;
}

export async function benchImport(n = 10_000, side = 512): Promise<ImportBench> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-bench-import-'));
  try {
    const src = path.join(root, 'incoming');
    const bytes = await makeImages(src, n, side);
    // The images a user imports were written long before, by another tool: not still waiting in
    // the page cache to be written back (4 GB of it would compete with the import's own fsyncs),
    // and read from the disk. Without root the cache is only flushed.
    const cold = dropPageCache();
    const dir = path.join(root, 'project');
    await createProject(dir, 'Import bench');
    const db = await openProjectDb(dir, { backups: 0 });
    const mb = (b: number) => b / 1024 / 1024;
    const samples: { t: number; done: number; rss: number; heap: number; database?: number }[] = [];
    let done = 0;
    const sample = () => {
      const s = { t: performance.now(), done, rss: mb(process.memoryUsage.rss()), heap: mb(process.memoryUsage().heapUsed), database: undefined as number | undefined };
      samples.push(s);
      // The worker answers between writes; its figure joins the sample it was asked with.
      void db.stats().then((st) => (s.database = mb(st.worker.external)), () => undefined);
    };
    sample();
    const timer = setInterval(sample, 200);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const report = await importImages(dir, db, [src], { onProduct: () => done++, makeThumbnails: !process.env.AF_BENCH_NO_THUMBS });
    const importMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    sample();
    clearInterval(timer);
    await report.thumbnailsDone;
    const thumbsMs = performance.now() - t0;
    await db.close();
    const dbBytes = (await fs.stat(path.join(dir, '.artfactory', 'index.db'))).size;
    if (report.imported !== n) throw new Error(`imported ${report.imported} of ${n} (${report.skipped.length} skipped: ${report.skipped[0]?.reason ?? ''})`);
    const steady = samples.filter((s) => s.done >= n * 0.1);
    const at = (k: number) => samples.find((s) => s.done >= (n * k) / 10) ?? samples[samples.length - 1];
    const ratePerTenth = Array.from({ length: 10 }, (_, k) => Math.round((at(k + 1).done - at(k).done) / ((at(k + 1).t - at(k).t) / 1000 || 1)));
    return {
      images: n,
      size: `${side}×${side}`,
      coldSources: cold,
      avgKB: Math.round(bytes / n / 1024),
      importSeconds: Number((importMs / 1000).toFixed(1)),
      imagesPerSecond: Math.round(n / (importMs / 1000)),
      cpuMsPerImage: Number(((cpu.user + cpu.system) / 1000 / n).toFixed(2)),
      thumbnailsSeconds: Number((thumbsMs / 1000).toFixed(1)),
      rssStartMB: Math.round(samples[0].rss),
      rssPeakMB: Math.round(Math.max(...samples.map((s) => s.rss))),
      rssSlopeMBPer1000: Number((slope(steady.map((s) => [s.done, s.rss])) * 1000).toFixed(2)),
      heapSlopeMBPer1000: Number((slope(steady.map((s) => [s.done, s.heap])) * 1000).toFixed(2)),
      databaseMBPer1000: Number((mb(dbBytes) / (n / 1000)).toFixed(2)),
      rssOutsideDatabaseSlopeMBPer1000: Number((slope(steady.filter((s) => s.database !== undefined).map((s) => [s.done, s.rss - s.database!])) * 1000).toFixed(2)),
      databaseWorkerMB: Math.round(samples.at(-1)?.database ?? NaN),
      samples: samples.length,
      ratePerTenth,
    };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
