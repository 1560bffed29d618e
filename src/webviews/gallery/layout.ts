// The virtualized grid's geometry: how many columns fit, and which rows to render.

/** Space between tiles, and around the grid. */
export const GAP = 8;

export interface Viewport {
  top: number;
  width: number;
  height: number;
}

export interface GridLayout {
  cols: number;
  /** A row's height, with its gap. */
  rowH: number;
  rowCount: number;
  /** Whole rows on screen (Page Up / Page Down move this many). */
  visibleRows: number;
  /** The rows rendered: those on screen and two more on each side. */
  firstRow: number;
  lastRow: number;
}

export function gridLayout(v: Viewport, tileSize: number, total: number): GridLayout {
  const cols = Math.max(1, Math.floor((v.width - GAP) / (tileSize + GAP)));
  const rowH = tileSize + GAP;
  const rowCount = Math.ceil(total / cols);
  return {
    cols,
    rowH,
    rowCount,
    visibleRows: Math.max(1, Math.floor(v.height / rowH)),
    firstRow: Math.max(0, Math.floor(v.top / rowH) - 2),
    lastRow: Math.min(rowCount - 1, Math.ceil((v.top + v.height) / rowH) + 2),
  };
}
