// A user's whole journey in a real VS Code (code-server 4.100.3 with the built VSIX), driven
// through the UI as a user would: palette, quick picks, notifications, the editor with its
// completion and Problems, the CodeLens, the gallery webview, a window reload mid-job, and
// New Project. The providers are the Sample provider and the fal fake (endpoint override).
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { safeFileName } from '../../src/engine/templates.ts';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { A1111_TEXT, plainPng, pngWithText } from '../archive/metadataFixtures.ts';
import { walkFiles } from '../files.ts';
import { startCodeServer, until, webviewFrame, type CodeServer } from './harness.ts';

const KEY = 'fal-e2e-key-0123456789abcdef';
let cs: CodeServer;
let fake: FalFake;
let base: string;
let project: string;

async function productsOnDisk(): Promise<string[]> {
  return (await walkFiles(path.join(project, 'products'))).filter((f) => f.endsWith('.png'));
}

/** Moves the cursor to the end of the first line of `file` (as saved) holding `text`: quick
 * open's ":line" (go to line), then End. Sturdier than typing into the find widget. */
async function cursorAfter(file: string, text: string): Promise<void> {
  const { page } = cs;
  const line = (await fs.readFile(file, 'utf8')).split('\n').findIndex((l) => l.includes(text)) + 1;
  assert.ok(line > 0, `${text} is in ${file}`);
  const input = page.locator('.quick-input-widget input');
  await page.keyboard.press('Control+P');
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${line}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
  await page.keyboard.press('End');
}

before(async () => {
  fake = await startFalFake({ key: KEY });
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'af-journey-'));
  project = path.join(base, 'journey');
  await createProject(project, 'Journey');
  await fs.writeFile(
    path.join(project, 'params', 'sample.art.json'),
    `${JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'a lighthouse at dusk, journey', width: 512, height: 384, duration_ms: 1500 }, count: 2 }, null, 2)}\n`,
  );
  await fs.writeFile(
    path.join(project, 'params', 'slow-fal.art.json'),
    `${JSON.stringify({ provider: 'fal', model: 'fal-ai/flux/schnell', input: { prompt: 'a slow harbour at night' } }, null, 2)}\n`,
  );
  // A multi-root workspace file, as users with several projects have: New Project adds to it.
  const workspace = path.join(base, 'art.code-workspace');
  await fs.writeFile(workspace, JSON.stringify({ folders: [{ path: 'journey' }] }));
  cs = await startCodeServer({ workspace, env: { ARTFACTORY_FAL_BASE_URL: fake.baseUrl }, settings: { 'workbench.welcomePage.walkthroughs.openOnInstall': true } });
});

/** A journey step: a screenshot is saved when it fails, so the reason can be seen. */
function step(name: string, timeoutMs: number, body: () => Promise<void>): void {
  test(name, { timeout: timeoutMs }, async () => {
    try {
      await body();
    } catch (e) {
      await cs?.shot(`failed-${name.split('.')[0].replace(/\W+/g, '-')}`).catch(() => undefined);
      throw e;
    }
  });
}

after(async () => {
  await cs?.stop();
  await fake?.close();
});

step('1. the extension activates in code-server, its walkthrough opens by itself on this first start, and its commands are in the palette', 180_000, async () => {
  const { page } = cs;
  await page.locator('.gettingStartedContainer', { hasText: 'Get Started with Art Factory' }).first().waitFor({ timeout: 60_000 });
  await cs.shot('02-walkthrough');
  await page.keyboard.press('Control+W');
  await page.locator('.tab', { hasText: 'Walkthrough' }).waitFor({ state: 'detached', timeout: 10_000 });
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
});

step('2. a wrong fal key gets a clear error offering to set it again; the right key connects', 180_000, async () => {
  const { page } = cs;
  await cs.command('Art Factory: Set API Key…');
  const falRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'fal' }).first();
  await falRow.waitFor({ timeout: 30_000 });
  await cs.shot('03-key-provider');
  await falRow.click();
  const secret = page.locator('.quick-input-widget input[type=password]');
  await secret.waitFor({ state: 'visible', timeout: 30_000 });
  await secret.fill('fal-wrong-key-000000000000');
  await page.keyboard.press('Enter');
  const failed = page.locator('.notifications-toasts .notification-toast', { hasText: 'rejected the API key' });
  await failed.waitFor({ timeout: 60_000 });
  await cs.shot('04-key-wrong');
  assert.ok(!((await failed.textContent()) ?? '').includes('fal-wrong-key'), 'the error does not show the key');
  await failed.locator('.monaco-button', { hasText: 'Set Key Again' }).click();
  await secret.waitFor({ state: 'visible', timeout: 30_000 });
  await secret.fill(KEY);
  await page.keyboard.press('Enter');
  assert.ok(await cs.notified('fal.ai is connected', '05-key-connected'), 'the right key is confirmed');
  assert.ok(fake.captured.some((c) => c.headers.authorization === `Key ${KEY}`), 'the key reached the fake in the Authorization header');
});

step("3. New Parameter File: completion offers the model's fields; an invalid value is underlined and listed in Problems", 240_000, async () => {
  const { page } = cs;
  await cs.command('Art Factory: New Parameter File…');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('fal-ai/flux/dev');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fal · fal-ai/flux/dev' }).first().click();
  await page.locator('.tab.active', { hasText: 'flux-dev.art.json' }).waitFor({ timeout: 60_000 });
  const file = path.join(project, 'params', 'flux-dev.art.json');
  const scaffold = JSON.parse(await fs.readFile(file, 'utf8'));
  assert.equal(scaffold.model, 'fal-ai/flux/dev');
  assert.equal(scaffold.input.num_inference_steps, 28, "the model's defaults are filled in");
  assert.ok(existsSync(path.resolve(path.dirname(file), scaffold.$schema)), 'the per-model $schema is written into the project');

  // Completion inside "input" lists the model's fields that are not there yet.
  await cursorAfter(file, '"prompt": ');
  await page.keyboard.press('Enter');
  // The fields come from the JSON language service reading the $schema the scaffold wrote; on a
  // cold machine it may answer "No suggestions" before it has read that file (CI did once). A
  // user asks again: so does the test, for up to a minute.
  const suggest = page.locator('.suggest-widget .monaco-list-row');
  const seed = page.locator('.suggest-widget .monaco-list-row', { hasText: 'seed' }).first();
  let offered = false;
  for (const deadline = Date.now() + 60_000; !offered && Date.now() < deadline; ) {
    await page.keyboard.press('Control+Space');
    offered = await seed.waitFor({ timeout: 5_000 }).then(() => true, () => false);
    if (!offered) await page.keyboard.press('Escape');
  }
  assert.ok(offered, `completion offers the model's "seed" field (last offered: ${(await suggest.allTextContents()).join(' | ') || 'nothing'})`);
  const labels = await suggest.allTextContents();
  await cs.shot('06-completion');
  assert.ok(labels.some((l) => l.includes('seed')), `completion shows the model's fields: ${labels.join(' | ')}`);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+S');
  // The empty line typed after "prompt" is on disk (judged by the content, not by a line count
  // read while the editor may already be saving).
  await until('the new line saved', async () => /"prompt": "[^"\n]*",\n[ \t]*\n/.test(await fs.readFile(file, 'utf8')));

  // An out-of-range value: underlined, in Problems, and the CodeLens refuses to generate.
  await cursorAfter(file, '"num_images": ');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.keyboard.insertText('99,');
  await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 30_000 });
  await page.locator('.codelens-decoration', { hasText: 'to fix before generating' }).first().waitFor({ timeout: 30_000 });
  await cs.command('View: Focus Problems');
  const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'num_images' }).first();
  await problem.waitFor({ timeout: 30_000 });
  await cs.shot('07-problems');
  assert.match((await problem.textContent()) ?? '', /"num_images" must be <= 4/, 'the problem names the field and the allowed maximum');
  assert.equal(await page.locator('.markers-panel .monaco-list-row', { hasText: 'image_size' }).count(), 0, "the scaffold's own defaults are valid");
  // Once: the $schema gives completion, not a second (warning) copy of our problem.
  assert.equal(await page.locator('.markers-panel .monaco-list-row', { hasText: /num_images|maximum/ }).count(), 1, 'the problem is listed once');
  await page.keyboard.press('Control+S');
  const submitsBefore = fake.jobs.size;
  await cs.command('Art Factory: Generate from This File');
  // The refusal is decided before anything could be sent: once it shows, nothing went out.
  assert.ok(await cs.notified('Nothing was sent', '07b-refused'), 'the refusal names the problems and says nothing was sent');
  assert.equal(fake.jobs.size, submitsBefore, 'nothing is sent while the file has problems');
  await page.keyboard.press('Control+W');
});

step('4–5. ▶ Generate from the CodeLens; the gallery shows the products; rate, favourite, search, detail, Reuse Parameters', 240_000, async () => {
  const { page } = cs;
  // A tidy window for the screenshots: step 3's toasts and Problems panel out of the way.
  await cs.command('Notifications: Clear All Notifications');
  // "View: Hide Panel" is in the palette only while the panel shows.
  if (await page.locator('.part.panel').isVisible()) await cs.command('View: Hide Panel');
  await cs.openFile('sample.art.json');
  const lens = page.locator('.codelens-decoration a', { hasText: 'Generate' });
  await lens.waitFor({ timeout: 60_000 });
  assert.match((await lens.textContent()) ?? '', /2 jobs/);
  await cs.shot('08-codelens');
  await lens.click();
  await page.locator('.notifications-toasts', { hasText: 'Art Factory' }).first().waitFor({ timeout: 30_000 });
  await cs.shot('09-progress');
  await until('two products on disk', async () => (await productsOnDisk()).length >= 2, 60_000);
  assert.equal((await productsOnDisk()).length, 2);
  await cs.command('Notifications: Clear All Notifications');
  await cs.command('Art Factory: Open Gallery');
  const frame = await webviewFrame(page, '[role=gridcell] img');
  assert.equal(await frame.locator('[role=gridcell]').count(), 2);
  await cs.shot('10-gallery');
  // Rate with the keyboard and favourite; the host saves it to the project database.
  await frame.locator('[role=grid]').focus();
  await frame.locator('[role=grid]').press('4');
  await frame.locator('[role=grid]').press('f');
  const db = await openProjectDb(project);
  try {
    await until('the rating saved', async () => (await db.queryProducts({ minRating: 4, favorite: true })).total === 1, 20_000);
  } finally {
    await db.close();
  }
  await frame.locator('vscode-textfield.search input').fill('lighthouse');
  await frame.locator('.count', { hasText: '2 items' }).waitFor();
  await frame.locator('vscode-textfield.search input').fill('nomatchword');
  await frame.locator('.count', { hasText: '0 items' }).waitFor();
  await frame.locator('vscode-textfield.search input').fill('lighthouse');
  await frame.locator('.count', { hasText: '2 items' }).waitFor();
  await frame.locator('[role=grid]').focus();
  await frame.locator('[role=grid]').press('Enter');
  await frame.locator('pre.json').waitFor();
  await frame.waitForFunction(() => Array.from(document.querySelectorAll('.media img')).some((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
  await cs.shot('11-detail');
  await frame.locator('vscode-button', { hasText: 'Reuse Parameters' }).click();
  const reusedName = await until('a reused parameter file', async () => (await fs.readdir(path.join(project, 'params'))).find((f) => f.startsWith('reuse-')));
  const reused = JSON.parse(await fs.readFile(path.join(project, 'params', reusedName), 'utf8'));
  assert.equal(reused.input.prompt, 'a lighthouse at dusk, journey');
  await page.locator('.tab.active', { hasText: reusedName }).waitFor({ timeout: 30_000 });
  await cs.shot('12-reuse');
});

step('6. a window reload while a slow fal job runs: the job resumes, its product appears in the restored gallery, nothing duplicated', 300_000, async () => {
  const { page } = cs;
  const before = (await productsOnDisk()).length;
  fake.nextJob({ queueSteps: 3, progressSteps: 60, width: 96, height: 96 });
  const jobsBefore = fake.jobs.size;
  await cs.openFile('slow-fal.art.json');
  const lens = page.locator('.codelens-decoration a', { hasText: 'Generate' });
  await lens.waitFor({ timeout: 60_000 });
  await lens.click();
  const job = await until('the fal job running', () => [...fake.jobs.values()].find((j) => j.polls >= 5), 60_000);
  assert.equal(job.completed, false);
  // The gallery (opened in step 4) shows the running job as a tile.
  await cs.shot('13-slow-job-running');
  await cs.command('Developer: Reload Window');
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  const pollsAtReload = job.polls;
  await until('the job completed after the reload', () => job.completed, 120_000);
  assert.ok(job.polls > pollsAtReload, 'the reloaded window polled the same request again');
  await until('its product on disk', async () => (await productsOnDisk()).length === before + 1, 60_000);
  // The gallery tab was restored by its serializer; bring it to the front.
  await cs.command('Art Factory: Open Gallery');
  const frame = await webviewFrame(page, '[role=gridcell] img');
  await frame.locator('vscode-textfield.search input').fill('harbour');
  await frame.locator('.count', { hasText: /^\s*1 item\s*$/ }).waitFor({ timeout: 30_000 });
  await frame.locator('[role=gridcell] img[alt*="harbour"]').first().waitFor({ timeout: 30_000 });
  await cs.shot('14-after-reload');
  assert.equal(fake.jobs.size, jobsBefore + 1, 'the job was submitted once, not again after the reload');
  assert.equal(await page.locator('.tab', { hasText: 'Walkthrough' }).count(), 0, 'the walkthrough opened once, not again after the reload');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await productsOnDisk()).length, before + 1, 'no duplicate product');
  const db = await openProjectDb(project);
  try {
    const rows = await db.queryProducts({ text: 'harbour' });
    assert.equal(rows.total, 1, 'one row for the product');
    const jobs = await db.listJobs({});
    assert.equal(jobs.filter((j) => j.requestId === job.id).length, 1, 'one job record for the request');
  } finally {
    await db.close();
  }
});

step('Generate… from the palette: a model picked by typing, a prompt, a count; the product lands', 180_000, async () => {
  const { page } = cs;
  const before = (await productsOnDisk()).length;
  await cs.command('Art Factory: Generate…');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('gradient shapes');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sample: Gradient Shapes' }).first().click();
  await page.locator('.quick-input-widget', { hasText: 'Describe the image' }).waitFor({ timeout: 30_000 });
  await input.fill('a quiet fox in the snow, palette');
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget', { hasText: 'How many?' }).waitFor({ timeout: 30_000 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: '1' }).first().click();
  await until('the product on disk', async () => (await productsOnDisk()).length === before + 1, 60_000);
  await cs.shot('15-generate-from-palette');
  const db = await openProjectDb(project);
  try {
    assert.equal((await db.queryProducts({ text: 'fox palette' })).total, 1, 'the product carries the typed prompt');
  } finally {
    await db.close();
  }
});

step('Retry Failed on the toast of a failed job: the job runs again with its progress, and how it ended is said again', 180_000, async () => {
  const { page } = cs;
  await cs.command('Notifications: Clear All Notifications');
  await fs.writeFile(path.join(project, 'params', 'failing.art.json'), `${JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'a storm that fails [fail]', width: 256, height: 256, duration_ms: 2000 } }, null, 2)}\n`);
  await cs.openFile('failing.art.json');
  // The lens of this file (other groups show other parameter files' lenses).
  const lens = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: 'Generate' });
  await lens.waitFor({ timeout: 60_000 });
  await lens.click();
  const failed = page.locator('.notifications-toasts .notification-toast', { hasText: '1 of 1 job failed' });
  await failed.waitFor({ timeout: 60_000 });
  await failed.locator('.monaco-button', { hasText: 'Retry Failed' }).click();
  await failed.waitFor({ state: 'detached', timeout: 10_000 });
  // The retried job's progress, then the same report as any batch's end.
  await page.locator('.notifications-toasts .notification-toast', { hasText: /running|queued|submitting/ }).first().waitFor({ timeout: 30_000 });
  await cs.shot('15b-retry-progress');
  await failed.waitFor({ timeout: 60_000 });
  const db = await openProjectDb(project);
  try {
    const jobs = (await db.listJobs()).filter((j) => String(j.input.prompt).includes('a storm that fails'));
    assert.deepEqual(jobs.map((j) => j.state), ['failed'], 'the same job ran again (no new one) and failed again');
  } finally {
    await db.close();
  }
  await page.keyboard.press('Control+W');
  await page.locator('.tab', { hasText: 'failing.art.json' }).waitFor({ state: 'detached', timeout: 10_000 });
});

step('Import Images… from the palette: a folder of other tools\' images; A1111 parameters are read, a broken file is skipped with a reason', 180_000, async () => {
  const { page } = cs;
  const incoming = path.join(base, 'incoming');
  await fs.mkdir(path.join(incoming, 'sub'), { recursive: true });
  await fs.writeFile(path.join(incoming, 'sub', 'duck.png'), await pngWithText([{ keyword: 'parameters', text: A1111_TEXT }], await plainPng(64, 48)));
  await fs.writeFile(path.join(incoming, 'broken.png'), '<html>not an image</html>');
  await cs.command('Art Factory: Import Images…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'A Folder…' }).first().click();
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-widget', { hasText: 'Import every image in a folder' }).waitFor({ timeout: 30_000 });
  // Type the path only once the dialog has shown its starting folder (it would overwrite it).
  await page.locator('.quick-input-list .monaco-list-row', { hasText: '..' }).first().waitFor({ timeout: 30_000 });
  await input.fill(`${incoming}/`);
  // The dialog lists the folder it navigated to (its subfolder) before it accepts it.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sub' }).first().waitFor({ timeout: 30_000 });
  await page.locator('.quick-input-widget .monaco-button', { hasText: 'Import' }).click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 30_000 });
  assert.ok(await cs.notified('1 imported, 1 skipped', '16-import'), 'the summary counts what was imported and skipped');
  const db = await openProjectDb(project);
  try {
    const imported = (await db.queryProducts({ provider: ['import'] })).items;
    assert.equal(imported.length, 1);
    assert.equal(imported[0].prompt, A1111_TEXT.split('\n')[0], "the prompt comes from the image's A1111 parameters");
  } finally {
    await db.close();
  }
});

step('Use as Input on a gallery product, ▶ Generate with the Sample image-to-image model; hover and completion know the product; the new detail shows "Made from"', 300_000, async () => {
  const { page } = cs;
  await cs.command('Notifications: Clear All Notifications');
  await cs.command('Art Factory: Open Gallery');
  let frame = await webviewFrame(page, '[role=gridcell] img');
  await frame.locator('vscode-textfield.search input').fill('lighthouse');
  // One of the two Sample products of step 4 (the imported duck's prompt mentions a lighthouse too).
  await frame.locator('[role=gridcell][aria-label^="a lighthouse at dusk, journey"]').first().dblclick({ timeout: 30_000 });
  await frame.locator('#detail-title', { hasText: 'a lighthouse at dusk, journey' }).waitFor({ timeout: 30_000 });
  const source = (await frame.locator('#detail-title').textContent())?.trim();
  assert.equal(source, 'a lighthouse at dusk, journey');
  await frame.locator('[role=dialog] vscode-button', { hasText: 'Use as Input…' }).click();
  // The model picker lists only models that take an image.
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-widget', { hasText: 'pick a model that takes an image' }).waitFor({ timeout: 30_000 });
  const rows = await page.locator('.quick-input-list .monaco-list-row').allTextContents();
  assert.ok(!rows.some((r) => r.includes('Gradient Shapes')), `a text-to-image model is not offered: ${rows.join(' | ')}`);
  await input.fill('Tint an Image');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sample: Tint an Image' }).first().click();
  const name = await until('the new parameter file', async () => (await fs.readdir(path.join(project, 'params'))).find((f) => f.startsWith('image-to-image-from-')));
  const file = path.join(project, 'params', name);
  const written = JSON.parse(await fs.readFile(file, 'utf8'));
  assert.equal(written.model, 'sample/image-to-image');
  assert.match(written.input.image_url, /^product:[\w-]+$/);
  assert.equal(written.input.prompt, source, "the source's prompt is carried over");
  const sourceId = written.input.image_url.slice('product:'.length);
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 30_000 });

  // Hover on the reference shows the product; completion in the field offers products.
  const line = (await fs.readFile(file, 'utf8')).split('\n').find((l) => l.includes('"image_url"'))!;
  await cursorAfter(file, '"image_url": "product:');
  for (let i = 0; i < (line.trimEnd().endsWith(',') ? 3 : 2); i++) await page.keyboard.press('ArrowLeft');
  await cs.command('Show or Focus Hover');
  await page.locator('.monaco-hover', { hasText: 'a lighthouse at dusk, journey' }).first().waitFor({ timeout: 30_000 });
  await cs.shot('19-hover-product');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Space');
  await page.locator('.suggest-widget .monaco-list-row', { hasText: `product:${sourceId}` }).first().waitFor({ timeout: 30_000 });
  await cs.shot('20-completion-product');
  await page.keyboard.press('Escape');

  const lens = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: 'Generate' });
  await lens.waitFor({ timeout: 60_000 });
  await lens.click();
  const made = await until(
    'a product made from the source',
    async () => {
      const db = await openProjectDb(project);
      try {
        return (await db.usedIn(sourceId)).items[0];
      } finally {
        await db.close();
      }
    },
    90_000,
  );
  assert.deepEqual(made.inputs?.map((i) => [i.field, i.product]), [['image_url', sourceId]]);

  // The new product's detail: "Made from" shows the source; a click goes there, and it lists the new one.
  await cs.command('Notifications: Clear All Notifications');
  await cs.command('Art Factory: Open Gallery');
  frame = await webviewFrame(page, '[role=gridcell] img');
  if (await frame.locator('[role=dialog]').count()) await frame.locator('[role=dialog]').press('Escape');
  await frame.locator('vscode-textfield.search input').fill('');
  await frame.locator(`#tile-${made.id}`).waitFor({ timeout: 30_000 });
  await frame.locator(`#tile-${made.id}`).dblclick();
  await frame.locator('.lineage h3', { hasText: 'Made from' }).waitFor({ timeout: 30_000 });
  const thumb = frame.locator('ul[aria-label="Made from"] button.lineage-thumb');
  assert.equal(await thumb.getAttribute('aria-label'), 'image_url: a lighthouse at dusk, journey. Open it.');
  await frame.waitForFunction(() => Array.from(document.querySelectorAll('.lineage-thumb img')).every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
  await cs.shot('21-made-from');
  await thumb.click();
  await frame.locator('.lineage h3', { hasText: 'Used in (1)' }).waitFor({ timeout: 30_000 });
  assert.equal((await frame.locator('#detail-title').textContent())?.trim(), source);
  await frame.locator('[role=dialog]').press('Escape');
});

step('7. New Project asks a name and a folder, creates the layout and adds it to the workspace', 240_000, async () => {
  const { page } = cs;
  await cs.command('Art Factory: New Project…');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('Moodboards');
  await page.keyboard.press('Enter');
  // code-server's folder picker is VS Code's simple file dialog: a path in the quick input.
  await page.locator('.quick-input-widget', { hasText: 'Where should "Moodboards" live?' }).waitFor({ timeout: 30_000 });
  await page.locator('.quick-input-list .monaco-list-row', { hasText: '..' }).first().waitFor({ timeout: 30_000 });
  await input.fill(`${base}/`);
  await cs.shot('17-new-project-folder');
  await page.locator('.quick-input-widget .monaco-button', { hasText: 'Create Project Here' }).click();
  const dir = path.join(base, safeFileName('Moodboards'));
  await until('the project folder with its manifest', () => existsSync(path.join(dir, 'artfactory.json')), 60_000);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'artfactory.json'), 'utf8'));
  assert.equal(manifest.name, 'Moodboards');
  for (const sub of ['params', 'templates', 'products']) assert.ok(existsSync(path.join(dir, sub)), `${sub}/ is created`);
  await cs.command('View: Show Explorer');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: path.basename(dir) }).first().waitFor({ timeout: 60_000 });
  const saved = JSON.parse(await fs.readFile(path.join(base, 'art.code-workspace'), 'utf8')) as { folders: { path: string }[] };
  assert.ok(saved.folders.some((f) => path.resolve(base, f.path) === dir), `the workspace lists the new project: ${JSON.stringify(saved.folders)}`);
  // It becomes the active project: the Projects view lists it.
  await cs.command('Art Factory: Focus on Projects View');
  await page.locator('.pane-body .monaco-list-row', { hasText: 'Moodboards' }).first().waitFor({ timeout: 30_000 });
  await cs.shot('18-new-project');
});
