// The grid's state as one value changed by one reducer: the loaded tiles, the focus and the
// selection. Focus and selection are product ids, never positions, so a product that arrives,
// goes, or moves under a new sort or filter never hands the focus ring (and the next key) to
// another product. Pure and free of the DOM, so it is tested in plain Node as well.
//
// Only the pages near the viewport are kept (a window of at most WINDOW tiles): scrolling
// through 100,000 products used to keep every tile, and to copy the whole list on every page
// (100,000 slots by the end), which made the garbage collector's pauses grow with the library
// (scavenges of 25-70 ms at 100,000 against 5-11 ms at 10,000: the longest scroll frames). Where
// every page starts, and the cursor that fetches it, is kept for all pages seen, so a page
// dropped from the window is fetched again when it comes back into view.
import { tileMatches, type Filter, type HostMessage, type Page, type Tile } from '../protocol.ts';

/** At most this many tiles are kept, unless more are in view (whole pages are dropped). */
export const WINDOW = 2000;

/** Where one page of the current results starts, the cursor that fetches it (none for the
 * first page), and its first tile's sort fields (where a product that arrives belongs). */
export interface PageStart {
  at: number;
  after?: string;
  first?: Tile;
}

/** Positions [from, to) that must stay loaded (the rows in view and a margin). */
export type Keep = readonly [number, number];

export interface GridState {
  filter: Filter;
  /** The loaded tiles, in order: results [start, start + tiles.length), whole pages. */
  tiles: Tile[];
  start: number;
  total: number;
  /** Every page of the current results seen so far, in order (the first at 0). */
  pages: readonly PageStart[];
  /** Cursor of the page after the loaded ones; undefined when they reach the end. */
  next?: string;
  /** False until the first page of the current filter has come (a recreated webview asks). */
  loaded: boolean;
  focusId?: string;
  /** The focused position. Without `focusId`, a place the focus moved to before its tile was
   * loaded (End in 10,000): the tile takes the focus when its page comes. With it, where the
   * focused product is while its page is not loaded (scrolled far away, or past a first page). */
  focusAt?: number;
  selected: ReadonlySet<string>;
  /** Where a Shift-extended selection starts, and its position when it was set. */
  anchorId?: string;
  anchorAt?: number;
}

export type LiveMessage = Extract<HostMessage, { type: 'jobUpdated' | 'productAdded' | 'productsChanged' | 'productsDeleted' }>;

export type GridAction =
  /** A new filter: the tiles stay until its first page comes. */
  | { type: 'filter'; filter: Filter }
  /** A first page (replacing everything). `focus`: the product it was asked to find (its
   * `focusAt` is that product's place); `moveFocus`: it takes the focus even if the focused
   * product is in the page too (an undone delete's product). */
  | { type: 'page'; page: Page; append: false; focus?: string; moveFocus?: boolean }
  /** The page after the loaded ones, fetched with cursor `after` (ignored when the loaded
   * pages moved meanwhile); pages far before `keep` are dropped. */
  | { type: 'page'; page: Page; append: true; after?: string; keep?: Keep }
  /** The known page that starts at `at`, fetched again with its cursor: before the loaded
   * ones (scrolled back), or anywhere when the view jumped there (a new window). */
  | { type: 'pageAt'; page: Page; at: number; after?: string; keep?: Keep }
  | { type: 'live'; msg: LiveMessage }
  /** Keyboard moves and plain clicks: focus a position; `extend` selects from the anchor. */
  | { type: 'focus'; index: number; extend?: boolean; select?: 'only' | 'toggle' }
  /** Space: add or remove the focused tile from the selection. */
  | { type: 'toggleFocused' }
  | { type: 'select'; ids: string[] };

export function initialGrid(filter: Filter, page: Page | undefined, saved: { focusId?: string; selected?: string[] } = {}): GridState {
  const base: GridState = { filter, tiles: [], start: 0, total: 0, pages: [], loaded: false, focusId: saved.focusId, selected: new Set(saved.selected ?? []) };
  return page ? reduceGrid(base, { type: 'page', page, append: false }) : base;
}

/** The tile at position `i`, when its page is loaded. */
export function tileAt(s: Pick<GridState, 'tiles' | 'start'>, i: number): Tile | undefined {
  return i >= s.start ? s.tiles[i - s.start] : undefined;
}

/** The end of the loaded tiles (exclusive). */
export const loadedEnd = (s: Pick<GridState, 'tiles' | 'start'>): number => s.start + s.tiles.length;

/** A loaded product's position, or -1. */
function positionOf(s: GridState, id: string | undefined): number {
  if (id === undefined) return -1;
  const i = s.tiles.findIndex((t) => t.id === id);
  return i < 0 ? -1 : s.start + i;
}

/** The focused position: the focused product's, else the place the focus waits at, else the
 * first tile. Kept in the state by every change (settled), so no render searches for it. */
export function focusIndex(s: GridState): number {
  if (s.focusAt !== undefined && s.total > 0) return Math.min(s.focusAt, s.total - 1);
  return s.total > 0 ? 0 : -1;
}

/** After any change: the focused product's place where it is loaded; a focus waiting at a
 * place takes the tile that is there once it is loaded. */
function settle(s: GridState): GridState {
  const at = positionOf(s, s.focusId);
  if (at >= 0) return at === s.focusAt ? s : { ...s, focusAt: at };
  if (s.focusAt !== undefined && s.focusAt >= s.start && s.focusAt < loadedEnd(s)) return { ...s, focusId: tileAt(s, s.focusAt)!.id };
  return s;
}

const newestFirst = (a: Tile, b: Tile): number => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1);

/** The database's order for each sort (src/storage/repo.ts sortKeys); job tiles come first. */
export function compareTiles(sort: Filter['sort'], a: Tile, b: Tile): number {
  if (a.kind !== b.kind) return a.kind === 'job' ? -1 : 1;
  if (a.kind === 'job') return newestFirst(a, b);
  switch (sort) {
    case 'oldest':
      return -newestFirst(a, b);
    case 'rating':
      return b.rating - a.rating || newestFirst(a, b);
    case 'model':
      return a.model < b.model ? -1 : a.model > b.model ? 1 : newestFirst(a, b);
    default:
      return newestFirst(a, b);
  }
}

/** Positions from `from` on moved by `by` (a tile came or went before them): the pages' starts,
 * the focus's and the anchor's places. `from` is exclusive for page starts: a tile that comes
 * at a page's first place belongs to that page (its cursor fetches it). */
function shift(s: GridState, from: number, by: number, windowToo: boolean): GridState {
  const pages: PageStart[] = [];
  for (const p of s.pages) {
    const at = p.at > from ? p.at + by : p.at;
    if (pages.length && pages[pages.length - 1].at >= at) continue; // a page left empty
    pages.push(at === p.at ? p : { ...p, at });
  }
  const moved = (x: number | undefined) => (x !== undefined && x >= from ? Math.max(0, x + by) : x);
  return { ...s, pages, start: windowToo ? s.start + by : s.start, focusAt: moved(s.focusAt), anchorAt: moved(s.anchorAt) };
}

/** The page a tile that is not loaded belongs in, by the first tiles of the known pages: the
 * position just after that page's start (where it counts), or undefined when no page is known. */
function placeAmongPages(s: GridState, t: Tile): number | undefined {
  let at: number | undefined;
  for (const p of s.pages) {
    if (p.first && compareTiles(s.filter.sort, t, p.first) < 0) break;
    at = p.at;
  }
  return at;
}

/** The product the focus goes to when the focused one leaves: the one that takes its place,
 * else the one before it. */
function successor(tiles: Tile[], gone: ReadonlySet<string>, focusId: string | undefined): string | undefined {
  const i = tiles.findIndex((t) => t.id === focusId);
  if (i < 0 || !gone.has(tiles[i].id)) return focusId;
  for (let k = i + 1; k < tiles.length; k++) if (!gone.has(tiles[k].id)) return tiles[k].id;
  for (let k = i - 1; k >= 0; k--) if (!gone.has(tiles[k].id)) return tiles[k].id;
  return undefined;
}

function without(s: GridState, gone: ReadonlySet<string>): GridState {
  const selected = [...s.selected].some((id) => gone.has(id)) ? new Set([...s.selected].filter((id) => !gone.has(id))) : s.selected;
  const anchor = gone.has(s.anchorId ?? '') ? { anchorId: undefined, anchorAt: undefined } : {};
  let next: GridState = { ...s, selected, ...anchor, focusId: successor(s.tiles, gone, s.focusId) };
  if (next.focusId !== s.focusId) next.focusAt = undefined; // settle() finds the successor's place
  // Each loaded tile that goes moves the ones after it up (from the last, so positions hold).
  for (let i = s.tiles.length - 1; i >= 0; i--) {
    if (!gone.has(s.tiles[i].id)) continue;
    next = shift(next, s.start + i, -1, false);
    next = { ...next, total: Math.max(0, next.total - 1) };
  }
  const tiles = s.tiles.filter((t) => !gone.has(t.id));
  return tiles.length === s.tiles.length && selected === s.selected ? s : settle({ ...next, tiles });
}

/** Insert `t` where the sort puts it: among the loaded tiles, or only counted in the page it
 * belongs to when that page is not loaded. */
function insert(s: GridState, t: Tile): GridState {
  const sort = s.filter.sort;
  const i = s.tiles.findIndex((x) => compareTiles(sort, t, x) < 0);
  const end = loadedEnd(s);
  const inWindow = i > 0 || (i === 0 && s.start === 0) || (i < 0 && s.next === undefined);
  if (inWindow) {
    const at = i < 0 ? s.tiles.length : i;
    // The places after it move down (a focus waiting at a place too; a focused product's is
    // settled from its tile).
    return { ...shift(s, s.start + at, 1, false), tiles: [...s.tiles.slice(0, at), t, ...s.tiles.slice(at)], total: s.total + 1 };
  }
  // Before or after the loaded pages: counted in its page; the pages after it move down.
  const page = placeAmongPages(s, t) ?? (i === 0 ? 0 : end);
  const at = i === 0 ? Math.min(page, s.start - 1) : Math.max(page, end);
  return { ...shift(s, at, 1, i === 0), total: s.total + 1 };
}

/** What a product or job that arrives live changes; `filter` decides whether it belongs. */
function live(s: GridState, m: LiveMessage): GridState {
  const f = s.filter;
  switch (m.type) {
    case 'jobUpdated': {
      const t = m.tile;
      const i = s.tiles.findIndex((x) => x.id === t.id);
      if (i >= 0) {
        if (t.state === 'canceled') return without(s, new Set([t.id]));
        if (t.state === 'succeeded') return s; // its product replaces it
        if (f.status === 'running' && t.state === 'failed') return without(s, new Set([t.id]));
        const tiles = [...s.tiles];
        tiles[i] = t;
        return { ...s, tiles };
      }
      const active = t.state === 'queued' || t.state === 'submitted' || t.state === 'running';
      const shown = (active && (f.status === 'all' || f.status === 'running')) || (t.state === 'failed' && f.status === 'failed');
      return shown && tileMatches(t, f) ? settle(insert(s, t)) : s;
    }
    case 'productAdded': {
      const t = m.tile;
      let next = s;
      // Already there (a page that was asked for while it arrived brought it): just update it.
      const i = next.tiles.findIndex((x) => x.id === t.id);
      if (i >= 0) {
        const tiles = [...next.tiles];
        tiles[i] = t;
        return { ...next, tiles };
      }
      const wasFocused = m.replaces !== undefined && s.focusId === m.replaces;
      if (m.replaces) next = without(next, new Set([m.replaces]));
      if (!tileMatches(t, f) || f.status === 'running' || f.status === 'failed') return next;
      next = insert(next, t);
      // The focused job became this product: the focus stays with it, when it is loaded.
      if (wasFocused && next.tiles.some((x) => x.id === t.id)) next = { ...next, focusId: t.id, focusAt: undefined };
      return settle(next);
    }
    case 'productsChanged': {
      const byId = new Map(m.tiles.map((t) => [t.id, t]));
      return { ...s, tiles: s.tiles.map((t) => byId.get(t.id) ?? t) };
    }
    case 'productsDeleted':
      return without(s, new Set(m.ids));
  }
}

/** Page starts with `p` added (or its cursor and first tile refreshed), in order. */
function withPage(pages: readonly PageStart[], p: PageStart): PageStart[] {
  const out = pages.filter((x) => x.at !== p.at);
  const i = out.findIndex((x) => x.at > p.at);
  out.splice(i < 0 ? out.length : i, 0, p);
  return out;
}

/** Whole pages outside `keep` dropped from the far side while more than WINDOW are loaded. */
function trim(s: GridState, keep: Keep | undefined, side: 'front' | 'back'): GridState {
  if (!keep) return s;
  let { tiles, start, next } = s;
  while (tiles.length > WINDOW) {
    const end = start + tiles.length;
    if (side === 'front') {
      const second = s.pages.find((p) => p.at > start);
      if (!second || second.at > keep[0] || second.at >= end) break;
      tiles = tiles.slice(second.at - start);
      start = second.at;
    } else {
      const last = s.pages.findLast((p) => p.at < end);
      if (!last || last.at <= start || last.at < keep[1]) break;
      tiles = tiles.slice(0, last.at - start);
      next = last.after;
    }
  }
  return tiles === s.tiles ? s : { ...s, tiles, start, next };
}

export function reduceGrid(s: GridState, a: GridAction): GridState {
  switch (a.type) {
    case 'filter':
      return { ...s, filter: a.filter };
    case 'page': {
      if (a.append) {
        // Asked for when other pages were the last loaded: not the page after these.
        if (a.after !== undefined && a.after !== s.next) return s;
        const end = loadedEnd(s);
        const have = new Set(s.tiles.map((t) => t.id));
        const added = a.page.tiles.filter((t) => !have.has(t.id));
        const pages = added.length ? withPage(s.pages, { at: end, after: s.next, first: added[0] }) : s.pages;
        return settle(trim({ ...s, tiles: [...s.tiles, ...added], pages, next: a.page.next }, a.keep, 'front'));
      }
      const { page } = a;
      // The focused product keeps the focus where the new results hold it: in this page, or
      // past it at focusAt, the place of the product the page was asked for (the focus may
      // have moved while it was on its way). Otherwise the first tile takes it.
      const current = !a.moveFocus && s.focusId !== undefined && page.tiles.some((t) => t.id === s.focusId) ? s.focusId : undefined;
      const held = current === undefined && a.focus !== undefined && page.focusAt !== undefined;
      const focusId = current ?? (held ? a.focus : page.tiles[0]?.id);
      const focusAt = held && !page.tiles.some((t) => t.id === a.focus) ? page.focusAt : undefined;
      // The selection keeps what the new results hold (`kept`; a page without it is one of
      // the same results: everything stays).
      const selected = page.kept ? new Set(page.kept) : s.selected;
      const pages = [{ at: 0, first: page.tiles[0] }];
      return settle({ ...s, tiles: page.tiles, start: 0, pages, total: page.total, next: page.next, loaded: true, focusId, focusAt, selected, anchorId: focusId, anchorAt: undefined });
    }
    case 'pageAt': {
      const k = s.pages.findIndex((p) => p.at === a.at && p.after === a.after);
      if (k < 0) return s; // the pages changed meanwhile
      // Its tiles up to the next known page's first tile. A page that grew or shrank since it
      // was seen (a change no message placed) moves the places after it.
      const room = s.pages[k + 1] ? s.pages[k + 1].at - a.at : a.page.tiles.length;
      const firstAfter = s.pages[k + 1]?.first?.id;
      const stop = firstAfter === undefined ? -1 : a.page.tiles.findIndex((t) => t.id === firstAfter);
      if (stop >= 0 && stop !== room) s = { ...shift(s, a.at, stop - room, s.start > a.at), total: Math.max(0, s.total + stop - room) };
      const following = s.pages[k + 1];
      const end = loadedEnd(s);
      const tiles = a.page.tiles.slice(0, stop >= 0 ? stop : room);
      const pages = withPage(s.pages, { at: a.at, after: a.after, first: tiles[0] });
      const next = following ? following.after : a.page.next;
      if (following && following.at === s.start && s.tiles.length) {
        // Just before the loaded pages: joined to them, far pages after `keep` dropped.
        return settle(trim({ ...s, tiles: [...tiles, ...s.tiles], start: a.at, pages }, a.keep, 'back'));
      }
      if (a.at === end && s.tiles.length) return settle(trim({ ...s, tiles: [...s.tiles, ...tiles], pages, next }, a.keep, 'front'));
      // Anywhere else (the view jumped): this page alone.
      return settle({ ...s, tiles, start: a.at, pages, next });
    }
    case 'live':
      return live(s, a.msg);
    case 'focus': {
      if (s.total === 0) return s;
      const index = Math.max(0, Math.min(s.total - 1, a.index));
      const t = tileAt(s, index);
      const moved: GridState = { ...s, focusId: t?.id, focusAt: index };
      if (a.extend) {
        // From the anchor (where it was, if its page is not loaded) to here, of what is loaded.
        const anchor = positionOf(s, s.anchorId);
        const from = anchor >= 0 ? anchor : (s.anchorAt ?? 0);
        const [lo, hi] = [Math.min(from, index), Math.max(from, index)];
        const ids = s.tiles.slice(Math.max(0, lo - s.start), Math.max(0, hi + 1 - s.start)).map((x) => x.id);
        return { ...moved, selected: new Set(ids) };
      }
      const selected = a.select === 'only' ? new Set<string>() : a.select === 'toggle' && t ? toggled(s.selected, t.id) : s.selected;
      return { ...moved, selected, anchorId: t?.id ?? s.anchorId, anchorAt: t ? index : s.anchorAt };
    }
    case 'toggleFocused': {
      const i = focusIndex(s);
      const t = tileAt(s, i);
      return t ? { ...s, selected: toggled(s.selected, t.id), anchorId: t.id, anchorAt: i } : s;
    }
    case 'select':
      return { ...s, selected: new Set(a.ids) };
  }
}

function toggled(set: ReadonlySet<string>, id: string): Set<string> {
  const out = new Set(set);
  if (out.has(id)) out.delete(id);
  else out.add(id);
  return out;
}
