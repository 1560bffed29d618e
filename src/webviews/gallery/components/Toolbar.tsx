// The toolbar: search as you type, sort, status, the filters (folding in a narrow panel), tile
// size and fit, the count, what to do with the selection, undo, and the keyboard help.
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { Component } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatCost } from '../../../engine/cost/format.ts';
import { request } from '../rpc.ts';
import { SORTS, STATUSES, type Action, type Facets, type Filter, type Patch } from '../../protocol.ts';
import { valueOf } from '../controls.ts';
import { BulkActions } from './BulkActions.tsx';
import { Button } from './Button.tsx';
import { Filters } from './Filters.tsx';
import { Select } from './Select.tsx';

export interface ToolbarProps {
  searchRef: { current: VscodeTextfield | null };
  filter: Filter;
  set: (patch: Partial<Filter>) => void;
  facets: Facets;
  tileSize: number;
  setTileSize: (n: number) => void;
  fit: boolean;
  setFit: (fit: boolean) => void;
  total: number;
  selected: ReadonlySet<string>;
  /** The selected tiles that are products. */
  selectedProducts: string[];
  update: (ids: string[], patch: Patch) => void;
  act: (action: Action, ids: string[]) => void;
  compare: () => void;
  /** Undo is offered (the host holds deleted products). */
  canUndo: boolean;
  undo: () => void;
  help: () => void;
  /** Back to the grid (Escape with an empty search, Enter, ↓). */
  toGrid: () => void;
}

/** What the selected products cost together ("≈ $0.42 + 16 Buzz, 2 unknown"), asked of the host
 * a moment after the selection settles. */
function useSelectionCost(ids: string[]): string | undefined {
  const [text, setText] = useState<string>();
  const key = ids.length > 1000 ? '' : ids.join(',');
  useEffect(() => {
    if (!key) return setText(undefined);
    let live = true;
    const timer = setTimeout(() => {
      request('costSum', { ids: key.split(',') }).then(
        (r) => {
          if (!live) return;
          const money = r.sums.map((x) => formatCost(x)).join(' + ');
          setText(money ? `${money}${r.unknown ? `, ${r.unknown} unknown` : ''}` : r.unknown ? 'cost unknown' : undefined);
        },
        () => live && setText(undefined),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key]);
  return text;
}

function ToolbarView(p: ToolbarProps) {
  const { filter, set, selected } = p;
  const [filtersOpen, setFiltersOpen] = useState(false);
  const activeFilters = [filter.provider?.length, filter.model?.length, filter.tags?.length, filter.minRating, filter.favorite, filter.from, filter.to, filter.minCost !== undefined, filter.maxCost !== undefined].filter(Boolean).length;
  const cost = useSelectionCost(p.selectedProducts);
  return (
    <div class="toolbar" role="search">
      <vscode-textfield
        ref={p.searchRef}
        type="search"
        class="search"
        placeholder="Search prompts  ( / )"
        label="Search prompts"
        value={filter.text ?? ''}
        onInput={(e) => set({ text: valueOf(e) })}
        onKeyDown={(e) => {
          // Escape clears the search, as in a native search field; with nothing to clear, or
          // on Enter or ↓, the keys go back to the grid.
          if (e.key === 'Escape' && filter.text) {
            e.preventDefault();
            e.stopPropagation();
            set({ text: undefined });
          } else if (e.key === 'Escape' || e.key === 'Enter' || e.key === 'ArrowDown') {
            e.preventDefault();
            p.toGrid();
          }
        }}
      />
      <Select label="Sort" value={filter.sort} onChange={(v) => set({ sort: SORTS.find((s) => s === v) ?? filter.sort })}>
        <vscode-option value="newest">Newest first</vscode-option>
        <vscode-option value="oldest">Oldest first</vscode-option>
        <vscode-option value="rating">By rating</vscode-option>
        <vscode-option value="model">By model</vscode-option>
        <vscode-option value="cost">Costliest first</vscode-option>
      </Select>
      <Select label="Status" value={filter.status} onChange={(v) => set({ status: STATUSES.find((s) => s === v) ?? filter.status })}>
        <vscode-option value="all">Everything</vscode-option>
        <vscode-option value="products">Products only</vscode-option>
        <vscode-option value="running">Running jobs</vscode-option>
        <vscode-option value="failed">Failed jobs</vscode-option>
      </Select>
      {/* In a narrow panel (a half-width split) the filters fold behind this button. */}
      <Button class="filters-toggle" aria-expanded={filtersOpen ? 'true' : 'false'} aria-controls="filters" onClick={() => setFiltersOpen(!filtersOpen)}>
        Filters{activeFilters ? ` (${activeFilters})` : ''}
      </Button>
      <Filters filter={filter} facets={p.facets} open={filtersOpen} set={set} />
      <label class="size">
        Tile size
        <input type="range" min={96} max={400} step={8} value={p.tileSize} onInput={(e) => p.setTileSize(Number(e.currentTarget.value))} />
      </label>
      <Button class="fit-toggle" aria-pressed={p.fit ? 'true' : 'false'} aria-label="Fit: show whole images" title={p.fit ? 'Thumbnails show the whole image; press to fill the tiles again' : 'Thumbnails fill their tiles; press to show whole images'} onClick={() => p.setFit(!p.fit)}>
        Fit
      </Button>
      <span class="count" aria-live="off">
        {p.total.toLocaleString()} {p.total === 1 ? 'item' : 'items'}
        {selected.size > 0 && ` · ${selected.size} selected`}
        {cost && ` · ${cost}`}
      </span>
      {selected.size > 0 && <BulkActions selected={selected} products={p.selectedProducts} update={p.update} act={p.act} compare={p.compare} />}
      {p.canUndo && (
        <Button title="Ctrl+Z / Cmd+Z" onClick={p.undo}>
          Undo delete
        </Button>
      )}
      <Button aria-label="Keyboard shortcuts" onClick={p.help}>
        ?
      </Button>
    </div>
  );
}

/** The toolbar, rendered again only when one of its props changed (App keeps its handlers'
 * identities): scrolling re-renders the app on every frame, and the toolbar's controls
 * (vscode-elements, the filter lists) do not change with the scroll position. */
export class Toolbar extends Component<ToolbarProps> {
  override shouldComponentUpdate(next: ToolbarProps): boolean {
    const p = this.props as unknown as Record<string, unknown>;
    const n = next as unknown as Record<string, unknown>;
    return Object.keys(n).some((k) => n[k] !== p[k]);
  }

  override render(p: ToolbarProps) {
    return <ToolbarView {...p} />;
  }
}
