// The virtualized grid: only the rows on screen (and two more on each side) are in the DOM;
// tiles not loaded yet show as skeletons. One ARIA grid, its active descendant the focused tile.
import type { Filter, Tile } from '../../protocol.ts';
import { GAP, type GridLayout } from '../layout.ts';
import { TileView } from './TileView.tsx';

export interface GridProps {
  gridRef: { current: HTMLDivElement | null };
  title: string;
  layout: GridLayout;
  /** The loaded tiles: positions [start, start + tiles.length). */
  tiles: Tile[];
  start: number;
  total: number;
  /** False until the first page of the current filter has come. */
  loaded: boolean;
  filter: Filter;
  focus: number;
  selected: ReadonlySet<string>;
  tileSize: number;
  fit: boolean;
  /** The grid flies past: new tiles wait for their images. */
  flying: boolean;
  onKeyDown: (e: KeyboardEvent) => void;
  onScroll: (el: HTMLDivElement) => void;
  onTileClick: (e: MouseEvent, i: number) => void;
  /** A double-click on tile `i`. */
  onOpen: (i: number) => void;
}

export function Grid({ gridRef, title, layout, tiles, start, total, loaded, filter, focus, selected, tileSize, fit, flying, onKeyDown, onScroll, onTileClick, onOpen }: GridProps) {
  const { cols, rowH, rowCount, firstRow, lastRow } = layout;
  const rows = [];
  for (let r = firstRow; r <= lastRow; r++) {
    const cells = [];
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (i >= total) break;
      const t = i >= start ? tiles[i - start] : undefined;
      cells.push(
        t ? (
          <TileView key={t.id} t={t} index={i} size={tileSize} selected={selected.has(t.id)} focused={i === focus} loadImage={!flying} onClick={onTileClick} onOpen={onOpen} />
        ) : (
          <div key={`s${i}`} role="gridcell" class="tile skeleton" style={{ width: `${tileSize}px`, height: `${tileSize}px` }} aria-label="Loading" />
        ),
      );
    }
    rows.push(
      <div key={r} role="row" aria-rowindex={r + 1} class="row" style={{ top: `${r * rowH}px`, gap: `${GAP}px` }}>
        {cells}
      </div>,
    );
  }
  const focusedTile = focus >= start ? tiles[focus - start] : undefined;
  const filtered = filter.text || filter.provider || filter.model || filter.tags || filter.favorite || filter.minRating || filter.from || filter.to;
  return (
    <div
      ref={gridRef}
      class={`grid ${fit ? 'fit' : ''}`}
      role="grid"
      tabIndex={0}
      aria-label={`${title}: ${total} items`}
      aria-rowcount={rowCount}
      aria-colcount={cols}
      aria-multiselectable="true"
      aria-activedescendant={focusedTile ? `tile-${focusedTile.id}` : undefined}
      onKeyDown={onKeyDown}
      onScroll={(e) => onScroll(e.currentTarget)}
    >
      <div class="spacer" style={{ height: `${rowCount * rowH + GAP}px` }}>
        {rows}
      </div>
      {total === 0 && <p class="empty">{!loaded ? 'Loading…' : filtered ? 'Nothing matches these filters.' : 'No products yet. Run a parameter file with ▶ Generate.'}</p>}
    </div>
  );
}
