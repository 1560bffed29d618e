// A killed import (issue 13's batched writes, src/storage/productBatch.ts: files and sidecars
// written under temp names, fsync'd 64 at a time with an intent naming the batch, renamed into
// place, then the batch's rows in one journal record). A child imports a folder of PNGs with
// A1111 parameters and is SIGKILLed after a random number of files, again and again, each
// round on another day (so into another folder); after every kill, read independently of the
// product code (raw sql.js with our own reading of the journal, file hashes): the database
// passes its integrity check, every product the child reported stored has its row, file and
// sidecar with the same sha256, every row has its file and sidecar, nothing is duplicated, and
// every file without a row is named by an intent the next import finishes from. A last child
// runs to the end, and then every source image is exactly one product whose file, sidecar and
// row agree, with no file, temp file or intent left over from the killed rounds.
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
import { readDbRaw, sha256, TEMP_FILE, walkFiles } from './helpers.ts';

const CHILD = path.join(__dirname, 'importCrashChild.ts');
const IMAGES = 200;
const ROUNDS = 8;

interface Stored {
  id: string;
  file: string;
  sha256: string;
}

/** When to kill the child: after it printed `LOOKED at`; or (`held`) with its rows held back,
 * once its first batch's files are renamed into place. For that the test holds the database's
 * lock (as another window writing would) from the child's first file on, so the batch's row
 * write waits, and kills the child when the first sidecar appears in `dayDir`: every media file
 * of the batch is in place then, some of their sidecars, and none of their rows. */
type Kill = { at: number } | { held: { lockFile: string; dayDir: string } };

/** Run the child until its kill point (then SIGKILL it), or to the end. */
function runChild(dir: string, src: string, day: string, kill?: Kill): Promise<{ lines: string[]; killed: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, src, day], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  let holding = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      if (kill && 'at' in kill && l === `LOOKED ${kill.at}`) child.kill('SIGKILL');
      if (kill && 'held' in kill && l === 'LOOKED 1' && !holding) {
        holding = true;
        void holdThenKill(kill.held);
      }
    }
  });
  const holdThenKill = async ({ lockFile, dayDir }: { lockFile: string; dayDir: string }) => {
    // The lock as ProjectLock takes it (O_EXCL, "PID TIME"), waiting while the child holds it.
    for (;;) {
      try {
        await fs.writeFile(lockFile, `${process.pid} ${Date.now()}`, { flag: 'wx' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const until = Date.now() + 15_000;
    while (child.exitCode === null && Date.now() < until) {
      const names = await fs.readdir(dayDir).catch(() => [] as string[]);
      if (names.some((n) => n.endsWith('.json'))) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    child.kill('SIGKILL');
  };
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      if (holding && kill && 'held' in kill) void fs.rm(kill.held.lockFile, { force: true });
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
      const all = await walkFiles(path.join(dir, 'products'));
      const temps = all.filter((f) => TEMP_FILE.test(f));
      const files = all.filter((f) => !TEMP_FILE.test(f));
      const media = files.filter((f) => f.endsWith('.png'));
      const sidecars = files.filter((f) => f.endsWith('.json'));
      const withoutRow = media.filter((f) => !rows.has(path.basename(f, '.png')));
      leftWithoutRow += withoutRow.length;
      // What the intents of killed batches name: the next import finishes exactly those.
      const intents = (await walkFiles(path.join(dir, '.artfactory', 'pending'))).map((f) => path.join(dir, '.artfactory', 'pending', f));
      const named = new Set<string>();
      for (const f of intents) {
        // One JSON line per product; the last may be cut short by the kill.
        for (const line of (await fs.readFile(f, 'utf8')).split('\n')) {
          try {
            named.add((JSON.parse(line) as { file: string }).file);
          } catch {
            // a torn last line
          }
        }
      }
      for (const f of withoutRow) if (!named.has(`products/${f}`)) problems.push(`${round}: products/${f} has no row and no intent names it`);
      for (const f of sidecars.filter((s) => !rows.has(path.basename(s, '.json')))) if (!named.has(`products/${f.replace(/\.json$/, '.png')}`)) problems.push(`${round}: products/${f} has no row and no intent names it`);
      if (final) {
        if (withoutRow.length) problems.push(`${round}: ${withoutRow.length} product files have no row`);
        if (media.length !== IMAGES || sidecars.length !== IMAGES || rows.size !== IMAGES) problems.push(`${round}: ${media.length} files, ${sidecars.length} sidecars, ${rows.size} rows for ${IMAGES} images`);
        if (temps.length) problems.push(`${round}: ${temps.length} temp files left (${temps[0]})`);
        if (intents.length) problems.push(`${round}: ${intents.length} intents left`);
        const rowShas = new Set([...rows.values()].map((r) => String(r.sha256)));
        if ([...shas].some((s) => !rowShas.has(s))) problems.push(`${round}: a source image is not a product`);
      }
      return withoutRow.length;
    };

    const day = (round: number) => `2026-05-${String(1 + round).padStart(2, '0')}`;
    for (let round = 0; round < ROUNDS; round++) {
      // The first two rounds are killed with their first batch's rows held back (at most 64 of
      // the 200 images each); the others after a random number of files.
      const held = round < 2;
      const killAt = 1 + Math.floor(Math.random() * IMAGES * 0.9);
      const kill: Kill = held ? { held: { lockFile: path.join(dir, '.artfactory', 'index.db.lock'), dayDir: path.join(dir, 'products', ...day(round).split('-')) } } : { at: killAt };
      const { lines, killed } = await runChild(dir, src, day(round), kill);
      takeStored(lines);
      if (!killed) break; // this round's kill point was among duplicates already imported: it ran to the end
      const left = await check(`round ${round} (killed ${held ? 'with its rows held back' : `after ${killAt} files`})`, false);
      if (left > 0) killedWithRowsPending++;
      else if (held) problems.push(`round ${round}: killed with its rows held back, yet no file was left without its row`);
    }
    const last = await runChild(dir, src, day(ROUNDS));
    takeStored(last.lines);
    await check('final import', true);
    const done = JSON.parse(last.lines.find((l) => l.startsWith('DONE '))!.slice(5)) as { imported: number; duplicates: number; skipped: number };
    assert.equal(done.skipped, 0);
    assert.equal(done.imported + done.duplicates, IMAGES, 'the last import looked at every image');
    assert.deepEqual(problems, []);
    assert.equal(reported.size, IMAGES, 'every product was reported stored once its row was durable');
    // The kills must have landed between an image's files and its batch's row (the held rounds
    // make sure of it), or the test never saw the window it is about.
    assert.ok(killedWithRowsPending >= 2, `no kill landed while rows were pending (${leftWithoutRow} files without a row over the rounds)`);
    console.log(`# killed import: ${ROUNDS} rounds, ${killedWithRowsPending} killed with files written and rows pending (${leftWithoutRow} such files in all), all completed by the next import`);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
