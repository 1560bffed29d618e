// The grid scrolls with its focus. After a new first page: back to the saved scroll position,
// else to the focused product. When products arrive or go around the focused one, the focused
// product keeps its row on screen (the grid scrolls with it), unless the grid is at the top,
// where new ones show.
import { useCallback, useLayoutEffect, useRef, type MutableRef } from 'preact/hooks';
import type { GridState } from '../gridState.ts';

/** Returns `ensureVisible(i)`: scroll the least that shows position `i`. */
export function useFocusScroll(gridRef: MutableRef<HTMLDivElement | null>, grid: GridState, focus: number, cols: number, rowH: number, scrollAfterPage: MutableRef<{ top?: number } | undefined>): (i: number) => void {
  const ensureVisible = useCallback(
    (i: number) => {
      const el = gridRef.current;
      if (!el || i < 0) return;
      const row = Math.floor(i / cols);
      const top = row * rowH;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + rowH > el.scrollTop + el.clientHeight) el.scrollTop = top + rowH - el.clientHeight;
    },
    [cols, rowH],
  );

  const lastFocus = useRef({ id: grid.focusId, index: focus });
  useLayoutEffect(() => {
    const el = gridRef.current;
    const wanted = scrollAfterPage.current;
    if (el && wanted && grid.loaded) {
      scrollAfterPage.current = undefined;
      if (wanted.top !== undefined) el.scrollTop = wanted.top;
      ensureVisible(focus);
    } else if (el && lastFocus.current.id === grid.focusId && lastFocus.current.index !== focus && lastFocus.current.index >= 0 && focus >= 0) {
      const rows = Math.floor(focus / cols) - Math.floor(lastFocus.current.index / cols);
      if (el.scrollTop > 0 && rows !== 0) el.scrollTop += rows * rowH;
      else ensureVisible(focus);
    }
    lastFocus.current = { id: grid.focusId, index: focus };
  }, [grid, focus, cols, rowH, ensureVisible]);

  return ensureVisible;
}
