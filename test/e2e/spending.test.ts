// Cost in code-server, as a user meets it (issue 11): the status bar says today's spend across
// projects; the parameter file's CodeLens says what it will cost; Open Spending shows the bars, the
// table and the budget with what is left; the panel hides and comes back, and survives a reload.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createProject, setProjectBudgets } from '../../src/storage/index.ts';
import { startCodeServer, until, webviewFrame, type CodeServer } from './harness.ts';

let cs: CodeServer;
let project: string;

/** Ledger lines as the engine writes them: an estimate, then the cost. */
function run(job: string, at: Date, model: string, amount: number): string {
  const iso = at.toISOString();
  const cost = { amount, currency: 'USD', estimated: false };
  return [
    JSON.stringify({ v: 1, type: 'estimate', at: iso, job, provider: 'fal', model, estimate: { ...cost, estimated: true } }),
    JSON.stringify({ v: 1, type: 'cost', at: iso, job, provider: 'fal', model, state: 'succeeded', cost }),
  ].join('\n');
}

before(async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-e2e-spending-'));
  project = path.join(root, 'harbour');
  await createProject(project, 'Harbour');
  await setProjectBudgets(project, [{ currency: 'USD', per: 'day', limit: 1 }]);
  const now = new Date();
  const yesterday = new Date(now.getTime() - 24 * 3600_000);
  const lines = [run('J1', now, 'fal-ai/flux-pro/v1.1-ultra', 0.06), run('J2', now, 'fal-ai/flux-pro/v1.1-ultra', 0.06), run('J3', now, 'fal-ai/flux/dev', 0.24), run('J0', yesterday, 'fal-ai/flux/dev', 0.5)];
  await fs.writeFile(path.join(project, '.artfactory', 'ledger.jsonl'), `${lines.join('\n')}\n`);
  // The user ledger (every project's spending) in its own folder, as VS Code and the CLI share it.
  const userDir = path.join(root, 'user');
  await fs.mkdir(userDir);
  await fs.writeFile(path.join(userDir, 'ledger.jsonl'), `${lines.join('\n')}\n`);
  await fs.writeFile(path.join(project, 'params', 'sample.art.json'), JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'a free test' }, count: 2 }, null, 2));
  cs = await startCodeServer({ workspace: project, env: { ARTFACTORY_USER_DIR: userDir } });
});

after(async () => {
  await cs?.stop();
});

test("the status bar, the CodeLens's estimate and the Spending panel (hidden, revealed, reloaded)", { timeout: 400_000 }, async () => {
  const { page } = cs;
  const status = page.locator('.statusbar-item', { hasText: 'today' });
  await status.first().waitFor({ timeout: 120_000 });
  assert.match((await status.first().textContent()) ?? '', /\$0\.36 today/);
  await cs.shot('spending-00-status');

  await cs.openFile('sample.art.json');
  const lens = page.locator('.codelens-decoration', { hasText: 'Generate' });
  await until('the CodeLens with its estimate', async () => /▶ Generate \(2 jobs · free\)/.test((await lens.first().textContent().catch(() => '')) ?? ''), 60_000);
  await cs.shot('spending-01-codelens');

  await status.first().click();
  let frame = await webviewFrame(page, 'table');
  const text = async () => (await frame.locator('main').textContent()) ?? '';
  await until('the last 30 days', async () => /\$0\.86/.test(await text()));
  assert.match(await text(), /fal-ai\/flux-pro\/v1\.1-ultra2\$0\.12/);
  assert.match(await text(), /fal-ai\/flux\/dev2\$0\.74/);
  assert.equal(await frame.locator('.bar').count(), 30, 'one bar per day of the last 30');
  const heights = await frame.locator('.bar .fill').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
  assert.equal(heights.filter((h) => h > 10).length, 2, `two days with spending: ${heights.join(',')}`);
  assert.match(await text(), /Project: \$1\.00 per day.*\$0\.36 spent, \$0\.64 left/);
  await cs.shot('spending-02-panel');

  // Hidden behind another editor and revealed: it draws again from the host.
  await cs.openFile('sample.art.json');
  await cs.command('Art Factory: Open Spending');
  frame = await webviewFrame(page, 'table');
  await until('the panel again', async () => /\$0\.64 left/.test(await text()));

  // A reload: VS Code restores the panel, and it asks the host again.
  await cs.command('Developer: Reload Window');
  frame = await webviewFrame(page, 'table', 180_000);
  await until('the restored panel', async () => /\$0\.64 left/.test(await text()), 120_000);
  await cs.shot('spending-03-reloaded');
});
