// The grid's reducer in plain Node: focus and selection belong to products, not positions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareTiles, focusIndex, initialGrid, loadedEnd, reduceGrid, tileAt, WINDOW, type GridAction, type GridState } from '../../src/webviews/gallery/gridState.ts';
import type { Filter, Tile } from '../../src/webviews/protocol.ts';

const NEWEST: Filter = { status: 'all', sort: 'newest' };

function tile(n: number, over: Partial<Tile> = {}): Tile {
  return { id: `P${n}`, kind: 'product', project: '/p', media: 'image', prompt: `product ${n}`, provider: 'sample', model: 'sample/gradient', rating: 0, favorite: false, tags: [], createdAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(), ...over };
}
const job = (n: number, state = 'running'): Tile => ({ ...tile(n), id: `J${n}`, kind: 'job', state });

/** Products 9 … 0, newest first, as the database pages them. */
function grid(filter: Filter = NEWEST, n = 10, next?: string): GridState {
  const tiles = Array.from({ length: n }, (_, i) => tile(n - 1 - i));
  return initialGrid(filter, { tiles: filter.sort === 'oldest' ? tiles.reverse() : tiles, total: next ? n + 100 : n, next });
}
const run = (s: GridState, ...actions: GridAction[]) => actions.reduce(reduceGrid, s);
const focused = (s: GridState) => tileAt(s, focusIndex(s))?.id;
const ids = (s: GridState) => s.tiles.map((t) => t.id);

test('the focus stays on its product when products and jobs arrive before it', () => {
  let s = run(grid(), { type: 'focus', index: 2 });
  assert.equal(focused(s), 'P7');
  s = run(s, { type: 'live', msg: { type: 'productAdded', tile: tile(20) } }, { type: 'live', msg: { type: 'jobUpdated', tile: job(21) } }, { type: 'live', msg: { type: 'jobUpdated', tile: job(22, 'failed') } });
  assert.deepEqual(ids(s).slice(0, 3), ['J21', 'P20', 'P9'], 'a running job first, then the new product; a failed job not shown in "Everything" is not added');
  assert.equal(focusIndex(s), 4, 'its position moved…');
  assert.equal(focused(s), 'P7', '…its product did not');
  assert.equal(s.total, 12);
});

test('a product that arrives twice (live, and in a page asked for meanwhile) is one tile', () => {
  const s = run(grid(), { type: 'live', msg: { type: 'productAdded', tile: tile(20) } }, { type: 'live', msg: { type: 'productAdded', tile: tile(20, { rating: 3 }) } });
  assert.equal(ids(s).filter((id) => id === 'P20').length, 1);
  assert.equal(s.tiles[0].rating, 3);
  assert.equal(s.total, 11);
});

test('a focused job tile hands the focus to the product it became; other jobs do not take it', () => {
  let s = run(grid(), { type: 'live', msg: { type: 'jobUpdated', tile: job(30) } }, { type: 'live', msg: { type: 'jobUpdated', tile: job(31) } });
  s = run(s, { type: 'focus', index: 1 });
  assert.equal(focused(s), 'J30');
  s = run(s, { type: 'live', msg: { type: 'productAdded', tile: tile(31), replaces: 'J31' } });
  assert.equal(focused(s), 'J30', 'another job finishing leaves the focus alone');
  s = run(s, { type: 'live', msg: { type: 'productAdded', tile: tile(30), replaces: 'J30' } });
  assert.equal(focused(s), 'P30');
  assert.equal(s.total, 12, 'each job tile became one product');
});

test('when the focused product goes, the focus takes the one in its place (or the one before, at the end); the selection loses what went', () => {
  let s = run(grid(), { type: 'focus', index: 3 }, { type: 'focus', index: 5, extend: true });
  assert.deepEqual([...s.selected], ['P6', 'P5', 'P4']);
  s = run(s, { type: 'live', msg: { type: 'productsDeleted', ids: ['P4', 'P5'] } });
  assert.equal(focused(s), 'P3', 'P4 was focused; P3 took its place');
  assert.deepEqual([...s.selected], ['P6']);
  s = run(s, { type: 'focus', index: s.tiles.length - 1 }, { type: 'live', msg: { type: 'productsDeleted', ids: ['P0'] } });
  assert.equal(focused(s), 'P1', 'the last one went: the one before it');
  s = run(s, { type: 'live', msg: { type: 'jobUpdated', tile: job(40) } }, { type: 'focus', index: 0 }, { type: 'live', msg: { type: 'jobUpdated', tile: job(40, 'canceled') } });
  assert.equal(focused(s), 'P9', 'a canceled job tile goes too');
  assert.equal(s.total, 7);
});

test('new arrivals go where the sort puts them: "Oldest first" at the end, by rating among their rating, by model among their model', () => {
  const oldest = run(grid({ status: 'all', sort: 'oldest' }), { type: 'live', msg: { type: 'productAdded', tile: tile(20) } });
  assert.equal(ids(oldest).at(-1), 'P20');
  // Not all pages loaded: the end is not here yet; the page that holds it will bring it.
  const paged = run(grid({ status: 'all', sort: 'oldest' }, 10, 'cursor'), { type: 'live', msg: { type: 'productAdded', tile: tile(20) } });
  assert.equal(paged.tiles.length, 10);
  assert.equal(paged.total, 111);
  const byRating = initialGrid({ status: 'all', sort: 'rating' }, { tiles: [tile(1, { rating: 5 }), tile(5, { rating: 3 }), tile(2, { rating: 3 }), tile(3, { rating: 0 })], total: 4 });
  assert.deepEqual(ids(run(byRating, { type: 'live', msg: { type: 'productAdded', tile: tile(20, { rating: 3 }) } })), ['P1', 'P20', 'P5', 'P2', 'P3']);
  const byModel = initialGrid({ status: 'all', sort: 'model' }, { tiles: [tile(1, { model: 'a' }), tile(2, { model: 'c' })], total: 2 });
  assert.deepEqual(ids(run(byModel, { type: 'live', msg: { type: 'productAdded', tile: tile(20, { model: 'b' }) } })), ['P1', 'P20', 'P2']);
  assert.ok(compareTiles('oldest', job(1), tile(0)) < 0, 'job tiles stay first in every sort');
});

test('a new filter or sort keeps the focus on its product, even past the first page, and keeps the selection the results hold', () => {
  let s = run(grid(), { type: 'focus', index: 6 }, { type: 'toggleFocused' }, { type: 'focus', index: 8 }, { type: 'toggleFocused' });
  assert.equal(focused(s), 'P1');
  // Sorted again: P1 is now 150th, past the first page of 100; P3 left the results.
  const page = { tiles: Array.from({ length: 100 }, (_, i) => tile(1000 + i)), total: 400, next: 'c1', focusAt: 150, kept: ['P1'] };
  s = run(s, { type: 'filter', filter: { status: 'all', sort: 'rating' } }, { type: 'page', page, append: false, focus: 'P1' });
  assert.equal(s.focusId, 'P1');
  assert.equal(focusIndex(s), 150, 'the focus waits at its place for the page that holds it');
  assert.equal(focused(s), undefined, 'no loaded tile shows the ring meanwhile');
  assert.deepEqual([...s.selected], ['P1']);
  s = run(s, { type: 'page', page: { tiles: Array.from({ length: 100 }, (_, i) => (i === 50 ? tile(1) : tile(2000 + i))), total: 400, next: 'c2' }, append: true });
  assert.equal(focused(s), 'P1');
  assert.equal(focusIndex(s), 150);
  // A filter the focused product does not meet: the first tile takes the focus.
  s = run(s, { type: 'page', page: { tiles: [tile(7), tile(8)], total: 2, kept: [] }, append: false, focus: 'P1' });
  assert.equal(focused(s), 'P7');
  assert.equal(s.selected.size, 0);
});

test('a product focused while a first page was on its way keeps the focus; an undone delete takes it', () => {
  // Asked with P9 focused; meanwhile P5 was focused (a double-click); P9 is not in the results.
  let s = run(grid(), { type: 'focus', index: 4 });
  assert.equal(focused(s), 'P5');
  s = run(s, { type: 'page', page: { tiles: [tile(6), tile(5), tile(4)], total: 3 }, append: false, focus: 'P9' });
  assert.equal(focused(s), 'P5', 'the product focused now, which the page holds');
  // Undo: the restored product takes the focus, though the focused one is in the page too.
  s = run(s, { type: 'page', page: { tiles: [tile(6), tile(5), tile(4)], total: 3, focusAt: 0 }, append: false, focus: 'P6', moveFocus: true });
  assert.equal(focused(s), 'P6');
});

test('End in a grid whose last tile is not loaded: the focus waits there and lands on the tile its page brings', () => {
  let s = initialGrid(NEWEST, { tiles: [tile(9), tile(8)], total: 5, next: 'c' });
  s = run(s, { type: 'focus', index: 4 });
  assert.equal(focusIndex(s), 4);
  s = run(s, { type: 'page', page: { tiles: [tile(7), tile(6), tile(5)], total: 5 }, append: true });
  assert.equal(focused(s), 'P5');
  assert.equal(s.focusId, 'P5');
});

test('with a search, a running-jobs filter, or a failed-jobs filter, only what matches arrives', () => {
  const search = grid({ status: 'all', sort: 'newest', text: 'heron' });
  assert.equal(run(search, { type: 'live', msg: { type: 'productAdded', tile: tile(20, { prompt: 'a fox' }) } }).total, 10);
  assert.equal(run(search, { type: 'live', msg: { type: 'productAdded', tile: tile(21, { prompt: 'two herons' }) } }).total, 11);
  const running = initialGrid({ status: 'running', sort: 'newest' }, { tiles: [job(1)], total: 1 });
  assert.deepEqual(ids(run(running, { type: 'live', msg: { type: 'productAdded', tile: tile(1), replaces: 'J1' } })), [], 'the job finished: its tile leaves "Running jobs", its product does not join');
  assert.deepEqual(ids(run(running, { type: 'live', msg: { type: 'jobUpdated', tile: job(1, 'failed') } })), [], 'a failed job leaves "Running jobs"');
  const failed = initialGrid({ status: 'failed', sort: 'newest' }, { tiles: [], total: 0 });
  assert.deepEqual(ids(run(failed, { type: 'live', msg: { type: 'jobUpdated', tile: job(2, 'failed') } })), ['J2'], 'and joins "Failed jobs"');
});

/** A library of `n` products, newest first, paged as the host pages it: keyset cursors (the
 * last id before the page), so a product that arrives moves what later pages hold. */
function library(n: number) {
  const db = Array.from({ length: n }, (_, i) => tile(n - 1 - i));
  const page = (after: string | undefined, limit: number) => {
    const from = after === undefined ? 0 : db.findIndex((t) => t.id === after) + 1;
    const tiles = db.slice(from, from + limit);
    return { tiles, total: db.length, next: from + limit < db.length ? tiles.at(-1)!.id : undefined };
  };
  return { db, page };
}

/** Scrolls down to the end of the results as the grid does: the page after the loaded ones, keeping the view. */
function scrollDown(s: GridState, lib: ReturnType<typeof library>): GridState {
  while (s.next) {
    const end = loadedEnd(s);
    s = reduceGrid(s, { type: 'page', page: lib.page(s.next, 200), append: true, after: s.next, keep: [end - 100, end + 300] });
  }
  return s;
}

/** Scrolls back up to the top: the known page before the loaded ones, fetched again. */
function scrollUp(s: GridState, lib: ReturnType<typeof library>): GridState {
  while (s.start > 0) {
    const before = s.pages.findLast((p) => p.at < s.start)!;
    s = reduceGrid(s, { type: 'pageAt', page: lib.page(before.after, s.start - before.at + 50), at: before.at, after: before.after, keep: [before.at, before.at + 400] });
  }
  return s;
}

/** Every loaded tile is the library's product at that place. */
function assertInPlace(s: GridState, db: readonly { id: string }[]): void {
  for (let i = s.start; i < loadedEnd(s); i++) assert.equal(tileAt(s, i)?.id, db[i].id, `position ${i}`);
}

test('scrolling through 5,000 products keeps only the pages near the view; scrolled back, the dropped pages show their products again, with the focus and the selection', () => {
  const lib = library(5000);
  let s = initialGrid(NEWEST, lib.page(undefined, 200));
  s = run(s, { type: 'toggleFocused' }, { type: 'focus', index: 3 });
  assert.deepEqual([...s.selected], ['P4999']);
  assert.equal(focused(s), 'P4996');
  s = scrollDown(s, lib);
  assert.ok(s.tiles.length <= WINDOW, `${s.tiles.length} tiles kept`);
  assert.equal(loadedEnd(s), 5000);
  assert.equal(tileAt(s, 0), undefined, 'the first page was dropped');
  assertInPlace(s, lib.db);
  assert.equal(s.pages.length, 25, 'every page start is known');
  assert.equal(focusIndex(s), 3, 'the focus stays on its product while its page is away');
  assert.equal(s.focusId, 'P4996');
  assert.deepEqual([...s.selected], ['P4999'], 'and so does the selection');
  s = scrollUp(s, lib);
  assert.ok(s.tiles.length <= WINDOW, `${s.tiles.length} tiles kept`);
  assert.equal(s.start, 0);
  assertInPlace(s, lib.db);
  assert.equal(focused(s), 'P4996');
  assert.equal(focusIndex(s), 3);
  // A jump (the scrollbar dragged to the middle) fetches the page there, alone.
  const middle = s.pages[12];
  s = reduceGrid(s, { type: 'pageAt', page: lib.page(middle.after, 250), at: middle.at, after: middle.after, keep: [middle.at, middle.at + 100] });
  assert.equal(s.start, 2400);
  assert.equal(s.tiles.length, 200);
  assertInPlace(s, lib.db);
  assert.equal(s.next, s.pages[13].after, 'the page after it is the known one');
});

test('products that arrive while their page is not loaded are counted in it: the pages after them move, and come back in place', () => {
  const lib = library(3000);
  let s = scrollDown(initialGrid(NEWEST, lib.page(undefined, 200)), lib);
  s = run(s, { type: 'focus', index: 2990 });
  const focusedBefore = focused(s);
  assert.ok(s.start > 0);
  const start = s.start;
  // Two new products (newest first: the first page) and a job, while the view is at the end.
  for (const t of [tile(5000), tile(5001)]) {
    lib.db.unshift(t);
    s = run(s, { type: 'live', msg: { type: 'productAdded', tile: t } });
  }
  assert.equal(s.total, 3002);
  assert.equal(s.start, start + 2, 'the loaded pages moved down by two');
  assertInPlace(s, lib.db);
  assert.equal(focused(s), focusedBefore);
  assert.equal(focusIndex(s), 2992);
  s = scrollUp(s, lib);
  assertInPlace(s, lib.db);
  assert.equal(tileAt(s, 0)?.id, 'P5001');
});

test('a Shift-extended selection spans the loaded pages from its anchor', () => {
  const lib = library(1000);
  let s = initialGrid(NEWEST, lib.page(undefined, 200));
  s = run(s, { type: 'focus', index: 150 });
  s = reduceGrid(s, { type: 'page', page: lib.page(s.next, 200), append: true, after: s.next });
  s = run(s, { type: 'focus', index: 380, extend: true });
  assert.equal(s.selected.size, 231);
  assert.ok(s.selected.has('P849') && s.selected.has('P619'));
});
