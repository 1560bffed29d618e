// A gallery over crafted products, in headless Chromium: an imported image whose model name is
// 1,500 characters once blanked the whole gallery (the initial state failed the webview's
// validation). Now every value is cut to the same caps on both sides: the grid paints every
// tile, the tile shows the value cut, the detail view shows it whole.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ProductRecord } from '../../src/storage/types.ts';
import { fakeProduct, startGallery, type GalleryRig } from './harness.ts';

const N = 20;
const MODEL = `civitai/${'long-model-name-'.repeat(94)}end`;
let g: GalleryRig;

function crafted(i: number): ProductRecord {
  if (i === N - 1) return fakeProduct(i, { model: MODEL, prompt: undefined, input: { model: MODEL } });
  if (i === N - 2) return fakeProduct(i, { prompt: `huge ${'p'.repeat(200_000)}`, rating: 9, favorite: 'yes' as unknown as boolean, width: 'abc' as unknown as number });
  if (i === N - 3) return fakeProduct(i, { tags: Array.from({ length: 5000 }, (_, k) => `${k}${'t'.repeat(500)}`), createdAt: `2026-01-01T00:${'9'.repeat(300)}` });
  return fakeProduct(i);
}

before(async () => {
  g = await startGallery(N, { products: crafted });
});
after(async () => {
  await g?.close();
});

test('a 1,500-character model name, a 200 KB prompt, a rating of 9 and 5,000 long tags: every tile paints', async () => {
  assert.ok(MODEL.length > 1500);
  await g.open();
  assert.match((await g.page.locator('.count').textContent()) ?? '', new RegExp(`\\b${N} items`));
  assert.equal(await g.page.locator('[role=gridcell]').count(), N, 'every tile is in the grid');
  const alt = (await g.page.locator(`#tile-P${String(N - 1).padStart(8, '0')} img`).getAttribute('alt')) ?? '';
  assert.ok(alt.includes('civitai/long-model-name-'), alt.slice(0, 80));
  assert.ok(alt.length < 400 && alt.includes('…'), `the tile shows the model cut (${alt.length} characters)`);
  await g.shot('crafted-01-grid');
});

test('the detail view shows the whole model name', async () => {
  await g.page.locator(`#tile-P${String(N - 1).padStart(8, '0')}`).click();
  await g.page.keyboard.press('Enter');
  await g.page.waitForSelector('[role=dialog] pre.json');
  const model = await g.page.locator('[role=dialog] dt:text-is("Model") + dd').textContent();
  assert.equal(model, MODEL, 'whole, not cut');
  await g.shot('crafted-02-detail');
  await g.page.keyboard.press('Escape');
  assert.deepEqual(await g.cspViolations(), []);
  assert.deepEqual(g.console.filter((m) => /dropped|malformed/.test(m)), [], 'no message was dropped as malformed');
});
