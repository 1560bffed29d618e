// The keyboard is the grid's from the first key: it takes the focus when the panel opens or is
// revealed, and its keys move the focus, select, open, rate, favourite, delete, compare, search
// and show help. Keys with Alt, Ctrl or Cmd are the editor's (Ctrl/Cmd+Z the panel's: useUndoKey).
import { useEffect, type MutableRef } from 'preact/hooks';
import type { Action, Patch, Tile } from '../../protocol.ts';
import type { GridAction } from '../gridState.ts';
import type { View } from '../view.ts';

export interface GridKeys {
  view: View;
  /** The focused tile, when its page is loaded. */
  focused: Tile | undefined;
  total: number;
  focus: number;
  cols: number;
  visibleRows: number;
  selected: ReadonlySet<string>;
  /** Focus position `i` (clamped), scrolled into view; `extend` selects from the anchor. */
  moveTo: (i: number, extend: boolean) => void;
  dispatch: (a: GridAction) => void;
  /** The products a key acts on: the selection, else the focused product. */
  targets: () => string[];
  update: (ids: string[], patch: Patch) => void;
  act: (action: Action, ids: string[]) => void;
  setView: (v: View) => void;
  announce: (text: string) => void;
  search: () => void;
}

/** The grid's key handler; `gridRef`'s element takes the focus whenever VS Code gives the webview
 * the focus (revealed, its tab clicked) with nothing inside focused. */
export function useKeyboard(gridRef: MutableRef<HTMLDivElement | null>, k: GridKeys): (e: KeyboardEvent) => void {
  useEffect(() => {
    const toGrid = () => {
      const a = document.activeElement;
      if (!a || a === document.body || a === document.documentElement) gridRef.current?.focus({ preventScroll: true });
    };
    toGrid();
    window.addEventListener('focus', toGrid);
    return () => window.removeEventListener('focus', toGrid);
  }, []);

  return (e) => {
    if (k.view.kind !== 'grid') return;
    const { focus, cols, selected } = k;
    const t = k.focused;
    const key = e.key;
    const handled = () => {
      e.preventDefault();
      e.stopPropagation();
    };
    if (e.altKey || e.ctrlKey || e.metaKey) return; // the editor's and the panel's own keys
    const moves: Record<string, number> = { ArrowRight: focus + 1, ArrowLeft: focus - 1, ArrowDown: focus + cols, ArrowUp: focus - cols, Home: 0, End: k.total - 1, PageDown: focus + cols * k.visibleRows, PageUp: focus - cols * k.visibleRows };
    if (Object.hasOwn(moves, key)) {
      handled();
      k.moveTo(moves[key], e.shiftKey);
    } else if (key === 'Enter' && t?.kind === 'product') {
      handled();
      k.setView({ kind: 'detail' });
    } else if (key === ' ' && t) {
      handled();
      k.dispatch({ type: 'toggleFocused' });
    } else if (key === 'f' && t?.kind === 'product') {
      handled();
      k.update(k.targets(), { favorite: !t.favorite });
    } else if (/^[0-5]$/.test(key)) {
      handled();
      k.update(k.targets(), { rating: Number(key) });
      k.announce(key === '0' ? 'Rating cleared' : `Rated ${key} star${key === '1' ? '' : 's'}`);
    } else if ((key === 'Delete' || key === 'Backspace') && (t || selected.size)) {
      // The selection, even when the focused tile's page is not loaded (scrolled far away).
      handled();
      k.act('delete', k.targets());
    } else if (key === 'c') {
      handled();
      if (selected.size >= 2 && selected.size <= 4) k.setView({ kind: 'compare', ids: [...selected] });
      else k.announce(selected.size > 4 ? `Compare shows 2 to 4 products; ${selected.size} are selected.` : `Compare needs 2 to 4 selected products${selected.size ? '; 1 is selected' : ''}. Space or Ctrl/Cmd+click selects.`);
    } else if (key === '/') {
      handled();
      k.search();
    } else if (key === '?') {
      handled();
      k.setView({ kind: 'help' });
    } else if (key === 'Escape' && selected.size) {
      handled();
      k.dispatch({ type: 'select', ids: [] });
    }
  };
}
