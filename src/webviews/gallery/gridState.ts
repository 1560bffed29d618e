// The grid's state as one value changed by one reducer: the loaded tiles, the focus and the
// selection. Focus and selection are product ids, never positions, so a product that arrives,
// goes, or moves under a new sort or filter never hands the focus ring (and the next key) to
// another product. Pure and free of the DOM, so it is tested in plain Node as well.
import { tileMatches, type Filter, type HostMessage, type Page, type Tile } from '../protocol.ts';

export interface GridState {
  filter: Filter;
  /** The loaded tiles, in order: a prefix of all `total` results. */
  tiles: Tile[];
  total: number;
  /** Cursor of the next page; undefined once every result is loaded. */
  next?: string;
  /** False until the first page of the current filter has come (a recreated webview asks). */
  loaded: boolean;
  focusId?: string;
  /** A place the focus moved to before its tile was loaded (End in 10,000): the tile takes the
   * focus when its page comes. */
  pendingIndex?: number;
  selected: ReadonlySet<string>;
  /** Where a Shift-extended selection starts. */
  anchorId?: string;
}

export type LiveMessage = Extract<HostMessage, { type: 'jobUpdated' | 'productAdded' | 'productsChanged' | 'productsDeleted' }>;

export type GridAction =
  /** A new filter: the tiles stay until its first page comes. */
  | { type: 'filter'; filter: Filter }
  /** A first page (replacing the tiles) or the next page (appended). `focus`: the product a
   * first page was asked to find (its `focusAt` is that product's place); `moveFocus`: it takes
   * the focus even if the focused product is in the page too (an undone delete's product). */
  | { type: 'page'; page: Page; append: boolean; focus?: string; moveFocus?: boolean }
  | { type: 'live'; msg: LiveMessage }
  /** Keyboard moves and plain clicks: focus a position; `extend` selects from the anchor. */
  | { type: 'focus'; index: number; extend?: boolean; select?: 'only' | 'toggle' }
  /** Space: add or remove the focused tile from the selection. */
  | { type: 'toggleFocused' }
  | { type: 'select'; ids: string[] };

export function initialGrid(filter: Filter, page: Page | undefined, saved: { focusId?: string; selected?: string[] } = {}): GridState {
  const base: GridState = { filter, tiles: [], total: 0, loaded: false, focusId: saved.focusId, selected: new Set(saved.selected ?? []) };
  return page ? reduceGrid(base, { type: 'page', page, append: false }) : base;
}

/** The focused position: the focused product's, else the pending place, else the first tile. */
export function focusIndex(s: GridState): number {
  if (s.focusId !== undefined) {
    const i = s.tiles.findIndex((t) => t.id === s.focusId);
    if (i >= 0) return i;
  }
  if (s.pendingIndex !== undefined) return Math.min(s.pendingIndex, s.total - 1);
  return s.total > 0 ? 0 : -1;
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

/** Where `t` belongs among the loaded tiles, or undefined when it sorts after them while more
 * pages are still to come (the page that holds it will bring it). */
function placeOf(s: GridState, t: Tile): number | undefined {
  const i = s.tiles.findIndex((x) => compareTiles(s.filter.sort, t, x) < 0);
  if (i >= 0) return i;
  return s.next === undefined ? s.tiles.length : undefined;
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
  const tiles = s.tiles.filter((t) => !gone.has(t.id));
  const removed = s.tiles.length - tiles.length;
  if (removed === 0) return s;
  const selected = new Set([...s.selected].filter((id) => !gone.has(id)));
  return { ...s, tiles, total: Math.max(0, s.total - removed), focusId: successor(s.tiles, gone, s.focusId), selected, anchorId: gone.has(s.anchorId ?? '') ? undefined : s.anchorId };
}

/** Insert `t` where the sort puts it (or only count it when it is beyond the loaded pages). */
function insert(s: GridState, t: Tile): GridState {
  const at = placeOf(s, t);
  if (at === undefined) return { ...s, total: s.total + 1 };
  return { ...s, tiles: [...s.tiles.slice(0, at), t, ...s.tiles.slice(at)], total: s.total + 1 };
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
      return shown && tileMatches(t, f) ? insert(s, t) : s;
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
      if (wasFocused && next.tiles.some((x) => x.id === t.id)) next = { ...next, focusId: t.id };
      return next;
    }
    case 'productsChanged': {
      const byId = new Map(m.tiles.map((t) => [t.id, t]));
      return { ...s, tiles: s.tiles.map((t) => byId.get(t.id) ?? t) };
    }
    case 'productsDeleted':
      return without(s, new Set(m.ids));
  }
}

/** The ids of a list of loaded tiles, kept from page to page: scrolling to the end of 100,000
 * products appends 500 pages, and building the set anew for each made every append cost the
 * whole list (tens of ms each by the end, in the frame that scrolls). */
const loadedIds = new WeakMap<readonly Tile[], Set<string>>();

function idsOf(tiles: readonly Tile[]): Set<string> {
  let ids = loadedIds.get(tiles);
  if (!ids) loadedIds.set(tiles, (ids = new Set(tiles.map((t) => t.id))));
  return ids;
}

export function reduceGrid(s: GridState, a: GridAction): GridState {
  switch (a.type) {
    case 'filter':
      return { ...s, filter: a.filter };
    case 'page': {
      if (a.append) {
        const have = idsOf(s.tiles);
        const added = a.page.tiles.filter((t) => !have.has(t.id));
        const tiles = [...s.tiles, ...added];
        for (const t of added) have.add(t.id);
        // The set moves to the new list (the old one computes its own again if it is asked).
        loadedIds.delete(s.tiles);
        loadedIds.set(tiles, have);
        let { focusId, pendingIndex } = s;
        // The focus waited for this page: its place now has a tile.
        if (pendingIndex !== undefined && pendingIndex < tiles.length && !have.has(focusId ?? '')) {
          focusId = tiles[pendingIndex].id;
          pendingIndex = undefined;
        } else if (pendingIndex !== undefined && have.has(focusId ?? '')) pendingIndex = undefined;
        return { ...s, tiles, next: a.page.next, focusId, pendingIndex };
      }
      const { page } = a;
      // The focused product keeps the focus where the new results hold it: in this page, or
      // past it at focusAt, the place of the product the page was asked for (the focus may
      // have moved while it was on its way). Otherwise the first tile takes it.
      const current = !a.moveFocus && s.focusId !== undefined && page.tiles.some((t) => t.id === s.focusId) ? s.focusId : undefined;
      const held = current === undefined && a.focus !== undefined && page.focusAt !== undefined;
      const focusId = current ?? (held ? a.focus : page.tiles[0]?.id);
      const pendingIndex = held && !page.tiles.some((t) => t.id === a.focus) ? page.focusAt : undefined;
      // The selection keeps what the new results hold (`kept`; a page without it is one of
      // the same results: everything stays).
      const selected = page.kept ? new Set(page.kept) : s.selected;
      return { ...s, tiles: page.tiles, total: page.total, next: page.next, loaded: true, focusId, pendingIndex, selected, anchorId: focusId };
    }
    case 'live':
      return live(s, a.msg);
    case 'focus': {
      if (s.total === 0) return s;
      const index = Math.max(0, Math.min(s.total - 1, a.index));
      const t = s.tiles[index];
      const moved: GridState = t ? { ...s, focusId: t.id, pendingIndex: undefined } : { ...s, focusId: undefined, pendingIndex: index };
      if (a.extend) {
        const from = Math.max(0, s.tiles.findIndex((x) => x.id === s.anchorId));
        const [lo, hi] = [Math.min(from, index), Math.max(from, index)];
        return { ...moved, selected: new Set(s.tiles.slice(lo, hi + 1).map((x) => x.id)) };
      }
      const selected = a.select === 'only' ? new Set<string>() : a.select === 'toggle' && t ? toggled(s.selected, t.id) : s.selected;
      return { ...moved, selected, anchorId: t?.id ?? s.anchorId };
    }
    case 'toggleFocused': {
      const t = s.tiles[focusIndex(s)];
      return t ? { ...s, selected: toggled(s.selected, t.id), anchorId: t.id } : s;
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
