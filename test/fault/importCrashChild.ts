// The process the killed-import test kills: it imports a folder into a real project on disk
// (the same import as the palette and `art-factory import`). Every line is written synchronously
// (stdout is a pipe), so the parent never believes more than was done:
//   open                     the database opened (after a kill: it survived)
//   LOOKED N                 N files looked at (each one's file and sidecar written, or skipped)
//   STORED {"id","file","sha256"} a product's row is durable (onProduct)
//   DONE {"imported","duplicates","skipped"} the import returned
// Usage: importCrashChild.ts PROJECT_DIR SOURCE_DIR
import { importImages } from '../../src/archive/import.ts';
import { openProjectDb } from '../../src/storage/index.ts';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const [dir, src] = process.argv.slice(2);
  const db = await openProjectDb(dir, { backups: 0 });
  out('open');
  const report = await importImages(dir, db, [src], {
    makeThumbnails: false,
    // One day for every round: a product a killed round left without its sidecar or row is
    // written again at the same path by the next.
    now: () => new Date('2026-05-06T07:08:09Z'),
    onProgress: (p) => out(`LOOKED ${p.done}`),
    onProduct: (p) => out(`STORED ${JSON.stringify({ id: p.id, file: p.file, sha256: p.sha256 })}`),
  });
  out(`DONE ${JSON.stringify({ imported: report.imported, duplicates: report.duplicates.length, skipped: report.skipped.length })}`);
  await db.close();
}

void main();
