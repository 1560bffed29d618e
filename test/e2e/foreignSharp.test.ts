// The issue's own case in a real VS Code: the VSIX built for another platform (a Mac's, here on
// Linux) installed into code-server, so the extension host cannot load sharp. ▶ Generate with
// fal still stores every product; one warning says what is missing and how to fix it; the
// gallery shows the originals, scaled by the webview, where thumbnails would be.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { createProject } from '../../src/storage/index.ts';
import { fileUrl } from '../fakes/common.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { walkFiles } from '../files.ts';
import { ensureVsix } from '../package/vsix.ts';
import { startCodeServer, webviewFrame, type CodeServer } from './harness.ts';

const KEY = 'fal-foreign-key-0123456789abcdef';
const FOREIGN = process.platform === 'darwin' && process.arch === 'arm64' ? 'linux-x64' : 'darwin-arm64';
const WARNING = 'image library (sharp) could not load';
let cs: CodeServer;
let fake: FalFake;
let project: string;

before(async () => {
  fake = await startFalFake({ key: KEY });
  const noise = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 110, sigma: 60 } } });
  fake.files.set('/v3.fal.media/files/foreign/a.png', { bytes: await noise(640, 480).png().toBuffer(), contentType: 'image/png' });
  fake.files.set('/v3.fal.media/files/foreign/b.jpg', { bytes: await noise(512, 768).jpeg().toBuffer(), contentType: 'image/jpeg' });
  fake.plan({ output: { images: ['a.png', 'b.jpg'].map((n) => ({ url: fileUrl('v3.fal.media', `/files/foreign/${n}`), content_type: n.endsWith('png') ? 'image/png' : 'image/jpeg' })), seed: 3 } });
  project = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-foreign-')), 'foreign');
  await createProject(project, 'Foreign');
  await fs.writeFile(path.join(project, 'params', 'harbour.art.json'), `${JSON.stringify({ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'a harbour at noon, foreign build' }, count: 2 }, null, 2)}\n`);
  cs = await startCodeServer({ workspace: project, vsix: ensureVsix(FOREIGN), env: { ARTFACTORY_FAL_BASE_URL: fake.baseUrl, FAL_KEY: KEY } });
});

after(async () => {
  await cs?.stop();
  await fake?.close();
});

test(`the ${FOREIGN} VSIX in code-server here: every product stored, one warning, originals in the gallery`, { timeout: 300_000 }, async () => {
  const { page } = cs;
  try {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('harbour.art.json');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'harbour.art.json' }).first().waitFor();
    await page.keyboard.press('Enter');
    const lens = page.locator('.codelens-decoration a', { hasText: 'Generate' });
    await lens.waitFor({ timeout: 60_000 });
    await lens.click();
    const products = async () => (await walkFiles(path.join(project, 'products'))).filter((f) => /\.(png|jpg)$/.test(f));
    const end = Date.now() + 90_000;
    while ((await products()).length < 4 && Date.now() < end) await page.waitForTimeout(250);
    assert.equal((await products()).length, 4, 'two jobs × two outputs, all stored');

    // One warning, however many jobs and products: in the toasts and the notification center.
    const warning = page.locator('.notifications-toasts .notification-toast', { hasText: WARNING });
    await warning.first().waitFor({ timeout: 30_000 });
    await cs.shot('foreign-sharp-warning');
    const text = (await warning.first().textContent()) ?? '';
    assert.match(text, /Install the Art Factory build for/);
    await page.waitForTimeout(1500);
    await cs.command('Notifications: Show Notifications');
    const inCenter = await page.locator('.notifications-center .notification-list-item', { hasText: WARNING }).count();
    assert.equal(inCenter, 1, 'one warning, not one per job');
    await cs.command('Notifications: Clear All Notifications');

    await cs.command('Art Factory: Open Gallery');
    const frame = await webviewFrame(page, '[role=gridcell] img');
    await frame.waitForFunction(() => document.querySelectorAll('[role=gridcell] img').length === 4 && Array.from(document.querySelectorAll<HTMLImageElement>('[role=gridcell] img')).every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 30_000 });
    const sources = await frame.locator('[role=gridcell] img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).src));
    assert.ok(sources.every((s) => /\/products\//.test(decodeURIComponent(s)) && !/thumbs/.test(s)), `tiles show the originals: ${sources.join(' ')}`);
    await cs.shot('foreign-sharp-gallery');
  } catch (e) {
    await cs.shot('failed-foreign-sharp').catch(() => undefined);
    throw e;
  }
});
