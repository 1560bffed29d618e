// Run by noSharp.test.ts in a child process whose sharp cannot load: import, export and
// contact sheets of a project, reported as JSON on stdout.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeContactSheet } from '../../src/archive/contactSheet.ts';
import { exportProducts } from '../../src/archive/export.ts';
import { importImages } from '../../src/archive/import.ts';
import { onSharpUnavailable } from '../../src/media/sharp.ts';
import { openProjectDb } from '../../src/storage/index.ts';

async function main(): Promise<void> {
  const [project, source, target] = process.argv.slice(2);
  const warnings: string[] = [];
  onSharpUnavailable((p) => warnings.push(p.message));
  const db = await openProjectDb(project);
  const failure = (e: unknown) => (e instanceof Error ? e.message : String(e));
  try {
    const imported = await importImages(project, db, [source]);
    const items = (await db.queryProducts({ limit: 100 })).items.map((product) => ({ projectDir: project, product }));
    const originals = await exportProducts(items, path.join(target, 'originals'), { format: 'original' });
    const jpeg = await exportProducts(items, path.join(target, 'jpeg'), { format: 'jpeg' }).then(() => 'exported', failure);
    const sheet = await makeContactSheet(items).then(() => 'made', failure);
    const thumbs = await fs.readdir(path.join(project, '.artfactory', 'thumbs')).catch(() => []);
    await imported.thumbnailsDone;
    const tools = Object.fromEntries(items.map((i) => [i.product.imported?.fileName, { tool: i.product.imported?.tool, prompt: i.product.prompt }]));
    process.stdout.write(JSON.stringify({ imported: imported.imported, skipped: imported.skipped, sizes: items.map((i) => [i.product.width, i.product.height]), tools, originals: originals.written.length, jpeg, sheet, thumbs, warnings }));
  } finally {
    await db.close();
  }
}

void main();
