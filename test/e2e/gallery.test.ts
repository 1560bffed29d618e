// The gallery as people use it all day, in a real VS Code (code-server 4.100.3 with the built
// VSIX): the panel hidden behind a parameter file in the same editor group while generations
// run, brought back by its tab, by Open Gallery and by the toast's button; a window reload; and
// the grid driven by the keyboard only. Every check is on the tiles by product id, against the
// project's database: the gallery must show the truth, and every key must land on the product
// the user sees focused.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Frame } from 'playwright-core';
import { importImages } from '../../src/archive/import.ts';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import { plainPng } from '../archive/metadataFixtures.ts';
import type { JobRecord, ProductRecord } from '../../src/storage/types.ts';
import { startCodeServer, until, webviewFrame, type CodeServer } from './harness.ts';

let cs: CodeServer;
let project: string;

/** What the project's database holds now (opened fresh, so it sees the window's latest save). */
async function inDb(): Promise<{ products: ProductRecord[]; jobs: JobRecord[] }> {
  const db = await openProjectDb(project);
  try {
    return { products: (await db.queryProducts({ sort: 'newest', limit: 1000 })).items, jobs: await db.listJobs({}) };
  } finally {
    await db.close();
  }
}

async function productIds(): Promise<string[]> {
  return (await inDb()).products.map((p) => p.id);
}

/** The gallery's frame (a new one each time VS Code recreates the hidden webview). */
const gallery = (): Promise<Frame> => webviewFrame(cs.page, '[role=grid]');

/** The tiles the grid shows, in order, by product id. */
async function tileIds(frame: Frame): Promise<string[]> {
  return frame.locator('[role=gridcell].product').evaluateAll((els) => els.map((e) => e.id.replace(/^tile-/, '')));
}

/** The product the grid shows focused: the tile with the ring, which must be the one the grid
 * reports to assistive technology as well. */
async function focusedId(frame: Frame): Promise<string | undefined> {
  return frame.evaluate(() => {
    const ring = Array.from(document.querySelectorAll('.tile.focused')).map((e) => e.id);
    const active = document.querySelector('[role=grid]')?.getAttribute('aria-activedescendant');
    if (ring.length !== 1 || ring[0] !== active) throw new Error(`focus ring on [${ring.join(', ')}] but the grid says ${active}`);
    return active?.replace(/^tile-/, '');
  });
}

/** Waits until the grid shows exactly the database's products (newest first), then returns them. */
async function showsTheTruth(frame: Frame, what: string): Promise<string[]> {
  const want = await productIds();
  await until(`${what}: the grid shows the ${want.length} products of the database`, async () => JSON.stringify(await tileIds(frame).catch(() => [])) === JSON.stringify(want), 20_000).catch(async (e: Error) => {
    throw new Error(`${e.message}; it shows [${(await tileIds(frame).catch(() => [])).join(', ')}], the database has [${want.join(', ')}]`);
  });
  assert.match((await frame.locator('.count').textContent()) ?? '', new RegExp(`^\\s*${want.length} items?`), `${what}: the count`);
  return want;
}

/** Everything the progress notifications said while generating. */
const progressSeen = new Set<string>();

/** Runs the open parameter file and waits until `n` more products are in the database,
 * noting what the progress notification says meanwhile. */
async function generateHere(n: number): Promise<void> {
  const before = (await productIds()).length;
  await cs.command('Art Factory: Generate from This File');
  await until(`${n} new products`, async () => {
    const toasts = await cs.page.locator('.notifications-toasts .notification-toast', { hasText: 'pair.art.json' }).allTextContents();
    for (const t of toasts) progressSeen.add(t);
    return (await productIds()).length === before + n;
  }, 60_000);
}

/** Keys go to whatever has the focus, as when a user types: no click first. */
const press = (key: string) => cs.page.keyboard.press(key);

function step(name: string, timeoutMs: number, body: () => Promise<void>): void {
  test(name, { timeout: timeoutMs }, async () => {
    try {
      await body();
    } catch (e) {
      await cs?.shot(`gallery-failed-${name.split(':')[0].replace(/\W+/g, '-')}`).catch(() => undefined);
      throw e;
    }
  });
}

before(async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'af-gallery-e2e-'));
  project = path.join(base, 'studio');
  await createProject(project, 'Studio');
  await fs.writeFile(
    path.join(project, 'params', 'pair.art.json'),
    `${JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'a pair of herons', width: 256, height: 256, duration_ms: 600 }, count: 2 }, null, 2)}\n`,
  );
  // An image from another tool, with no metadata: imported before the window opens, the oldest.
  const incoming = path.join(base, 'incoming', 'harbour at dawn.png');
  await fs.mkdir(path.dirname(incoming), { recursive: true });
  await fs.writeFile(incoming, await plainPng(64, 48));
  await fs.utimes(incoming, new Date('2020-05-01T08:00:00Z'), new Date('2020-05-01T08:00:00Z'));
  const db = await openProjectDb(project);
  try {
    assert.equal((await importImages(project, db, [incoming])).imported, 1);
  } finally {
    await db.close();
  }
  cs = await startCodeServer({ workspace: project });
  // The Get Started walkthrough opens by itself on a first start, beside the editor (in
  // code-server even with workbench.welcomePage.walkthroughs.openOnInstall off): close it, so
  // the gallery and the parameter file share one editor group as the steps intend.
  const walkthrough = cs.page.locator('.tab', { hasText: 'Walkthrough' });
  if (await until('the walkthrough', async () => (await walkthrough.count()) > 0, 20_000).then(() => true, () => false)) {
    await walkthrough.locator('.codicon-close').click();
    await until('the walkthrough closed', async () => (await walkthrough.count()) === 0, 20_000);
  }
});

after(async () => {
  await cs?.stop();
});

step('1: Open Gallery with Ctrl+Alt+Y puts the keyboard in the grid: the first key acts on the focused product', 240_000, async () => {
  await cs.openFile('pair.art.json');
  await generateHere(2);
  await cs.command('Notifications: Clear All Notifications');
  // The keybinding, as a user would (the extension is active: it just generated).
  await press('Control+Alt+Y');
  const frame = await gallery();
  await showsTheTruth(frame, 'first open');
  const [newest] = await productIds();
  assert.equal(await focusedId(frame), newest);
  await press('f');
  await until('the favourite saved', async () => (await inDb()).products.find((p) => p.id === newest)?.favorite, 20_000);
  await press('ArrowRight');
  const second = await focusedId(frame);
  await press('3');
  await until('the rating saved', async () => (await inDb()).products.find((p) => p.id === second)?.rating === 3, 20_000);
  await cs.shot('gallery-01-opened');
});

step('2: hidden behind a parameter file while it generates, the gallery comes back by its tab showing the truth', 240_000, async () => {
  await cs.openFile('pair.art.json');
  await generateHere(2);
  await cs.page.locator('.tab', { hasText: 'Gallery: Studio' }).click();
  const frame = await gallery();
  const ids = await showsTheTruth(frame, 'back by its tab');
  // The favourite and the rating made before it was hidden are still shown.
  const labels = await frame.locator('[role=gridcell].product').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  assert.equal(labels.filter((l) => l.includes('favourite')).length, 1, labels.join(' | '));
  assert.equal(labels.filter((l) => l.includes('3 stars')).length, 1, labels.join(' | '));
  assert.equal(ids.length, 5, 'four made here, one imported');
  await cs.shot('gallery-02-back-by-tab');
  // The progress said where the jobs were in our words, never the provider's.
  const said = [...progressSeen].join(' | ');
  assert.match(said, /done/, said);
  assert.doesNotMatch(said, /IN_PROGRESS|IN_QUEUE|COMPLETED|queue position/, said);
});

step('3: hidden again, it comes back by Open Gallery, keys working at once', 240_000, async () => {
  await cs.openFile('pair.art.json');
  await generateHere(2);
  await cs.command('Art Factory: Open Gallery');
  const frame = await gallery();
  const ids = await showsTheTruth(frame, 'back by Open Gallery');
  await press('End');
  assert.equal(await focusedId(frame), ids.at(-1));
  await press('Home');
  assert.equal(await focusedId(frame), ids[0]);
});

step("4: hidden again, it comes back by the finished toast's Open Gallery button", 240_000, async () => {
  await cs.openFile('pair.art.json');
  await cs.command('Notifications: Clear All Notifications');
  await generateHere(2);
  const toast = cs.page.locator('.notifications-toasts .notification-toast', { hasText: 'products in Studio' });
  await toast.waitFor({ timeout: 30_000 });
  await toast.locator('.monaco-button', { hasText: 'Open Gallery' }).click();
  const frame = await gallery();
  await showsTheTruth(frame, "back by the toast's button");
  await cs.shot('gallery-04-back-by-toast');
});

step('5: products arriving live while the third tile is focused: the focus stays on that product and the keys act on it', 240_000, async () => {
  let frame = await gallery();
  await frame.locator('[role=grid]').focus();
  await press('Home');
  await press('ArrowRight');
  await press('ArrowRight');
  const third = await focusedId(frame);
  assert.ok(third);
  // Generate… from the palette leaves the gallery visible, so its products arrive live.
  const before = (await productIds()).length;
  await cs.command('Art Factory: Generate…');
  const input = cs.page.locator('.quick-input-widget input');
  await input.fill('gradient shapes');
  await cs.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sample: Gradient Shapes' }).first().click();
  await cs.page.locator('.quick-input-widget', { hasText: 'Describe the image' }).waitFor({ timeout: 30_000 });
  await input.fill('a heron arriving live');
  await press('Enter');
  await cs.page.locator('.quick-input-widget', { hasText: 'How many?' }).waitFor({ timeout: 30_000 });
  await cs.page.locator('.quick-input-list .monaco-list-row', { hasText: '2' }).first().click();
  await until('two products arrived', async () => (await productIds()).length === before + 2, 60_000);
  frame = await gallery();
  await showsTheTruth(frame, 'live arrivals');
  assert.equal(await focusedId(frame), third, 'the focus stayed on its product');
  await press('5');
  await until('the rating saved on the focused product', async () => (await inDb()).products.find((p) => p.id === third)?.rating === 5, 20_000);
  const rated = (await inDb()).products.filter((p) => p.rating === 5).map((p) => p.id);
  assert.deepEqual(rated, [third], 'only the focused product was rated');
  await cs.shot('gallery-05-live-focus');
});

step('6: Delete and Ctrl+Z with the keyboard only: the focused product goes and comes back', 240_000, async () => {
  const frame = await gallery();
  const target = await focusedId(frame);
  assert.ok(target);
  await press('Delete');
  await until('the product deleted', async () => !(await productIds()).includes(target), 20_000);
  await showsTheTruth(frame, 'after Delete');
  await press('Control+z');
  await until('the product restored', async () => (await productIds()).includes(target), 20_000);
  await showsTheTruth(frame, 'after Ctrl+Z');
  assert.equal((await inDb()).products.find((p) => p.id === target)?.rating, 5, 'it comes back with the rating it was given (step 5)');
  assert.equal(await focusedId(frame), target, 'and with the focus');
});

step('7: after a window reload the gallery shows the truth, keys work at once, and the Jobs view lists the history in our words', 300_000, async () => {
  const { page } = cs;
  await cs.command('Developer: Reload Window');
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  const frame = await gallery();
  const ids = await showsTheTruth(frame, 'after the reload');
  await frame.locator('[role=grid]').focus();
  await press('Home');
  await press('ArrowRight');
  assert.equal(await focusedId(frame), ids[1]);
  await press('0');
  await until('the rating cleared', async () => (await inDb()).products.find((p) => p.id === ids[1])?.rating === 0, 20_000);
  // The Jobs view, before any new Generate: the finished jobs from the database.
  await cs.command('Art Factory: Show Jobs');
  const jobs = (await inDb()).jobs;
  const rows = page.locator('.pane-body .monaco-list-row', { hasText: 'heron' });
  await until('the Jobs view lists the history', async () => (await rows.count()) >= 2, 30_000);
  const text = (await page.locator('.pane-body .monaco-list-row').allTextContents()).join(' | ');
  assert.doesNotMatch(text, /IN_PROGRESS|IN_QUEUE|COMPLETED|queue position/i, text);
  assert.match(text, /Done/, text);
  assert.ok(jobs.length >= 5, `${jobs.length} jobs in the database`);
  await cs.shot('gallery-07-after-reload');
});

step('8: an imported image is called by its file name; Re-run checks it like a parameter file, sends nothing and says why, and offers the file to fix it', 240_000, async () => {
  const { page } = cs;
  const imported = (await inDb()).products.find((p) => p.provider === 'import')!;
  const jobsBefore = (await inDb()).jobs.length;
  const frame = await gallery();
  await frame.locator('[role=grid]').focus();
  await press('End');
  assert.equal(await focusedId(frame), imported.id, 'the oldest: last');
  assert.equal(await frame.locator(`#tile-${imported.id} img`).getAttribute('alt'), 'harbour at dawn.png');
  await press('Enter');
  await frame.locator('#detail-title', { hasText: 'harbour at dawn.png' }).waitFor();
  await frame.locator('vscode-button', { hasText: 'Re-run (same seed)' }).click();
  // Its tool is not a provider here: pick a model to make it with.
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('gradient shapes');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sample: Gradient Shapes' }).first().click();
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'was not sent' });
  await toast.waitFor({ timeout: 30_000 });
  await cs.shot('gallery-08-rerun-refused');
  assert.match((await toast.textContent()) ?? '', /Re-run of "harbour at dawn\.png" with sample\/gradient was not sent: Missing required field "prompt"\. Nothing was sent\./);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await inDb()).jobs.length, jobsBefore, 'no job was made');
  await toast.locator('.monaco-button', { hasText: 'Open as Parameter File' }).click();
  const name = `reuse-${imported.id}.art.json`;
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 30_000 });
  const file = JSON.parse(await fs.readFile(path.join(project, 'params', name), 'utf8')) as { $schema: string; model: string };
  assert.equal(file.model, 'sample/gradient');
  assert.ok(existsSync(path.resolve(project, 'params', file.$schema)), `its $schema (${file.$schema}) is there`);
  // The missing prompt is in Problems, once, and the CodeLens counts the same.
  await page.locator('.codelens-decoration', { hasText: '1 problem to fix before generating' }).first().waitFor({ timeout: 30_000 });
  await cs.command('View: Focus Problems');
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'Missing required field "prompt"' }).first().waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('.markers-panel .monaco-list-row', { hasText: 'prompt' }).count(), 1, 'listed once');
  await cs.shot('gallery-08-fix-it-here');
  // A JSON syntax error (the comma after "$schema" taken away): listed once, by VS Code's JSON
  // service, and the CodeLens counts what Problems lists.
  await page.keyboard.press('Control+P');
  await input.fill(':2');
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
  await page.keyboard.press('End');
  await page.keyboard.press('Backspace');
  await page.locator('.markers-panel .monaco-list-row', { hasText: /comma/i }).first().waitFor({ timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 1500)); // our own check runs 300 ms after typing
  const rows = await page.locator('.markers-panel .monaco-list-row').allTextContents();
  await cs.shot('gallery-08-syntax-once');
  assert.equal(rows.filter((r) => /JSON syntax/.test(r)).length, 0, `ours is not listed as well: ${rows.join(' | ')}`);
  const errors = await page.locator('.markers-panel .monaco-list-row .codicon-error').count();
  assert.ok(errors >= 1, rows.join(' | '));
  await page.locator('.codelens-decoration', { hasText: `${errors} problem${errors === 1 ? '' : 's'} to fix before generating` }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Control+Z');
});

step('9: Re-run of a generated product goes the way a Generate goes: one new job under its own batch, its progress, the product lands with the same seed', 240_000, async () => {
  const { page } = cs;
  await cs.command('Notifications: Clear All Notifications');
  const before = await inDb();
  const newest = before.products.find((p) => p.provider === 'sample')!;
  await cs.command('Art Factory: Open Gallery');
  const frame = await gallery();
  await showsTheTruth(frame, 'before the Re-run');
  // Step 8 left the imported image's detail open: back to the grid, to the newest.
  const close = frame.locator('vscode-button[aria-label="Close detail"]');
  if (await close.count()) {
    await close.click();
    await until('the detail closed', async () => (await close.count()) === 0, 10_000);
  }
  await frame.locator('[role=grid]').focus();
  await press('Home');
  assert.equal(await focusedId(frame), newest.id, 'the newest first');
  await press('Enter');
  await frame.locator('vscode-button', { hasText: 'Re-run (same seed)' }).click();
  const progress = page.locator('.notifications-toasts .notification-toast', { hasText: 'Re-run of 1 product' });
  await progress.first().waitFor({ timeout: 30_000 });
  await until('the Re-run product', async () => (await inDb()).products.length === before.products.length + 1, 60_000);
  const after = await inDb();
  const job = after.jobs.find((j) => !before.jobs.some((b) => b.id === j.id))!;
  assert.equal(after.jobs.length, before.jobs.length + 1, 'exactly one new job');
  assert.ok(job.batchId && !before.jobs.some((j) => j.batchId === job.batchId), 'under a batch of its own');
  assert.equal(job.sourceFile, newest.sourceFile, 'relative to the product\'s parameter file, as the first time');
  const made = after.products.find((p) => p.jobId === job.id)!;
  assert.equal(made.seed, newest.seed, 'the same seed');
  await page.locator('.notifications-toasts .notification-toast', { hasText: '1 product in Studio' }).waitFor({ timeout: 30_000 });
  await cs.shot('gallery-09-rerun-started');
});
