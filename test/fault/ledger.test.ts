// The ledger survives a SIGKILL mid-batch: a child sending 12 priced fal jobs is killed at
// different moments (after 1 to 9 submissions reached the fake). After each kill, every
// submission the provider received is accounted for by an estimate line in the ledger, and every
// job the database knows as sent has one; the resumed batch then ends each open line with its
// cost, and what the ledger says was spent is what the provider billed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { projectSpending } from '../../src/engine/cost/index.ts';
import { createProject } from '../../src/storage/index.ts';
import { startFalFake } from '../fakes/fal.ts';
import { FAL_KEY } from '../engine/helpers.ts';

const CHILD = path.join(__dirname, 'ledgerChild.ts');

function child(args: string[]): { exited: Promise<number | null>; kill(): void } {
  const c = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d: Buffer) => (err += d));
  return {
    exited: new Promise((r) =>
      c.on('exit', (code) => {
        if (code) process.stderr.write(err);
        r(code);
      }),
    ),
    kill: () => c.kill('SIGKILL'),
  };
}

async function ledger(dir: string): Promise<{ type: string; job: string; cost?: { amount: number } | null }[]> {
  const text = await fs.readFile(path.join(dir, '.artfactory', 'ledger.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return []; // a line torn by the kill
      }
    });
}

/** Jobs the database holds with a request id, read with raw sql.js (not our storage code). */
async function sentJobs(dir: string): Promise<string[]> {
  const SQL = await initSqlJs();
  const bytes = await fs.readFile(path.join(dir, '.artfactory', 'index.db')).catch(() => undefined);
  if (!bytes) return [];
  const db = new SQL.Database(bytes);
  try {
    const r = db.exec("SELECT id FROM jobs WHERE json_extract(json, '$.requestId') IS NOT NULL");
    return (r[0]?.values ?? []).map((v) => String(v[0]));
  } finally {
    db.close();
  }
}

test('after a SIGKILL mid-batch the ledger still accounts for every job sent, and the resumed batch settles each one', async () => {
  for (const killAfter of [1, 3, 5, 9]) {
    const fake = await startFalFake({ key: FAL_KEY, plan: { queueSteps: 8, progressSteps: 4 } });
    try {
      const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-ledger-kill-')), 'p');
      await createProject(dir, 'Ledger crash');
      const run = child([dir, fake.baseUrl]);
      for (let i = 0; i < 600 && fake.jobs.size < killAfter; i++) await new Promise((r) => setTimeout(r, 20));
      run.kill();
      await run.exited;
      const seen = fake.jobs.size;
      assert.ok(seen >= killAfter, `the child was killed after ${seen} submissions`);
      const lines = await ledger(dir);
      const estimates = lines.filter((l) => l.type === 'estimate');
      assert.ok(estimates.length >= seen, `${estimates.length} estimate lines for ${seen} submissions the provider received (kill after ${killAfter})`);
      const inLedger = new Set(estimates.map((l) => l.job));
      for (const id of await sentJobs(dir)) assert.ok(inLedger.has(id), `job ${id} was sent but is not in the ledger`);

      const resume = child([dir, fake.baseUrl, 'resume']);
      assert.equal(await resume.exited, 0);
      const after = await ledger(dir);
      const open = new Map<string, number>();
      for (const l of after) open.set(l.job, (open.get(l.job) ?? 0) + (l.type === 'estimate' ? 1 : -1));
      assert.deepEqual([...open].filter(([, n]) => n !== 0), [], 'every estimate has its cost line');
      // A submission whose request id the kill kept from the database is sent again on resume:
      // the provider then has two, both may bill, and the ledger has a run for each (the
      // interrupted one closed with its cost unknown, counted at its estimate).
      const runs = after.filter((l) => l.type === 'estimate').length;
      assert.ok(runs >= fake.jobs.size, `kill after ${killAfter}: ${runs} runs in the ledger for ${fake.jobs.size} submissions`);
      const billed = after.filter((l) => l.type === 'cost' && l.cost && l.cost.amount > 0).length;
      const unknown = after.filter((l) => l.type === 'cost' && l.cost === null).length;
      assert.ok(billed + unknown >= fake.jobs.size, `${billed} billed + ${unknown} unknown for ${fake.jobs.size} submissions`);
      assert.equal(billed, 12, 'each of the 12 jobs ended billed once');
      const spent = projectSpending(dir).ledger;
      await spent.refresh();
      assert.ok(spent.spent('USD') >= Math.round(fake.jobs.size * 6) / 100 - 1e-9, `spent ${spent.spent('USD')} covers ${fake.jobs.size} submissions at $0.06`);
    } finally {
      await fake.close();
    }
  }
});
