// A killed import (issue 13's batched writes: files and sidecars per image, rows 64 at a time in
// one journal record). A child imports a folder of PNGs with A1111 parameters and is SIGKILLed
// after a random number of files, again and again; after every kill, read independently of the
// product code (raw sql.js with our own reading of the journal, file hashes): the database
// passes its integrity check, every product the child reported stored has its row, file and
// sidecar with the same sha256, every row has its file and sidecar, and nothing is duplicated.
// A file or sidecar without its row may stay after a kill (written, its batch's row not yet):
// the next import writes it again at the same path. A last child runs to the end, and then
// every source image is exactly one product whose file, sidecar and row agree.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { formatA1111Parameters } from '../../src/media/a1111.ts';
import { addPngTextChunks } from '../../src/media/pngChunks.ts';
import { createProject } from '../../src/storage/index.ts';
import { readDbRaw, sha256, walkFiles } from './helpers.ts';

const CHILD = path.join(__dirname, 'importCrashChild.ts');
const IMAGES = 200;
const ROUNDS = 8;

interface Stored {
  id: string;
  file: string;
  sha256: string;
}

/** Run the child until it prints `LOOKED killAt` (then SIGKILL it), or to the end. */
function runChild(dir: string, src: string, killAt?: number): Promise<{ lines: string[]; killed: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, src], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      if (killAt !== undefined && l === `LOOKED ${killAt}`) child.kill('SIGKILL');
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ lines, killed: true });
      else if (code === 0) resolve({ lines, killed: false });
      else reject(new Error(`the import child exited ${code}: ${err.slice(0, 2000)}`));
    });
  });
}

test('a killed import leaves no half product: rows, files and sidecars agree after every kill, and the next import completes it', { timeout: 900_000 }, async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-import-crash-'));
  try {
    const src = path.join(root, 'incoming');
    await fs.mkdir(src);
    const shas = new Set<string>();
    for (let i = 0; i < IMAGES; i++) {
      const base = await sharp({ create: { width: 48 + (i % 7), height: 40, channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: 90 } } }).png().toBuffer();
      const png = addPngTextChunks(base, [{ keyword: 'parameters', text: formatA1111Parameters({ prompt: `crash study ${i}`, steps: 20, sampler: 'Euler a', cfgScale: 7, seed: 1000 + i, width: 48, height: 40 }) }]);
      shas.add(sha256(png));
      await fs.writeFile(path.join(src, `${String(i).padStart(4, '0')}.png`), png);
    }
    assert.equal(shas.size, IMAGES, 'every source image is distinct');
    const dir = path.join(root, 'project');
    await createProject(dir, 'Killed import');
    const reported = new Map<string, Stored>();
    const takeStored = (lines: string[]) => {
      for (const s of lines.filter((l) => l.startsWith('STORED ')).map((l) => JSON.parse(l.slice(7)) as Stored)) reported.set(s.id, s);
    };
    let leftWithoutRow = 0;
    let killedWithRowsPending = 0;
    const problems: string[] = [];

    const check = async (round: string, final: boolean) => {
      const db = await readDbRaw(path.join(dir, '.artfactory', 'index.db'));
      if (db.ok !== 'ok') problems.push(`${round}: integrity check: ${db.ok}`);
      const rows = new Map(db.products.map((p) => [p.id, p.record]));
      if (rows.size !== db.products.length) problems.push(`${round}: a product has two rows`);
      for (const p of reported.values()) {
        const row = rows.get(p.id);
        if (!row || row.sha256 !== p.sha256) problems.push(`${round}: ${p.id} was reported stored but its row is ${row ? 'different' : 'missing'}`);
      }
      for (const [id, row] of rows) {
        const file = path.join(dir, ...String(row.file).split('/'));
        const bytes = await fs.readFile(file).catch(() => undefined);
        if (!bytes || sha256(bytes) !== row.sha256) problems.push(`${round}: row ${id}: its file is ${bytes ? 'different' : 'missing'}`);
        const sidecar = await fs
          .readFile(file.replace(/\.[^./]+$/, '.json'), 'utf8')
          .then((t) => JSON.parse(t) as Record<string, unknown>)
          .catch(() => undefined);
        if (!sidecar || sidecar.id !== id || sidecar.sha256 !== row.sha256) problems.push(`${round}: row ${id}: its sidecar is ${sidecar ? 'different' : 'missing'}`);
      }
      const files = (await walkFiles(path.join(dir, 'products'))).filter((f) => !/\.tmp-/.test(f));
      const media = files.filter((f) => f.endsWith('.png'));
      const sidecars = files.filter((f) => f.endsWith('.json'));
      const withoutRow = media.filter((f) => !rows.has(path.basename(f, '.png')));
      leftWithoutRow += withoutRow.length;
      if (final) {
        if (withoutRow.length) problems.push(`${round}: ${withoutRow.length} product files have no row`);
        if (media.length !== IMAGES || sidecars.length !== IMAGES || rows.size !== IMAGES) problems.push(`${round}: ${media.length} files, ${sidecars.length} sidecars, ${rows.size} rows for ${IMAGES} images`);
        const rowShas = new Set([...rows.values()].map((r) => String(r.sha256)));
        if ([...shas].some((s) => !rowShas.has(s))) problems.push(`${round}: a source image is not a product`);
      }
      return withoutRow.length;
    };

    for (let round = 0; round < ROUNDS; round++) {
      const killAt = 1 + Math.floor(Math.random() * IMAGES * 0.9);
      const { lines, killed } = await runChild(dir, src, killAt);
      takeStored(lines);
      if (!killed) break; // this round's kill point was among duplicates already imported: it ran to the end
      if ((await check(`round ${round} (killed after ${killAt} files)`, false)) > 0) killedWithRowsPending++;
    }
    const last = await runChild(dir, src);
    takeStored(last.lines);
    await check('final import', true);
    const done = JSON.parse(last.lines.find((l) => l.startsWith('DONE '))!.slice(5)) as { imported: number; duplicates: number; skipped: number };
    assert.equal(done.skipped, 0);
    assert.equal(done.imported + done.duplicates, IMAGES, 'the last import looked at every image');
    assert.deepEqual(problems, []);
    assert.equal(reported.size, IMAGES, 'every product was reported stored once its row was durable');
    // The kills must have landed between an image's files and its batch's row at least once,
    // or the test never saw the window it is about.
    assert.ok(killedWithRowsPending > 0, `no kill landed while rows were pending (${leftWithoutRow} files without a row over the rounds)`);
    console.log(`# killed import: ${ROUNDS} rounds, ${killedWithRowsPending} killed with files written and rows pending (${leftWithoutRow} such files in all), all completed by the next import`);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
