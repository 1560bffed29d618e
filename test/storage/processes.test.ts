import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { openProjectDb } from '../../src/storage/index.ts';
import { tempProject } from './helpers.ts';

const WRITER = path.join(__dirname, 'writer.ts');

function startWriter(dir: string, prefix: string, count: number, batch = 1) {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, prefix, String(count), String(batch)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let saved = 0;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    for (const m of d.matchAll(/saved (\d+)/g)) saved = Math.max(saved, Number(m[1]));
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, saved: () => saved, exited };
}

test('a writer killed at random moments 50 times never loses a reported save nor tears the file', { timeout: 600_000 }, async () => {
  const dir = await tempProject();
  let confirmed = 0;
  let kills = 0;
  for (let round = 0; round < 50; round++) {
    const prefix = `R${String(round).padStart(2, '0')}-`;
    const w = startWriter(dir, prefix, 100000, 3);
    // Wait for the worker to be up, then kill after a random extra delay.
    const started = Date.now();
    while (w.saved() === 0 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, Math.random() * 150));
    w.child.kill('SIGKILL');
    await w.exited;
    kills++;
    const reported = w.saved();
    assert.ok(reported > 0, `round ${round}: the writer reported no save before it was killed`);
    const db = await openProjectDb(dir, { backups: 0 });
    // Every reported save is there; at most the one batch in flight (saved, not yet reported) more.
    const count = await db.countProducts();
    const thisRound = count - confirmed;
    assert.ok(thisRound >= reported && thisRound <= reported + 3, `round ${round}: ${thisRound} rows written, ${reported} reported saved`);
    for (let i = 0; i < thisRound; i++) assert.ok(await db.getProduct(`${prefix}${String(i).padStart(6, '0')}`), `round ${round}: product ${i} of ${thisRound} is missing`);
    confirmed = count;
    await db.close();
  }
  assert.equal(kills, 50);
});

test('two windows writing one project at once lose none of each other\'s writes', { timeout: 300_000 }, async () => {
  const dir = await tempProject();
  const a = startWriter(dir, 'A-', 200, 1);
  const b = startWriter(dir, 'B-', 200, 1);
  assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
  const db = await openProjectDb(dir);
  assert.equal(await db.countProducts(), 400);
  assert.ok(await db.getProduct('A-000199'));
  assert.ok(await db.getProduct('B-000000'));
  await db.close();
});
