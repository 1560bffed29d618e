// The gallery webview in headless Chromium, as the grid is used all day: products and jobs
// arriving and going while a tile is focused, new sorts and filters, the webview recreated
// from its creation-time HTML (what VS Code does to a hidden panel), and the keys of the
// detail view. Every check is on product ids: the focus ring, the grid's active descendant
// and the product a key changes in the database must be the same one.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JobRecord, ProductRecord } from '../../src/storage/types.ts';
import { fakeProduct, startGallery, type GalleryRig } from './harness.ts';

const N = 600;
let g: GalleryRig;
let live = 0;

before(async () => {
  g = await startGallery(N);
  await g.open();
});
after(async () => {
  await g?.close();
});

const grid = () => g.page.locator('[role=grid]');
const press = (key: string) => g.page.keyboard.press(key);

/** The focused product: the one tile with the ring, which the grid must also report. */
async function focusedId(): Promise<string | undefined> {
  return g.page.evaluate(() => {
    const ring = Array.from(document.querySelectorAll('.tile.focused')).map((e) => e.id);
    const active = document.querySelector('[role=grid]')?.getAttribute('aria-activedescendant');
    if (ring.length !== 1 || ring[0] !== active) throw new Error(`focus ring on [${ring.join(', ')}] but the grid says ${active}`);
    return active?.replace(/^tile-/, '');
  });
}

/** The tile ids in the DOM, in grid order. */
const tileIds = () => g.page.locator('[role=gridcell]:not(.skeleton)').evaluateAll((els) => els.map((e) => e.id.replace(/^tile-/, '')));

/** Polls `probe` for up to 20 s (a loaded machine; most answers take milliseconds). */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  for (const end = Date.now() + 20_000; Date.now() < end; ) {
    if (await probe()) return;
    await g.page.waitForTimeout(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A product stored now and announced live, as the engine does. */
async function arrives(over: Partial<ProductRecord> = {}): Promise<ProductRecord> {
  const p = { ...fakeProduct(10_000 + ++live), createdAt: new Date(Date.UTC(2027, 0, 1) + live * 1000).toISOString(), ...over };
  p.id = over.id ?? `PL${String(live).padStart(4, '0')}`;
  p.file = `products/2026/01/01/${p.id}.png`; // named after its id, as the layout rule wants
  await g.db.putProduct(p);
  g.controller.onProduct(g.dir, p);
  return p;
}

function job(id: string, state: JobRecord['state'], extra: Partial<JobRecord> = {}): JobRecord {
  const now = new Date(Date.UTC(2027, 5, 1) + ++live * 1000).toISOString();
  return { id, provider: 'sample', model: 'sample/gradient', input: { prompt: `job ${id}` }, state, productIds: [], attempts: 1, createdAt: now, updatedAt: now, ...extra };
}

test('with the third tile focused, products and jobs arriving and going live leave the focus on that product, and its keys act on it', async () => {
  await grid().focus();
  await press('Home');
  await press('ArrowRight');
  await press('ArrowRight');
  const third = await focusedId();
  assert.equal(third, 'P00000597');
  const arrived = await arrives();
  g.controller.onJob(g.dir, job('JRUN', 'running', { progress: 0.3 }));
  await g.page.waitForSelector('#tile-JRUN');
  await g.page.waitForSelector(`#tile-${arrived.id}`);
  assert.equal(await focusedId(), third, 'after a product and a running job arrived before it');
  g.controller.onJob(g.dir, job('JRUN', 'failed', { error: { kind: 'failed', message: 'no luck' } }));
  await g.page.waitForSelector('#tile-JRUN.failed');
  g.controller.onJob(g.dir, job('JRUN', 'canceled'));
  await until('the canceled job tile to go', async () => (await g.page.locator('#tile-JRUN').count()) === 0);
  assert.equal(await focusedId(), third, 'after a job failed and went');
  await press('f');
  await press('4');
  await until('the favourite and rating saved', async () => {
    const p = await g.db.getProduct(third!);
    return p?.favorite === true && p.rating === 4;
  });
  assert.equal((await g.db.getProduct(arrived.id))?.favorite, false, 'the product that arrived was not touched');
  assert.equal((await g.db.getProduct('P00000599'))?.rating, 0, 'nor the one the third position held before');
  await until(`the tile says so (${third})`, async () => /favourite, 4 stars$/.test((await g.page.locator(`#tile-${third}`).getAttribute("aria-label")) ?? ""));
});

test('Delete moves the focus to the product that takes its place; Ctrl+Z brings it back focused', async () => {
  const target = (await focusedId())!;
  const order = await tileIds();
  const nextOne = order[order.indexOf(target) + 1];
  await press('Delete');
  await until('the tile to go', async () => (await g.page.locator(`#tile-${target}`).count()) === 0);
  assert.equal(await focusedId(), nextOne);
  await g.page.waitForSelector('vscode-button:has-text("Undo delete")');
  await press('Control+z');
  await g.page.waitForSelector(`#tile-${target}`);
  await until('the focus back on it', async () => (await focusedId()) === target);
  assert.equal(await g.page.locator('vscode-button:has-text("Undo delete")').count(), 0, 'nothing left to undo');
});

test('a new sort keeps the focus on its product, scrolled into view, even when the sort puts it past the first page', async () => {
  await grid().focus();
  await press('Home');
  for (let i = 0; i < 5; i++) await press('ArrowDown');
  const picked = (await focusedId())!;
  await g.page.locator('vscode-single-select[label="Sort"]').click();
  await g.page.locator('vscode-single-select[label="Sort"] [role=option]', { hasText: 'Oldest first' }).click();
  // The oldest first: the product is far down, past the 200 of the first page, and focused there.
  const cols = Number(await grid().getAttribute('aria-colcount'));
  const row = () => g.page.evaluate((id) => Number(document.getElementById(`tile-${id}`)?.closest('[role=row]')?.getAttribute('aria-rowindex') ?? 0), picked);
  await until('its product far down the oldest-first grid, focused', async () => (await row()) * cols > 200 && (await focusedId().catch(() => undefined)) === picked);
  const inView = await g.page.evaluate((id) => {
    const t = document.getElementById(`tile-${id}`)!.getBoundingClientRect();
    const r = document.querySelector('[role=grid]')!.getBoundingClientRect();
    return t.top >= r.top - 1 && t.bottom <= r.bottom + 1;
  }, picked);
  assert.ok(inView, 'scrolled to the focused product');
  // Exactly where "Oldest first" puts it.
  const position = (await g.db.queryProducts({ sort: 'oldest', limit: 1000 })).items.findIndex((p) => p.id === picked);
  assert.equal(await row(), Math.floor(position / cols) + 1);
  // A product arriving now goes to the end of "Oldest first", not the top.
  const late = await arrives();
  await grid().focus();
  await press('End');
  await g.page.waitForSelector(`#tile-${late.id}`);
  assert.equal((await tileIds()).at(-1), late.id);
  assert.equal(await focusedId(), late.id);
  await g.page.locator('vscode-single-select[label="Sort"]').click();
  await g.page.locator('vscode-single-select[label="Sort"] [role=option]', { hasText: 'Newest first' }).click();
  await until('newest first again', async () => (await tileIds())[0] === late.id);
  assert.equal(await focusedId(), late.id, 'the focus followed it to the top');
});

test('a search keeps the focus and the selection on the products it still shows, and drops the others', async () => {
  await grid().focus();
  await press('Home');
  const words = await g.page.locator('[role=gridcell]').evaluateAll((els) => els.slice(0, 24).map((e) => ({ id: e.id.slice(5), label: e.getAttribute('aria-label') ?? '' })));
  const word = words[1].label.split(' ')[0];
  const keep = words.filter((w) => w.label.split(' ').includes(word)).map((w) => w.id);
  const drop = words.find((w) => !w.label.split(' ').includes(word))!;
  assert.ok(keep.length >= 2, keep.join(' '));
  // Select two that match the search and one that does not; focus one that matches.
  for (const id of [...keep.slice(0, 2), drop.id]) await g.page.locator(`#tile-${id}`).click({ modifiers: ['Control'] });
  assert.match((await g.page.locator('.count').textContent()) ?? '', /3 selected/);
  await g.page.locator(`#tile-${keep[1]}`).click({ modifiers: ['Control'] });
  await g.page.locator(`#tile-${keep[1]}`).click({ modifiers: ['Control'] });
  assert.equal(await focusedId(), keep[1]);
  await g.page.locator('vscode-textfield.search input').fill(word);
  await until('the search applied', async () => !/\b6\d\d items/.test((await g.page.locator('.count').textContent()) ?? ''));
  await until('the focus on its product', async () => (await focusedId().catch(() => undefined)) === keep[1]);
  assert.match((await g.page.locator('.count').textContent()) ?? '', /2 selected/, 'the product the search hides left the selection');
  await g.page.locator('vscode-textfield.search input').focus();
  await press('Escape');
  await until('everything again', async () => /\b6\d\d items/.test((await g.page.locator('.count').textContent()) ?? ''));
  assert.equal(await focusedId(), keep[1]);
  await grid().focus();
  await press('Escape');
});

test('recreated from its creation-time HTML (as VS Code shows a hidden panel again), the grid shows the truth and keeps its focus', async () => {
  await grid().focus();
  await press('Home');
  await press('ArrowRight');
  const focused = (await focusedId())!;
  const labelBefore = await g.page.locator(`#tile-${focused}`).getAttribute('aria-label');
  // While "hidden", products arrive and change, and no message reaches the webview.
  g.hidden = true;
  const missed = { ...fakeProduct(30_000), id: 'PHIDDEN', file: 'products/2026/01/01/PHIDDEN.png', createdAt: new Date(Date.UTC(2028, 0, 1)).toISOString() };
  await g.db.putProduct(missed);
  await g.db.updateProduct(focused, { rating: 2, favorite: false });
  g.hidden = false;
  await g.recreate();
  await g.page.waitForSelector('#tile-PHIDDEN');
  assert.equal((await tileIds())[0], 'PHIDDEN', 'the product made while it was hidden is there, first');
  assert.equal(await focusedId(), focused, 'the focus is on the same product');
  const labelAfter = await g.page.locator(`#tile-${focused}`).getAttribute('aria-label');
  assert.notEqual(labelAfter, labelBefore);
  assert.match(labelAfter ?? '', /2 stars/, 'its rating is the current one');
  const total = (await g.db.queryProducts({})).total;
  assert.match((await g.page.locator('.count').textContent()) ?? '', new RegExp(`^\\s*${total} items`), `the count is the database's (${total})`);
  // Keys work at once, on the focused product.
  await press('3');
  await until('the rating saved', async () => (await g.db.getProduct(focused))?.rating === 3);
  // Hidden before its page ever ran, so nothing was saved: the HTML's old page is painted, and
  // the current one replaces it at once.
  g.hidden = true;
  const later = { ...fakeProduct(30_001), id: 'PHIDDEN2', file: 'products/2026/01/01/PHIDDEN2.png', createdAt: new Date(Date.UTC(2028, 0, 2)).toISOString() };
  await g.db.putProduct(later);
  await g.page.evaluate(() => sessionStorage.clear());
  g.hidden = false;
  await g.recreate();
  await g.page.waitForSelector('#tile-PHIDDEN2');
  assert.deepEqual((await tileIds()).slice(0, 2), ['PHIDDEN2', 'PHIDDEN']);
  assert.match((await g.page.locator('.count').textContent()) ?? '', new RegExp(`^\\s*${total + 1} items`));
});

test('the detail view takes the grid keys: f, 1–5, ← → through the products, Delete; unrated stars are outlines', async () => {
  await grid().focus();
  await press('Home');
  const order = await tileIds();
  await g.db.updateProduct(order[0], { rating: 0 });
  await press('Enter');
  await g.page.waitForSelector('[role=dialog] pre.json');
  await until('the first product in the detail', async () => (await g.page.locator('pre.json').textContent())?.includes(`"seed"`) ?? false);
  const stars = await g.page.locator('.detail .stars button').allTextContents();
  assert.deepEqual(stars, ['☆', '☆', '☆', '☆', '☆'], 'five empty outlines, not five stars');
  await press('f');
  await press('5');
  await until('saved', async () => {
    const p = await g.db.getProduct(order[0]);
    return !!p?.favorite && p.rating === 5;
  });
  await g.page.waitForFunction(() => Array.from(document.querySelectorAll('.detail .stars button')).every((b) => b.textContent === '★'));
  await press('ArrowRight');
  await until('the next product', async () => (await focusedId()) === order[1]);
  await g.page.waitForSelector(`text=${(await g.db.getProduct(order[1]))!.prompt!}`);
  await press('ArrowLeft');
  await until('back', async () => (await focusedId()) === order[0]);
  await press('ArrowRight');
  await until('the next product again', async () => (await focusedId()) === order[1]);
  await press('Delete');
  await until('the deleted product out of the grid', async () => (await g.page.locator(`#tile-${order[1]}`).count()) === 0);
  assert.equal(await focusedId(), order[2], 'the detail moves on to the next product');
  assert.equal(await g.page.locator('[role=dialog] #detail-title').count(), 1, 'and stays open');
  await press('Escape');
  await press('Control+z');
  await g.page.waitForSelector(`#tile-${order[1]}`);
});

test('c with fewer than two selected says why; Fit shows whole images and is remembered', async () => {
  await grid().focus();
  await press('Escape');
  await press('c');
  await g.page.waitForSelector('.status-line.shown');
  assert.match((await g.page.locator('[role=status]').textContent()) ?? '', /Compare needs 2 to 4 selected products\. Space or Ctrl\/Cmd\+click selects\./);
  assert.equal(await g.page.locator('[role=dialog]').count(), 0);
  const fit = g.page.locator('vscode-button.fit-toggle');
  assert.equal(await fit.getAttribute('aria-pressed'), 'false');
  const objectFit = () => g.page.locator('[role=gridcell] img').first().evaluate((img) => getComputedStyle(img).objectFit);
  await g.page.waitForSelector('[role=gridcell] img');
  assert.equal(await objectFit(), 'cover');
  await fit.click();
  await until('whole images', async () => (await objectFit()) === 'contain');
  // The host is told (it remembers it for the next gallery).
  await until('the host told', async () => (g.received.filter((m) => (m as { type?: string }).type === 'stateChanged').at(-1) as { fit?: boolean } | undefined)?.fit === true);
  await g.recreate();
  await g.page.waitForSelector('[role=gridcell] img');
  assert.equal(await objectFit(), 'contain', 'kept when the webview is recreated');
  await g.page.locator('vscode-button.fit-toggle').click();
  await until('filled again', async () => (await objectFit()) === 'cover');
});

test('an imported image without a prompt is called by its file name; the help keeps keys next to what they do', async () => {
  const imported = await arrives({ id: 'imp-1', createdAt: new Date(Date.UTC(2029, 0, 1)).toISOString(), provider: 'import', model: 'unknown', prompt: undefined, input: {}, imported: { tool: 'unknown', fileName: 'harbour-at-dawn.png', sourcePath: '/x/harbour-at-dawn.png' } });
  await g.page.waitForSelector(`#tile-${imported.id} img`);
  assert.equal(await g.page.locator(`#tile-${imported.id} img`).getAttribute('alt'), 'harbour-at-dawn.png');
  assert.equal(await g.page.locator(`#tile-${imported.id}`).getAttribute('aria-label'), 'harbour-at-dawn.png');
  await grid().focus();
  await press('Home');
  assert.equal(await focusedId(), imported.id);
  await press('Enter');
  await g.page.waitForSelector('#detail-title:has-text("harbour-at-dawn.png")');
  await press('Escape');
  await press('?');
  await g.page.waitForSelector('#help-title');
  const gaps = await g.page.locator('.help tr').evaluateAll((rows) => rows.map((r) => r.querySelector('td')!.getBoundingClientRect().left - r.querySelector('th kbd')!.getBoundingClientRect().right));
  assert.ok(gaps.every((gap) => gap >= 0 && gap < 200), `the description is beside its key: gaps ${gaps.map(Math.round).join(', ')} px`);
  await press('Escape');
});

test('in a half-width split (600 px) the toolbar stays usable: the filters fold behind a button, nothing sticks out, the grid keeps the height', async () => {
  const layout = () =>
    g.page.evaluate(() => {
      // (No named functions in here: the test transpiler's helpers do not exist in the page.)
      const controls = Array.from(document.querySelectorAll('.toolbar vscode-single-select, .toolbar vscode-textfield, .toolbar vscode-button, .toolbar vscode-checkbox, .toolbar input')).filter((e) => e.getBoundingClientRect().width > 0);
      return {
        bar: document.querySelector('.toolbar')!.getBoundingClientRect().height,
        grid: document.querySelector('[role=grid]')!.getBoundingClientRect().height,
        offscreen: controls.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5 || e.getBoundingClientRect().left < 0).map((e) => e.getAttribute('label') ?? e.textContent),
        filters: Array.from(document.querySelectorAll('#filters vscode-single-select')).filter((e) => e.getBoundingClientRect().width > 0).length,
      };
    });
  assert.equal((await layout()).filters, 4, 'wide: the filters are in the toolbar');
  await g.page.setViewportSize({ width: 600, height: 800 });
  try {
    await g.page.waitForTimeout(100);
    const folded = await layout();
    await g.shot('focus-half-width');
    assert.equal(folded.filters, 0, 'narrow: folded away');
    assert.deepEqual(folded.offscreen, [], 'nothing sticks out of the panel');
    assert.ok(folded.grid > 800 * 0.8, `the grid keeps ${Math.round(folded.grid)} of 800 px (toolbar ${Math.round(folded.bar)} px)`);
    const toggle = g.page.locator('vscode-button.filters-toggle');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    const open = await layout();
    await g.shot('focus-half-width-filters');
    assert.equal(open.filters, 4, 'the button shows them');
    assert.deepEqual(open.offscreen, []);
    assert.ok(open.grid > 800 * 0.6, `the grid keeps ${Math.round(open.grid)} px with the filters open`);
    await g.page.locator('vscode-checkbox').click();
    await g.page.waitForFunction(() => /Filters \(1\)/.test(document.querySelector('vscode-button.filters-toggle')?.textContent ?? ''));
    await g.page.locator('vscode-checkbox').click();
    await toggle.click();
  } finally {
    await g.page.setViewportSize({ width: 1200, height: 800 });
  }
});
