import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { startCodeServer, webviewFrame, type CodeServer } from './harness.ts';

const KEY = 'fal-e2e-key-0123456789abcdef';
let cs: CodeServer;
let fake: FalFake;
let project: string;

async function productsOnDisk(): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.png')) out.push(p);
    }
  }
  await walk(path.join(project, 'products'));
  return out;
}

before(async () => {
  fake = await startFalFake({ key: KEY });
  project = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-journey-')), 'journey');
  await createProject(project, 'Journey');
  await fs.writeFile(
    path.join(project, 'params', 'sample.art.json'),
    `${JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'a lighthouse at dusk, journey', width: 512, height: 384, duration_ms: 1500 }, count: 2 }, null, 2)}\n`,
  );
  cs = await startCodeServer({ workspace: project, env: { ARTFACTORY_FAL_BASE_URL: fake.baseUrl } });
});

after(async () => {
  await cs?.stop();
  await fake?.close();
});

test('the extension activates in code-server and its commands are in the palette', { timeout: 180_000 }, async () => {
  const { page } = cs;
  const input = page.locator('.quick-input-widget input');
  for (const t of ['Generate…', 'Open Gallery', 'New Project…', 'Set API Key…', 'New Parameter File…', 'Rebuild Index']) {
    // Right after start-up the palette may answer before the extension's commands are known:
    // close it and ask again.
    let found = false;
    for (let attempt = 0; attempt < 30 && !found; attempt++) {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>Art Factory: ${t}`);
      found = await page
        .locator('.quick-input-list .monaco-list-row', { hasText: `Art Factory: ${t}` })
        .first()
        .waitFor({ timeout: 2000 })
        .then(() => true, () => false);
      if (!found || t !== 'Rebuild Index') await page.keyboard.press('Escape');
    }
    assert.ok(found, `"Art Factory: ${t}" is in the command palette`);
  }
  await page.keyboard.press('F1');
  await input.fill('>Art Factory: Rebuild Index');
  await cs.shot('01-palette');
  await page.keyboard.press('Escape');
  // The Get Started walkthrough is contributed.
  await cs.command('Welcome: Open Walkthrough...');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get Started with Art Factory' }).first().waitFor({ timeout: 30_000 });
  await cs.shot('02-walkthrough');
  await page.keyboard.press('Escape');
});

test('Set API Key for fal stores the key and Test Connection succeeds against the fake', { timeout: 180_000 }, async () => {
  const { page } = cs;
  await cs.command('Art Factory: Set API Key…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fal' }).first().waitFor({ timeout: 30_000 });
  await cs.shot('03-key-provider');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fal' }).first().click();
  const input = page.locator('.quick-input-widget input[type=password]');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(KEY);
  await page.keyboard.press('Enter');
  await page.locator('.notifications-toasts', { hasText: 'is connected' }).waitFor({ timeout: 60_000 }).catch(async (e) => {
    await cs.shot('03-key-failed');
    throw e;
  });
  await cs.shot('04-key-connected');
  assert.ok(fake.captured.some((c) => c.headers.authorization === `Key ${KEY}`), 'the key reached the fake in the Authorization header');
});

test('▶ Generate from the CodeLens runs the Sample provider; the products land on disk and in the gallery', { timeout: 240_000 }, async () => {
  const { page } = cs;
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('sample.art.json');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sample.art.json' }).first().waitFor();
  await page.keyboard.press('Enter');
  const lens = page.locator('.codelens-decoration a', { hasText: 'Generate' });
  await lens.waitFor({ timeout: 60_000 });
  assert.match((await lens.textContent()) ?? '', /2 jobs/);
  await cs.shot('05-codelens');
  await lens.click();
  await page.locator('.notifications-toasts', { hasText: 'Art Factory' }).first().waitFor({ timeout: 30_000 });
  await cs.shot('06-progress');
  for (let i = 0; i < 240 && (await productsOnDisk()).length < 2; i++) await page.waitForTimeout(250);
  assert.equal((await productsOnDisk()).length, 2);
  await cs.command('Art Factory: Open Gallery');
  const frame = await webviewFrame(page, '[role=gridcell] img');
  assert.equal(await frame.locator('[role=gridcell]').count(), 2);
  await cs.shot('07-gallery');
  // Rate with the keyboard and find by a word of the prompt.
  await frame.locator('[role=grid]').focus();
  await frame.locator('[role=grid]').press('4');
  await frame.locator('[role=grid]').press('f');
  const db = await openProjectDb(project);
  try {
    let rated = 0;
    for (let i = 0; i < 80 && rated === 0; i++) {
      await page.waitForTimeout(250);
      rated = (await db.queryProducts({ minRating: 4, favorite: true })).total;
    }
    assert.equal(rated, 1);
  } finally {
    await db.close();
  }
  await frame.locator('input[type=search]').fill('lighthouse');
  await frame.locator('.count', { hasText: '2 items' }).waitFor();
  await frame.locator('[role=grid]').focus();
  await frame.locator('[role=grid]').press('Enter');
  await frame.locator('pre.json').waitFor();
  await cs.shot('08-detail');
  await frame.locator('button', { hasText: 'Reuse Parameters' }).click();
  for (let i = 0; i < 80; i++) {
    const files = (await fs.readdir(path.join(project, 'params'))).filter((f) => f.startsWith('reuse-'));
    if (files.length) {
      const reused = JSON.parse(await fs.readFile(path.join(project, 'params', files[0]), 'utf8'));
      assert.equal(reused.input.prompt, 'a lighthouse at dusk, journey');
      break;
    }
    await page.waitForTimeout(250);
    assert.notEqual(i, 79, 'Reuse Parameters wrote a parameter file');
  }
  await cs.shot('09-reuse');
});
