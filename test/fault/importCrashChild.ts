// The process the killed-import test kills: it imports a folder into a real project on disk
// (the same import as the palette and `art-factory import`). Every line is written synchronously
// (stdout is a pipe), so the parent never believes more than was done:
//   open                     the database opened (after a kill: it survived)
//   LOOKED N                 N files looked at (each one's file and sidecar written under temp
//                            names and queued for its batch, or skipped)
//   STORED {"id","file","sha256"} a product's row is durable (onProduct)
//   DONE {"imported","duplicates","skipped"} the import returned
// Usage: importCrashChild.ts PROJECT_DIR SOURCE_DIR DAY (the import's date, YYYY-MM-DD)
import { importImages } from '../../src/archive/import.ts';
import { openProjectDb } from '../../src/storage/index.ts';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const [dir, src, day] = process.argv.slice(2);
  const db = await openProjectDb(dir, { backups: 0 });
  out('open');
  const report = await importImages(dir, db, [src], {
    makeThumbnails: false,
    // Each round its own day, so its products go to another folder than the killed round's: what
    // a killed round left must be finished, not overwritten.
    now: () => new Date(`${day}T07:08:09Z`),
    onProgress: (p) => out(`LOOKED ${p.done}`),
    onProduct: (p) => out(`STORED ${JSON.stringify({ id: p.id, file: p.file, sha256: p.sha256 })}`),
  });
  out(`DONE ${JSON.stringify({ imported: report.imported, duplicates: report.duplicates.length, skipped: report.skipped.length })}`);
  await db.close();
}

void main();
