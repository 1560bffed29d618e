// `art-factory import PATH... --project DIR [--json]`: the palette's Import Images
// (src/archive/import.ts), from a terminal. What it reports and its exit codes:
//   0  every image found was imported or was already in the project
//   3  some files were skipped (each listed with its reason); the rest were imported
//   4  nothing could be imported: no image found, or every file was skipped
//   130  interrupted (Ctrl+C): what was imported before stays
// (1 and 2, an error and a usage mistake, as for every command.)
import { describeSkips, importImages, type ImportReport } from '../archive/import.ts';
import { DEFAULT_MAX_MEGAPIXELS } from '../media/pixels.ts';
import { openProjectDb } from '../storage/index.ts';
import type { ProductRecord } from '../storage/types.ts';

export const IMPORT_EXIT = { ok: 0, someSkipped: 3, nothingImported: 4, interrupted: 130 } as const;

/** What was read from one imported image, for --json: always the same keys, null when absent. */
export interface ImportedEntry {
  file: string;
  id: string;
  tool: string;
  prompt: string | null;
  negativePrompt: string | null;
  seed: number | string | null;
  steps: number | null;
  cfgScale: number | null;
  sampler: string | null;
  model: string | null;
  width: number | null;
  height: number | null;
}

const orNull = <T>(v: unknown, type: 'string' | 'number'): T | null => (typeof v === type ? (v as T) : null);

/** The entry for one stored product: the values read from its metadata (its `input`), with the
 * image's own size where the metadata gave none. */
export function importedEntry(p: ProductRecord): ImportedEntry {
  const input = p.input;
  const seed = p.seed ?? null;
  return {
    file: p.imported?.sourcePath ?? '',
    id: p.id,
    tool: p.imported?.tool ?? 'unknown',
    prompt: p.prompt ?? null,
    negativePrompt: p.negativePrompt ?? null,
    seed,
    steps: orNull(input.steps, 'number'),
    cfgScale: orNull(input.cfg_scale, 'number'),
    sampler: orNull(input.sampler, 'string'),
    model: p.model === 'unknown' ? null : p.model,
    width: orNull(input.width, 'number') ?? p.width ?? null,
    height: orNull(input.height, 'number') ?? p.height ?? null,
  };
}

export interface ImportCommandOptions {
  json?: boolean;
  maxMegapixels?: number;
  /** Where progress and the summary go (stderr). */
  err: (line: string) => void;
  out: (text: string) => void;
  /** Progress lines every so many files (on a terminal). */
  progressEvery?: number;
}

export async function importCommand(dir: string, sources: string[], o: ImportCommandOptions): Promise<number> {
  const db = await openProjectDb(dir);
  const entries: ImportedEntry[] = [];
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  let report: ImportReport;
  try {
    report = await importImages(dir, db, sources, {
      signal: stop.signal,
      maxMegapixels: o.maxMegapixels ?? DEFAULT_MAX_MEGAPIXELS,
      onProduct: (p) => entries.push(importedEntry(p)),
      onProgress: o.progressEvery ? (p) => p.done % o.progressEvery! === 0 && o.err(`${p.done} of ${p.total} files…`) : undefined,
    });
  } finally {
    process.off('SIGINT', onSignal);
    await db.close();
  }
  const skipped = report.skipped.length + report.moreSkipped;
  if (o.json) {
    o.out(`${JSON.stringify({ imported: entries, duplicates: report.duplicates, skipped: report.skipped, moreSkipped: report.moreSkipped, canceled: report.canceled }, null, 2)}\n`);
  } else {
    for (const e of entries) o.out(`${e.id}\t${e.tool}\t${e.file}\n`);
    for (const line of describeSkips(report)) o.err(`skipped ${line}`);
  }
  const tools = Object.entries(report.byTool).sort(([a], [b]) => a.localeCompare(b)).map(([t, n]) => `${n} ${t}`).join(', ');
  const finished = report.recovered ? ` ${report.recovered} left by an interrupted import were finished.` : '';
  o.err(`${report.canceled ? 'Interrupted: ' : ''}${report.imported} imported${tools ? ` (${tools})` : ''}, ${report.duplicates.length} already in the project, ${skipped} skipped.${finished}`);
  // The thumbnails are made after the import, in the background: the gallery needs them, so wait.
  if (report.imported && !report.canceled) o.err('Making thumbnails…');
  await report.thumbnailsDone;
  if (report.canceled) return IMPORT_EXIT.interrupted;
  if (report.imported + report.duplicates.length === 0) {
    if (skipped === 0) o.err('No images found (PNG, JPEG, WebP, GIF, AVIF; hidden folders are not searched).');
    return IMPORT_EXIT.nothingImported;
  }
  return skipped ? IMPORT_EXIT.someSkipped : IMPORT_EXIT.ok;
}
