// The grid keeps only the pages near the view (gridState WINDOW): in headless Chromium, over a
// real project database of 10,000 products, a page dropped while scrolling away is fetched
// again when it comes back into view, and shows the same products, with the selection and the
// keyboard focus still on them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGallery, type GalleryRig } from './harness.ts';

const N = 10_000;
let g: GalleryRig;

before(async () => {
  g = await startGallery(N, { deleteRows: true });
  await g.open();
});
after(async () => {
  await g?.close();
});

const active = () => g.page.locator('[role=grid]').getAttribute('aria-activedescendant');
/** The product tiles in the DOM, in grid order, and which of them are selected. */
const shown = () => g.page.locator('[role=gridcell]:not(.skeleton)').evaluateAll((els) => els.map((e) => `${e.id.replace(/^tile-/, '')}${e.getAttribute('aria-selected') === 'true' ? '*' : ''}`));
/** The product at position `i` of "Newest first" (fakeProduct i is created i minutes in). */
const nth = (i: number) => `P${String(N - 1 - i).padStart(8, '0')}`;
const scrollTo = (top: 'end' | number) => g.page.locator('[role=grid]').evaluate((el, t) => void (el.scrollTop = t === 'end' ? el.scrollHeight : t), top);
/** Queries for the first page of the results (no cursor) the page sent from `since` on. */
const firstPageQueries = (since: number) => g.received.slice(since).filter((m) => { const x = m as { method?: string; params?: { after?: string; focus?: string } }; return x.method === 'query' && !x.params?.after && !x.params?.focus; }).length;

test('scrolled to the end of 10,000 and back, the first page is fetched again and shows its products, selected and focused as they were', async () => {
  const grid = g.page.locator('[role=grid]');
  await grid.focus();
  await g.page.keyboard.press('ArrowRight');
  await g.page.keyboard.press('Space'); // selects the second product
  await g.page.keyboard.press('ArrowRight');
  await g.page.keyboard.press('Space'); // and the third, which keeps the focus
  assert.equal(await active(), `tile-${nth(2)}`);
  const before = (await shown()).slice(0, 4);
  assert.deepEqual(before, [nth(0), `${nth(1)}*`, `${nth(2)}*`, nth(3)]);

  const mark = g.received.length;
  await scrollTo('end');
  await g.page.waitForFunction((last) => document.getElementById(`tile-${last}`) !== null, nth(N - 1), { timeout: 60_000 });
  assert.equal(await active(), null, 'the focused tile is not on screen');
  await scrollTo(0);
  await g.page.waitForFunction((first) => document.getElementById(`tile-${first}`) !== null, nth(0), { timeout: 30_000 });
  assert.ok(firstPageQueries(mark) >= 1, 'the first page was dropped at the end and fetched again');
  assert.deepEqual((await shown()).slice(0, 4), before, 'the same products, the same selection');
  assert.equal(await active(), `tile-${nth(2)}`, 'the focus is on the same product');
  assert.match((await g.page.locator('.count').textContent()) ?? '', /2 selected/);

  // Far away again, a key moves the focus from where it is (the third product), not from the view.
  await scrollTo('end');
  await g.page.waitForFunction((last) => document.getElementById(`tile-${last}`) !== null, nth(N - 1), { timeout: 60_000 });
  await g.page.keyboard.press('ArrowRight');
  await g.page.waitForFunction((id) => document.querySelector('[role=grid]')?.getAttribute('aria-activedescendant') === `tile-${id}`, nth(3), { timeout: 30_000 });
  assert.deepEqual((await shown()).slice(0, 4), before);
});

test('a jump to the middle shows the products that are there, and deleting a selection whose pages are gone leaves the grid right', async () => {
  const grid = g.page.locator('[role=grid]');
  const rowH = await g.page.locator('[role=row]').first().evaluate((r) => r.getBoundingClientRect().height + 8);
  const cols = await g.page.locator('[role=row]').first().evaluate((r) => r.querySelectorAll('[role=gridcell]').length);
  // Row 700 at the top of the view: its first product is at 700 × cols.
  await scrollTo(700 * rowH);
  const first = nth(700 * cols);
  await g.page.waitForFunction((id) => document.getElementById(`tile-${id}`) !== null, first, { timeout: 30_000 });
  const row = await g.page.locator(`#tile-${first}`).evaluate((el) => Array.from(el.parentElement?.children ?? []).map((c) => c.id.replace(/^tile-/, '')));
  assert.deepEqual(row, Array.from({ length: cols }, (_, c) => nth(700 * cols + c)));
  // The two selected products (positions 1 and 2) are far away; Delete acts on them.
  await grid.focus();
  const mark = g.received.length;
  await g.page.keyboard.press('Delete');
  const del = await g.message((m) => m.method === 'action', mark);
  assert.deepEqual((del.params as { ids: string[] }).ids.sort(), [nth(1), nth(2)].sort());
  await g.page.waitForFunction(() => /9,998 items/.test(document.querySelector('.count')?.textContent ?? ''), undefined, { timeout: 30_000 });
  assert.doesNotMatch((await g.page.locator('.count').textContent()) ?? '', /selected/);
  // Back at the top, the products after them moved up into their places.
  await scrollTo(0);
  await g.page.waitForFunction((id) => document.getElementById(`tile-${id}`) !== null, nth(0), { timeout: 30_000 });
  assert.deepEqual((await shown()).slice(0, 3), [nth(0), nth(3), nth(4)]);
});
