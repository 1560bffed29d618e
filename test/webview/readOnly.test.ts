// Restricted Mode in the gallery (headless Chromium over the real controller): a banner says
// why it is read-only and how to change that, the detail offers only what reads, and a rating
// typed from the keyboard is refused by the host, so the database keeps its value.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGallery, type GalleryRig } from './harness.ts';

const WHY = 'this workspace is in Restricted Mode, so the gallery is read-only. Trust the folder (Manage Workspace Trust) to rate, tag, delete or generate.';
let g: GalleryRig;

before(async () => {
  g = await startGallery(6, { readOnly: WHY });
});
after(async () => {
  await g?.close();
});

test('Restricted Mode: the banner says why, the detail offers only reading actions, a rating is refused', async () => {
  await g.open();
  assert.equal(await g.page.locator('.banner').textContent(), `Restricted Mode: ${WHY}`);
  const first = 'P00000005';
  await g.page.locator(`#tile-${first}`).click();
  const mark = g.received.length;
  await g.page.keyboard.press('4');
  // The page asks; the host refuses (and says why) instead of writing.
  const rate = await g.message((m) => m.method === 'update', mark);
  const rateReply = g.posted.find((p) => p.type === 'reply' && p.id === (rate as { id?: number }).id);
  assert.deepEqual(rateReply, { type: 'reply', id: (rate as { id?: number }).id, ok: false, error: `Rating, tagging and notes are off: ${WHY}` });
  await g.page.keyboard.press('Enter');
  await g.page.waitForSelector('[role=dialog] pre.json');
  const buttons = await g.page.locator('[role=dialog] .actions vscode-button').allTextContents();
  assert.ok(buttons.some((b) => /Copy Prompt/.test(b)) && buttons.some((b) => /Open File/.test(b)), buttons.join(' | '));
  assert.ok(!buttons.some((b) => /Delete|Re-run|Reuse/.test(b)), buttons.join(' | '));
  await g.shot('readonly-01-detail');
  assert.equal((await g.db.getProduct(first))?.rating, 0, 'the host refused the rating');
  await g.controller.handle({ type: 'request', id: 999, method: 'action', params: { ids: [first], action: 'delete' } });
  assert.deepEqual(g.posted.find((p) => p.type === 'reply' && p.id === 999), { type: 'reply', id: 999, ok: false, error: `This action is off: ${WHY}` });
  assert.ok(await g.db.getProduct(first), 'still there');
});
