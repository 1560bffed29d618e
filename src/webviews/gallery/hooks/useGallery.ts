// The grid's data: the pages of the current filter, kept current by the host's notifications.
// On start the page listens, says ready, and asks for the current page and the filters'
// choices at once (a recreated webview has only its saved state; a new one painted the HTML's
// page, which may be old already). A new filter asks again; stale replies are ignored.
import { useCallback, useReducer, useRef, useState, type Dispatch, type MutableRef } from 'preact/hooks';
import type { Facets, Filter, InitialState } from '../../protocol.ts';
import { initialGrid, reduceGrid, type GridAction, type GridState, type LiveMessage } from '../gridState.ts';
import { ready, request, type SavedState } from '../rpc.ts';
import { useHostMessages } from './useHostMessages.ts';

const PAGE = 200;

export interface Gallery {
  grid: GridState;
  dispatch: Dispatch<GridAction>;
  /** A new filter: shown at once, its first page asked for at once. */
  setFilter: (f: Filter) => void;
  facets: Facets;
  /** What Undo restores, as the host says (it holds the deleted products until the panel closes). */
  undo: string[] | undefined;
  setUndo: (ids: string[] | undefined) => void;
  /** The next page, if there is one and none is on its way. */
  loadMore: () => Promise<void>;
  /** After a new first page: where to scroll (a saved position, else to the focus). */
  scrollAfterPage: MutableRef<{ top?: number } | undefined>;
}

export function useGallery(init: InitialState, saved: SavedState | undefined, announce: (text: string) => void): Gallery {
  // A recreated webview restores what it saved; a new panel paints the HTML's page. Both ask
  // for the current one at once (below).
  const [grid, dispatch] = useReducer(reduceGrid, undefined, () => (saved ? initialGrid(saved.filter, undefined, saved) : initialGrid(init.filter, init.page)));
  const [facets, setFacets] = useState<Facets>({ providers: [], models: [], tags: [] });
  const [undo, setUndo] = useState<string[] | undefined>();
  /** The latest state, for handlers that run outside a render (host messages, replies). */
  const latest = useRef<GridState>(grid);
  latest.current = grid;
  const loading = useRef(false);
  /** The next page's cursor, set as soon as a page comes (the state has it a render later). */
  const cursor = useRef(grid.next);
  const queryId = useRef(0);
  /** Live messages that came while a first page was on its way: applied again on top of it. */
  const arrivedMeanwhile = useRef<LiveMessage[] | undefined>();
  const scrollAfterPage = useRef<{ top?: number } | undefined>(saved ? { top: saved.scrollTop } : undefined);

  // A first page for a filter (a new one, or the same one to catch up). It keeps the focus
  // and the selection on the same products where the results hold them; stale replies (an
  // older keystroke) are ignored.
  const refetch = useCallback(async (f: Filter, focusId?: string) => {
    const mine = ++queryId.current;
    cursor.current = undefined; // no next page of the old results meanwhile
    arrivedMeanwhile.current = [];
    const s = latest.current;
    const asked = focusId ?? s.focusId;
    let page;
    try {
      page = await request('query', { filter: f, limit: PAGE, focus: asked, keep: s.selected.size ? [...s.selected].slice(0, 1000) : undefined });
    } catch (e) {
      if (mine === queryId.current) announce((e as Error).message);
      return;
    }
    if (mine !== queryId.current) return;
    const meanwhile = arrivedMeanwhile.current ?? [];
    arrivedMeanwhile.current = undefined;
    cursor.current = page.next;
    dispatch({ type: 'page', page, append: false, focus: asked, moveFocus: focusId !== undefined });
    for (const msg of meanwhile) dispatch({ type: 'live', msg });
    scrollAfterPage.current ??= {};
  }, []);

  const loadMore = useCallback(async () => {
    if (loading.current || !cursor.current) return;
    loading.current = true;
    const mine = queryId.current;
    try {
      const page = await request('query', { filter: latest.current.filter, after: cursor.current, limit: PAGE });
      if (mine !== queryId.current) return;
      cursor.current = page.next;
      dispatch({ type: 'page', page, append: true });
    } finally {
      loading.current = false;
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
        productsDeleted: (m) => live({ type: 'productsDeleted', ...m }),
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

  return { grid, dispatch, setFilter, facets, undo, setUndo, loadMore, scrollAfterPage };
}
