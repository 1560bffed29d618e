// The grid's data: the pages of the current filter, kept current by the host's notifications.
// On start the page listens, says ready, and asks for the current page and the filters'
// choices at once (a recreated webview has only its saved state; a new one painted the HTML's
// page, which may be old already). A new filter asks again; stale replies are ignored.
import { useCallback, useReducer, useRef, useState, type Dispatch, type MutableRef } from 'preact/hooks';
import type { Facets, Filter, InitialState } from '../../protocol.ts';
import { initialGrid, loadedEnd, reduceGrid, type GridAction, type GridState, type Keep, type LiveMessage } from '../gridState.ts';
import { ready, request, type SavedState } from '../rpc.ts';
import { useHostMessages } from './useHostMessages.ts';

const PAGE = 200;
/** Tiles asked for beyond a page fetched again, so its end (the next page's first tile) is
 * found even when products came into it meanwhile. */
const SLACK = 50;

export interface Gallery {
  grid: GridState;
  dispatch: Dispatch<GridAction>;
  /** A new filter: shown at once, its first page asked for at once. */
  setFilter: (f: Filter) => void;
  facets: Facets;
  /** What Undo restores, as the host says (it holds the deleted products until the panel closes). */
  undo: string[] | undefined;
  setUndo: (ids: string[] | undefined) => void;
  /** Load what positions [from, to) need (one page at a time; none while one is on its way):
   * the page after the loaded ones, the known page before them, or, when the view jumped past
   * them, the known page that holds `from`. `keep`: what must stay loaded when pages go. */
  load: (from: number, to: number, keep: Keep) => Promise<void>;
  /** Counts finished loads: what a load skipped (one was on its way) is asked for again. */
  loads: number;
  /** After a new first page: where to scroll (a saved position, else to the focus). */
  scrollAfterPage: MutableRef<{ top?: number } | undefined>;
}

export function useGallery(init: InitialState, saved: SavedState | undefined, announce: (text: string) => void): Gallery {
  // A recreated webview restores what it saved; a new panel paints the HTML's page. Both ask
  // for the current one at once (below).
  const [grid, dispatch] = useReducer(reduceGrid, undefined, () => (saved ? initialGrid(saved.filter, undefined, saved) : initialGrid(init.filter, init.page)));
  const [facets, setFacets] = useState<Facets>({ providers: [], models: [], tags: [] });
  const [undo, setUndo] = useState<string[] | undefined>();
  const [loads, setLoads] = useState(0);
  /** The latest state, for handlers that run outside a render (host messages, replies). */
  const latest = useRef<GridState>(grid);
  latest.current = grid;
  const loading = useRef(false);
  const queryId = useRef(0);
  /** Live messages that came while a first page was on its way: applied again on top of it. */
  const arrivedMeanwhile = useRef<LiveMessage[] | undefined>();
  const scrollAfterPage = useRef<{ top?: number } | undefined>(saved ? { top: saved.scrollTop } : undefined);

  // A first page for a filter (a new one, or the same one to catch up). It keeps the focus
  // and the selection on the same products where the results hold them; stale replies (an
  // older keystroke) are ignored.
  const refetch = useCallback(async (f: Filter, focusId?: string) => {
    const mine = ++queryId.current;
    arrivedMeanwhile.current = [];
    const s = latest.current;
    const asked = focusId ?? s.focusId;
    let page;
    try {
      page = await request('query', { filter: f, limit: PAGE, focus: asked, keep: s.selected.size ? [...s.selected].slice(0, 1000) : undefined });
    } catch (e) {
      if (mine !== queryId.current) return;
      arrivedMeanwhile.current = undefined;
      announce((e as Error).message);
      return;
    }
    if (mine !== queryId.current) return;
    const meanwhile = arrivedMeanwhile.current ?? [];
    arrivedMeanwhile.current = undefined;
    dispatch({ type: 'page', page, append: false, focus: asked, moveFocus: focusId !== undefined });
    for (const msg of meanwhile) dispatch({ type: 'live', msg });
    scrollAfterPage.current ??= {};
  }, []);

  const load = useCallback(async (from: number, to: number, keep: Keep) => {
    // Not while a first page is on its way: the loaded pages are the old results'.
    if (loading.current || arrivedMeanwhile.current) return;
    const s = latest.current;
    const end = loadedEnd(s);
    const before = s.pages.findLast((p) => p.at < s.start);
    const holding = s.pages.findLast((p) => p.at <= from);
    let ask: { after?: string; limit: number; at?: number } | undefined;
    if (to > s.start && from < s.start && before) ask = { after: before.after, limit: s.start - before.at + SLACK, at: before.at };
    else if (to > end && (from <= end || !holding || holding.at < end) && s.next) ask = { after: s.next, limit: PAGE };
    else if ((to <= s.start || from > end) && holding) {
      const following = s.pages.find((p) => p.at > holding.at);
      ask = { after: holding.after, limit: (following ? following.at - holding.at : PAGE) + SLACK, at: holding.at };
    }
    if (!ask) return;
    loading.current = true;
    const mine = queryId.current;
    try {
      const page = await request('query', { filter: latest.current.filter, after: ask.after, limit: Math.min(1000, ask.limit) });
      if (mine !== queryId.current) return;
      if (ask.at === undefined) {
        dispatch({ type: 'page', page, append: true, after: ask.after, keep });
      } else {
        dispatch({ type: 'pageAt', page, at: ask.at, after: ask.after, keep });
      }
      setLoads((n) => n + 1);
    } catch (e) {
      // Said, and not asked again until the view moves (a retry on every render would not stop).
      if (mine === queryId.current) announce((e as Error).message);
    } finally {
      loading.current = false;
      // Answered after a new query began: that query's first page may have come while this was
      // out, and found a load running; look again, or the rows in view stay empty.
      if (mine !== queryId.current) setLoads((n) => n + 1);
    }
  }, []);

  // Live updates from the host. Once they listen the page says ready (the host posts nothing
  // before), then catches up: what the host did not post before is in these answers.
  useHostMessages(() => {
    const live = (msg: LiveMessage) => {
      arrivedMeanwhile.current?.push(msg);
      dispatch({ type: 'live', msg });
    };
    return {
      handlers: {
        jobUpdated: (m) => {
          live({ type: 'jobUpdated', ...m });
          if (m.tile.state === 'failed') announce(`Generation failed: ${m.tile.error ?? m.tile.prompt}`);
        },
        productAdded: (m) => {
          live({ type: 'productAdded', ...m });
          announce(`Finished: ${m.tile.prompt || m.tile.name || m.tile.model}`);
        },
        productsChanged: (m) => live({ type: 'productsChanged', ...m }),
        productsDeleted: (m) => {
          // A product whose page is not loaded went: where is the host's to say (ask again).
          const s = latest.current;
          const loaded = new Set(s.tiles.map((t) => t.id));
          const unplaced = (s.start > 0 || s.next !== undefined) && m.ids.some((id) => !loaded.has(id));
          live({ type: 'productsDeleted', ...m });
          if (unplaced) void refetch(latest.current.filter);
        },
        reset: (m) => void refetch(latest.current.filter, m.focus),
        facets: (m) => setFacets(m.facets),
        undoable: (m) => setUndo(m.ids.length ? m.ids : undefined),
      },
      listening: () => {
        ready();
        void refetch(latest.current.filter);
        void request('facets', {}).then(setFacets, () => undefined);
      },
    };
  }, []);

  // Every keystroke asks at once, from its own event (a query takes milliseconds; an older
  // reply is ignored). Asking from an effect waited for the next frame and two timers first.
  const setFilter = useCallback((f: Filter) => {
    dispatch({ type: 'filter', filter: f });
    void refetch(f);
  }, []);

  return { grid, dispatch, setFilter, facets, undo, setUndo, load, loads, scrollAfterPage };
}
