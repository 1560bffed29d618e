// "Made from" and "Used in" in the gallery's detail view, in real headless Chromium over the
// built bundle, a real GalleryController and a real project database.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { ProductRecord } from '../../src/storage/types.ts';
import { fakeProduct, startGallery, type GalleryRig } from './harness.ts';

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SOURCE = 'P00000000';
let g: GalleryRig;

const input = (product: string | null, field = 'image_url', path: string | null = null) => ({ field, sha256: 'a'.repeat(64), product, path });

/** P0 is an image; P1–P3 were made from it, P4 is a video animated from it, P5 was made from a
 * file, P6 from a product since deleted, P7 is unrelated. */
function make(i: number): ProductRecord {
  const p = fakeProduct(i);
  const prompt = ['source harbour', 'restyled one', 'restyled two', 'upscaled', 'animated waves', 'from a photo', 'from a deleted one', 'unrelated'][i];
  const extra: Partial<ProductRecord> = { prompt, input: { prompt } };
  if (i >= 1 && i <= 3) extra.inputs = [input(SOURCE)];
  if (i === 4) Object.assign(extra, { kind: 'video', mediaType: 'video/mp4', file: `products/2026/01/01/${p.id}.mp4`, poster: `products/2026/01/01/${p.id}.poster.png`, inputs: [input(SOURCE, 'first_frame_image')] });
  if (i === 5) extra.inputs = [input(null, 'image_url', './photos/beach.png')];
  if (i === 6) extra.inputs = [input('P99999999')];
  return { ...p, ...extra };
}

before(async () => {
  g = await startGallery(8, { products: make });
  await g.open();
});
after(async () => {
  await g?.close();
});

const title = () => g.page.locator('#detail-title');
const madeFrom = () => g.page.locator('ul[aria-label="Made from"] > li');
const usedIn = () => g.page.locator('ul[aria-label="Used in"] > li');

async function openDetail(prompt: string): Promise<void> {
  if (await g.page.locator('[role=dialog]').count()) {
    await g.page.keyboard.press('Escape');
    await g.page.locator('[role=dialog]').waitFor({ state: 'detached' });
  }
  await g.page.locator(`[role=gridcell][aria-label^="${prompt}"]`).dblclick();
  await title().filter({ hasText: prompt }).waitFor();
}

test('a product made from another shows "Made from" with the source thumbnail; a click goes there, and the source lists what was made from it', async () => {
  await openDetail('restyled two');
  await g.page.locator('.lineage h3', { hasText: 'Made from' }).waitFor();
  assert.equal(await madeFrom().count(), 1);
  const thumb = madeFrom().first().locator('button.lineage-thumb');
  assert.equal(await thumb.getAttribute('aria-label'), 'image_url: source harbour. Open it.');
  await g.page.waitForFunction(() => Array.from(document.querySelectorAll('.lineage-thumb img')).every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
  assert.deepEqual(await axe('.detail'), [], 'the detail view with its lineage');
  await g.shot('lineage-made-from');
  await thumb.click();
  await title().filter({ hasText: 'source harbour' }).waitFor();
  await g.page.locator('.lineage h3', { hasText: 'Used in (4)' }).waitFor();
  assert.equal(await madeFrom().count(), 0, 'the source was made from nothing');
  const labels = await usedIn().locator('button').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label')));
  assert.deepEqual(labels, ['video, animated waves. Open it.', 'upscaled. Open it.', 'restyled two. Open it.', 'restyled one. Open it.'], 'newest first, the video marked');
  assert.equal(await usedIn().first().locator('.media-badge').count(), 1);
  await g.shot('lineage-used-in');
});

test("a video's detail shows its source image; a file input shows its path; a deleted source says so", async () => {
  await openDetail('source harbour');
  await usedIn().first().locator('button').click();
  await title().filter({ hasText: 'animated waves' }).waitFor();
  await g.page.locator('.media video').waitFor();
  assert.equal(await madeFrom().first().locator('button').getAttribute('aria-label'), 'first_frame_image: source harbour. Open it.');
  await openDetail('from a photo');
  assert.match((await madeFrom().first().textContent()) ?? '', /image_url\s*\.\/photos\/beach\.png/);
  assert.equal(await madeFrom().first().locator('button').count(), 0);
  await openDetail('from a deleted one');
  assert.match((await madeFrom().first().textContent()) ?? '', /product P99999999 \(deleted\)/);
  await openDetail('unrelated');
  assert.equal(await g.page.locator('.lineage').count(), 0, 'no lineage section without lineage');
});

test('"Used in" follows a product made from this one while the detail is open', async () => {
  await openDetail('source harbour');
  await g.page.locator('.lineage h3', { hasText: 'Used in (4)' }).waitFor();
  const child: ProductRecord = { ...fakeProduct(20), prompt: 'made just now', input: { prompt: 'made just now' }, inputs: [input(SOURCE)] };
  await g.db.putProduct(child);
  g.controller.onProduct(g.dir, child);
  await g.page.locator('.lineage h3', { hasText: 'Used in (5)' }).waitFor();
  assert.equal(await usedIn().first().locator('button').getAttribute('aria-label'), 'made just now. Open it.');
});

test('"Use as Input…" is offered for a product in its detail and for the selection', async () => {
  await openDetail('restyled one');
  const before = g.received.length;
  await g.page.locator('[role=dialog] vscode-button', { hasText: 'Use as Input…' }).click();
  const sent = () => g.received.slice(before).filter((m) => (m as { method?: string }).method === 'action').map((m) => (m as { params: unknown }).params);
  await g.message((m) => m.method === 'action', before);
  assert.deepEqual(sent(), [{ ids: ['P00000001'], action: 'useAsInput' }]);
  await g.page.keyboard.press('Escape');
  await g.page.locator('[role=dialog]').waitFor({ state: 'detached' });
  await g.page.locator('[role=gridcell][aria-label^="restyled one"]').click();
  await g.page.locator('[role=gridcell][aria-label^="source harbour"]').click({ modifiers: ['Control'] });
  await g.page.locator('[role=gridcell][aria-label^="upscaled"]').click({ modifiers: ['Control'] });
  const mark = g.received.length;
  await g.page.locator('.bulk vscode-button', { hasText: 'Use as Input…' }).click();
  const bulk = (await g.message((m) => m.method === 'action', mark)) as { params: { ids: string[]; action: string } };
  assert.equal(bulk.params.action, 'useAsInput');
  assert.deepEqual([...bulk.params.ids].sort(), ['P00000000', 'P00000003']);
});

async function axe(context: string): Promise<string[]> {
  await g.page.evaluate(AXE);
  return g.page.evaluate(async (sel) => {
    const w = window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } };
    const r = await w.axe.run(sel, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.nodes.length})`);
  }, context);
}
