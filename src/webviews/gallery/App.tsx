// The gallery app: a virtualized, keyboard-driven grid over thousands of products, with
// filters, search as you type, a detail view, compare, and live job tiles. This file puts the
// parts together: the data (useGallery), the grid's geometry and scrolling, the keys, and the
// actions on products; each part is in its own file.
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Action, Filter, InitialState, Patch } from '../protocol.ts';
import { Compare } from './components/Compare.tsx';
import { Detail } from './components/Detail.tsx';
import { Grid } from './components/Grid.tsx';
import { Help } from './components/Help.tsx';
import { StatusLine } from './components/StatusLine.tsx';
import { Toolbar } from './components/Toolbar.tsx';
import { focusIndex, loadedEnd, tileAt } from './gridState.ts';
import { useFocusScroll } from './hooks/useFocusScroll.ts';
import { useGallery } from './hooks/useGallery.ts';
import { useKeyboard } from './hooks/useKeyboard.ts';
import { useSavedState } from './hooks/useSavedState.ts';
import { useUndoKey } from './hooks/useUndoKey.ts';
import { useViewport } from './hooks/useViewport.ts';
import { gridLayout } from './layout.ts';
import { request, viewChanged, type SavedState } from './rpc.ts';
import type { View } from './view.ts';

/** No selected products: one value, so the toolbar sees no change when pages come. */
const NO_IDS: string[] = [];

export function App({ init, saved }: { init: InitialState; saved?: SavedState }) {
  const [view, setView] = useState<View>({ kind: 'grid' });
  const [announce, setAnnounce] = useState('');
  const { grid, dispatch, setFilter, facets, undo, setUndo, load, loads, scrollAfterPage } = useGallery(init, saved, setAnnounce);
  const { filter, total, selected } = grid;
  const focus = focusIndex(grid);
  const at = (i: number) => tileAt(grid, i);
  const focused = at(focus);
  const [tileSize, setTileSize] = useState(saved?.tileSize ?? init.tileSize);
  const [fit, setFit] = useState(saved?.fit ?? init.fit ?? false);
  const gridRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<VscodeTextfield>(null);
  const { viewport, flying, onScroll } = useViewport(gridRef);
  const layout = gridLayout(viewport, tileSize, total);
  const { cols, rowH, firstRow, lastRow } = layout;

  useEffect(() => viewChanged(filter, tileSize, fit), [tileSize, fit]);
  useSavedState(() => ({ scope: init.scope, filter, tileSize, fit, focusId: grid.focusId, selected: [...selected].slice(0, 1000), scrollTop: viewport.top }), [filter, tileSize, fit, selected, grid.focusId], viewport.top);

  // Fetch pages until the visible rows are loaded, and the focused tile when the focus moved
  // into unloaded territory; pages far from both are dropped (gridState WINDOW).
  const shown: [number, number] = [firstRow * cols, Math.min(total, (lastRow + 1) * cols)];
  const keep: [number, number] = [Math.max(0, shown[0] - (shown[1] - shown[0])), shown[1] + (shown[1] - shown[0])];
  const end = loadedEnd(grid);
  useEffect(() => {
    if (shown[0] < grid.start || shown[1] > end) void load(shown[0], shown[1], keep);
    else if (grid.focusId === undefined && focus >= 0 && (focus < grid.start || focus >= end)) void load(focus, focus + 1, keep);
  }, [shown[0], shown[1], grid.start, end, focus, grid.focusId, loads, load]);

  const ensureVisible = useFocusScroll(gridRef, grid, focus, cols, rowH, scrollAfterPage);
  const moveTo = (i: number, extend: boolean) => {
    if (total === 0) return;
    const clamped = Math.max(0, Math.min(total - 1, i));
    dispatch({ type: 'focus', index: clamped, extend });
    ensureVisible(clamped);
  };

  /** The selected tiles that are products (running or failed jobs cannot be exported). */
  const selectedProducts = useMemo(() => {
    if (!selected.size) return NO_IDS;
    // A selected tile whose page is not loaded is taken for a product (job tiles come first,
    // and the host acts only on the products it finds).
    const jobs = new Set(grid.tiles.filter((t) => t.kind === 'job' && selected.has(t.id)).map((t) => t.id));
    return jobs.size ? [...selected].filter((id) => !jobs.has(id)) : [...selected];
  }, [selected, grid.tiles]);

  const targets = (): string[] => {
    if (!selected.size) return focused?.kind === 'product' ? [focused.id] : [];
    return selectedProducts;
  };

  const update = useCallback(async (ids: string[], patch: Patch) => {
    if (!ids.length) return;
    // A refusal (Restricted Mode, a product gone) is said, not lost.
    await request('update', { ids, patch }).catch((e: Error) => setAnnounce(e.message));
  }, []);

  const act = useCallback(async (action: Action, ids: string[]) => {
    if (!ids.length) return;
    try {
      const note = await request('action', { ids, action });
      // A product opened from another's detail goes: the detail follows the grid's focus again.
      if (action === 'delete') setView((v) => (v.kind === 'detail' && v.id && ids.includes(v.id) ? { kind: 'detail' } : v));
      if (action === 'delete') setAnnounce(`Deleted ${ids.length} product${ids.length > 1 ? 's' : ''}. Ctrl+Z (Cmd+Z) brings ${ids.length > 1 ? 'them' : 'it'} back.`);
      else if (note) setAnnounce(note);
    } catch (e) {
      setAnnounce((e as Error).message);
    }
  }, []);

  const undoDelete = useCallback(() => {
    if (!undo) return;
    setUndo(undefined);
    request('undoDelete', {}).then((note) => note && setAnnounce(note), (e: Error) => setAnnounce(e.message));
  }, [undo]);
  useUndoKey(undoDelete);
  // The toolbar's handlers keep their identity while what they use is unchanged, so the toolbar
  // (a memo) is not rendered again on every scroll frame.
  const setFilterPatch = useCallback((patch: Partial<Filter>) => setFilter({ ...filter, ...patch }), [filter]);
  const compare = useCallback(() => setView({ kind: 'compare', ids: [...selected] }), [selected]);
  const help = useCallback(() => setView({ kind: 'help' }), []);
  const toGrid = useCallback(() => gridRef.current?.focus(), []);

  /** The detail view shows the focused product; ← → step to the previous or next product. */
  const step = (delta: number) => {
    setView({ kind: 'detail' });
    for (let i = focus + delta; i >= grid.start && i < end; i += delta) {
      if (at(i)?.kind === 'product') return moveTo(i, false);
    }
  };
  const detailId = view.kind !== 'detail' ? undefined : (view.id ?? (focused?.kind === 'product' ? focused.id : undefined));
  const closeOverlay = () => {
    setView({ kind: 'grid' });
    gridRef.current?.focus();
  };
  // The product in the detail view was deleted and nothing is left to show: back to the grid.
  useEffect(() => {
    if (view.kind === 'detail' && !detailId) closeOverlay();
  }, [view.kind, detailId]);

  const onKey = useKeyboard(gridRef, {
    view, focused, total, focus, cols, visibleRows: layout.visibleRows, selected, moveTo, dispatch, targets,
    update: (ids, patch) => void update(ids, patch),
    act: (action, ids) => void act(action, ids),
    setView,
    announce: setAnnounce,
    search: () => searchRef.current?.focus(),
  });

  const onTileClick = (e: MouseEvent, i: number) => {
    if (!at(i)) return;
    gridRef.current?.focus();
    if (e.shiftKey) moveTo(i, true);
    else dispatch({ type: 'focus', index: i, select: e.ctrlKey || e.metaKey ? 'toggle' : 'only' });
  };
  const onOpen = (i: number) => {
    if (at(i)?.kind !== 'product') return;
    dispatch({ type: 'focus', index: i });
    setView({ kind: 'detail' });
  };

  return (
    <div class="app">
      {init.readOnly && <p class="banner" role="note">Restricted Mode: {init.readOnly}</p>}
      <Toolbar
        searchRef={searchRef}
        filter={filter}
        set={setFilterPatch}
        facets={facets}
        tileSize={tileSize}
        setTileSize={setTileSize}
        fit={fit}
        setFit={setFit}
        total={total}
        selected={selected}
        selectedProducts={selectedProducts}
        update={update}
        act={act}
        compare={compare}
        canUndo={!!undo}
        undo={undoDelete}
        help={help}
        toGrid={toGrid}
      />
      <Grid gridRef={gridRef} title={init.title} layout={layout} tiles={grid.tiles} start={grid.start} total={total} loaded={grid.loaded} filter={filter} focus={focus} selected={selected} tileSize={tileSize} fit={fit} flying={flying} onKeyDown={onKey} onScroll={onScroll} onTileClick={onTileClick} onOpen={onOpen} />
      <StatusLine text={announce} onDone={() => setAnnounce('')} />
      {view.kind === 'detail' && detailId && <Detail id={detailId} onClose={closeOverlay} onAction={act} onUpdate={update} onStep={step} onOpen={(pid) => setView({ kind: 'detail', id: pid })} readOnly={!!init.readOnly} />}
      {view.kind === 'compare' && <Compare ids={view.ids} onClose={closeOverlay} />}
      {view.kind === 'help' && <Help onClose={closeOverlay} />}
    </div>
  );
}
