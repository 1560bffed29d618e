// A project folder from elsewhere, opened in code-server with Workspace Trust on and the folder
// not trusted (Restricted Mode), as a user would meet it: the gallery paints, read-only with a
// banner saying why; Generate… says it is off and how to trust; a crafted row pointing outside
// the project gets no tile; and nothing outside the project changes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { createProject, openProjectDb, ProductStore } from '../../src/storage/index.ts';
import { product } from '../storage/helpers.ts';
import { startCodeServer, webviewFrame, type CodeServer } from './harness.ts';

let cs: CodeServer;
let root: string;
let project: string;
const SECRET = 'outside the project\n';

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-e2e-untrusted-'));
  project = path.join(root, 'colleague');
  await createProject(project, 'From a colleague');
  await fs.writeFile(path.join(root, 'secret.txt'), SECRET);
  const db = await openProjectDb(project, { backups: 0 });
  const store = new ProductStore(project, db);
  for (let i = 0; i < 3; i++) {
    const bytes = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 60 * i, g: 140, b: 200 } } }).png().toBuffer();
    const id = `P${i}`;
    await store.put(product(i, { id, file: `products/2026/02/03/${id}.png`, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), prompt: `harbour study ${i}` }), bytes);
  }
  // A row the way a crafted database would hold it, and a model name of 1,500 characters.
  const first = (await db.getProduct('P0'))!;
  await db.putProduct({ ...first, id: 'EVIL', file: '../secret.txt', prompt: 'crafted' });
  await db.putProduct({ ...(await db.getProduct('P1'))!, model: `imported/${'m'.repeat(1500)}` });
  await db.close();
  cs = await startCodeServer({ workspace: project, settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' } });
});

after(async () => {
  await cs?.stop();
});

test('Restricted Mode: the gallery paints read-only with the reason, Generate… is refused with how to trust, the crafted row gets no tile', { timeout: 300_000 }, async () => {
  const { page } = cs;
  // Right after start-up the palette may answer before the extension's commands are known.
  const input = page.locator('.quick-input-widget input');
  let known = false;
  for (let attempt = 0; attempt < 40 && !known; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill('>Art Factory: Open Gallery');
    known = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Art Factory: Open Gallery' }).first().waitFor({ timeout: 2000 }).then(() => true, () => false);
    await page.keyboard.press('Escape');
  }
  await cs.shot('untrusted-00-start');
  assert.ok(known, 'the extension runs in Restricted Mode (its commands are in the palette)');
  await cs.command('Art Factory: Open Gallery');
  const frame = await webviewFrame(page, '[role=gridcell] img');
  await frame.locator('.banner').waitFor();
  assert.match((await frame.locator('.banner').textContent()) ?? '', /Restricted Mode: .*read-only.*Manage Workspace Trust/);
  assert.equal(await frame.locator('[role=gridcell]').count(), 3, 'three real products; the crafted row is left out');
  assert.equal(await frame.locator('#tile-EVIL').count(), 0);
  await cs.shot('untrusted-01-gallery');
  await cs.command('Art Factory: Generate…');
  const toast = page.locator('.notifications-toasts', { hasText: 'Generating is off in Restricted Mode' });
  await toast.first().waitFor({ timeout: 30_000 });
  assert.ok(await page.locator('.notifications-toasts .monaco-button', { hasText: 'Manage Workspace Trust' }).count(), 'the way to trust is one click away');
  await cs.shot('untrusted-02-generate-refused');
  assert.equal(await fs.readFile(path.join(root, 'secret.txt'), 'utf8'), SECRET);
});
