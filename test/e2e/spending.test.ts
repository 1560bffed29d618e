// Cost in code-server, as a user meets it (issue 11): the status bar says today's spend across
// projects; the parameter file's CodeLens says what it will cost; Open Spending shows the bars, the
// table and the budget with what is left; the panel hides and comes back, and survives a reload.
// Then a batch past the budget: the plan asks first, the engine stops what the budget cannot
// cover, and the toast's Raise Budget… raises it through a pick and an input.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createProject, readManifest, setProjectBudgets } from '../../src/storage/index.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { startCodeServer, until, webviewFrame, type CodeServer } from './harness.ts';

let cs: CodeServer;
let project: string;
let fal: FalFake;
const KEY = 'fal-spending-key-0123456789abcdef';

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
  fal = await startFalFake({ key: KEY });
  cs = await startCodeServer({ workspace: project, env: { ARTFACTORY_USER_DIR: userDir, ARTFACTORY_FAL_BASE_URL: fal.baseUrl } });
});

after(async () => {
  await cs?.stop();
  await fal?.close();
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

test('a batch past the budget: asked first, stopped at what is left, and Raise Budget… from the toast raises it', { timeout: 300_000 }, async () => {
  const { page } = cs;
  await cs.command('Art Factory: Set API Key…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fal' }).first().click();
  const secret = page.locator('.quick-input-widget input[type=password]');
  await secret.waitFor({ state: 'visible', timeout: 30_000 });
  await secret.fill(KEY);
  await page.keyboard.press('Enter');
  assert.ok(await cs.notified('fal.ai is connected', 'spending-04-key'), 'the key is confirmed');

  // $0.06 an image (the fake's pricing API), 12 images: $0.72 against the $0.64 left today.
  await fs.writeFile(path.join(project, 'params', 'ultra.art.json'), JSON.stringify({ provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: 'a lighthouse within budget' }, count: 12 }, null, 2));
  await cs.openFile('ultra.art.json');
  const lens = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: 'Generate' });
  await until('the estimate in the CodeLens', async () => /12 jobs · ≈? ?\$0\.72/.test((await lens.first().textContent().catch(() => '')) ?? ''), 60_000);
  await lens.first().click();
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 30_000 });
  const asked = `${await dialog.locator('.dialog-message-text').textContent()} ${await dialog.locator('.dialog-message-detail').textContent().catch(() => '')}`;
  assert.match(asked, /12 jobs/);
  assert.match(asked, /budget/i, `the question says the budget is why: ${asked}`);
  await cs.shot('spending-05-asked');
  await dialog.locator('.monaco-button', { hasText: 'Start 12 Jobs' }).click();

  const stopped = page.locator('.notifications-toasts .notification-toast', { hasText: 'Raise Budget' });
  await stopped.waitFor({ timeout: 120_000 });
  await cs.shot('spending-06-stopped');
  assert.match((await stopped.textContent()) ?? '', /2 of 12 jobs failed/, 'the two the budget cannot cover are stopped');
  assert.equal(fal.jobs.size, 10, '$0.64 left covers ten $0.06 images: only they reach fal');

  await stopped.locator('.monaco-button', { hasText: 'Raise Budget' }).click();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: "the project's daily USD budget of $1.00" }).first().click();
  const input = page.locator('.quick-input-widget input');
  await until('the new limit asked, doubled as a start', async () => (await input.inputValue()) === '2');
  await input.fill('3');
  await page.keyboard.press('Enter');
  await until('the budget written to artfactory.json', async () => JSON.stringify((await readManifest(project)).budgets) === JSON.stringify([{ currency: 'USD', per: 'day', limit: 3 }]));
  await cs.command('Art Factory: Open Spending');
  const frame = await webviewFrame(page, 'table');
  await until('Spending shows the raised budget', async () => /\$3\.00 per day/.test((await frame.locator('main').textContent()) ?? ''), 60_000);
  await cs.shot('spending-07-raised');
});
