// The gallery app: a virtualized, keyboard-driven grid over thousands of products, with
// filters, search as you type, a detail view, compare, and live job tiles.
import './jitless.ts';
import { Component, render } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { DEFAULT_FILTER, Filter, InitialState, READ_ONLY_ACTIONS, type Action, type Facets, type Page, type ProductDetail, type Tile } from '../protocol.ts';
import { focusIndex, initialGrid, reduceGrid, type GridState, type LiveMessage } from './gridState.ts';
import { isEditable, useUndoKey } from './keys.ts';
import { Lineage } from './Lineage.tsx';
import { StatusLine } from './StatusLine.tsx';
import { onHostMessage, readSaved, request, saveState, viewChanged, vscode, type SavedState } from './rpc.ts';
// The controls are vscode-elements (Lit web components), imported one by one so the bundle
// carries only these; the virtualized grid's tiles stay plain DOM.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextarea } from '@vscode-elements/elements/dist/vscode-textarea/vscode-textarea.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import type { ComponentChildren, JSX } from 'preact';
import './gallery.css';

const GAP = 8;
const PAGE = 200;
/** How long the grid must be still before tiles that flew in load their images. */
const SETTLE_MS = 120;
const KEYS: [string, string][] = [
  ['← → ↑ ↓', 'Move between tiles'],
  ['Home / End', 'First / last tile'],
  ['Page Up / Page Down', 'Move a screen'],
  ['Enter', 'Open the detail view (← → for the previous / next product)'],
  ['Space', 'Select or unselect'],
  ['Shift + arrows / click', 'Extend the selection'],
  ['Ctrl/Cmd + click', 'Add to the selection'],
  ['f', 'Favourite'],
  ['1 – 5, 0', 'Rate, or clear the rating'],
  ['c', 'Compare the selected (2–4)'],
  ['Delete', 'Delete'],
  ['Ctrl/Cmd + Z', 'Undo the last delete (while the panel is open)'],
  ['/', 'Search prompts (Escape clears the search)'],
  ['Escape', 'Close, or clear the selection'],
  ['?', 'This list'],
];

/** The state the webview starts from. The page in the HTML was read when the panel was
 * created; a webview VS Code recreates (after being hidden, or after a reload) gets the same
 * HTML again, so it restores its own saved state instead. The HTML's page is painted only by
 * a new panel (or one shown for another scope), and only until the current one comes. */
function readInitial(): { init: InitialState; saved?: SavedState } {
  const el = document.getElementById('initial-state');
  const parsed = InitialState.safeParse(el ? JSON.parse(el.textContent || '{}') : {});
  const init: InitialState = parsed.success
    ? parsed.data
    : { scope: '', title: 'Gallery', filter: DEFAULT_FILTER, tileSize: 180, fit: false, page: { tiles: [], total: 0 }, facets: { providers: [], models: [], tags: [] } };
  const saved = readSaved();
  return { init, saved: saved && saved.scope === init.scope ? saved : undefined };
}

/** What a tile is called: its prompt, else an imported image's file name, else its model. */
function label(t: Tile): string {
  if (t.kind === 'job') return `${t.state === 'failed' ? 'Failed' : 'Generating'}: ${t.prompt || t.model}`;
  return t.prompt || t.name || `${t.provider} ${t.model}`;
}

/** The value of the vscode-element an event was dispatched on (Preact listens on the host). */
const valueOf = (e: Event) => (e.currentTarget as VscodeSingleSelect | VscodeTextfield | VscodeTextarea).value;

/**
 * A secondary vscode-button. It reflects `disabled` but sets no ARIA state, so `aria-disabled`
 * is set here for screen readers (and for tools that ask the accessibility tree).
 */
function Button({ disabled, children, ...rest }: JSX.HTMLAttributes<HTMLElement> & { disabled?: boolean; children?: ComponentChildren }) {
  return (
    <vscode-button secondary {...rest} disabled={!!disabled} aria-disabled={disabled ? 'true' : undefined}>
      {children}
    </vscode-button>
  );
}

function Select({ label, value, onChange, children }: { label: string; value: string; onChange: (v: string) => void; children: ComponentChildren }) {
  return (
    <vscode-single-select label={label} value={value} onChange={(e) => onChange(valueOf(e))}>
      {children}
    </vscode-single-select>
  );
}

function Stars({ value, onRate, size = 'small' }: { value: number; onRate?: (n: number) => void; size?: string }) {
  return (
    <span class={`stars ${size}`} role={onRate ? 'radiogroup' : undefined} aria-label={onRate ? 'Rating' : `Rated ${value} of 5`}>
      {[1, 2, 3, 4, 5].map((n) =>
        onRate ? (
          <button type="button" role="radio" aria-checked={value === n} aria-label={`${n} star${n > 1 ? 's' : ''}`} class={n <= value ? 'on' : ''} onClick={() => onRate(value === n ? 0 : n)}>
            {n <= value ? '★' : '☆'}
          </button>
        ) : (
          <span aria-hidden="true" class={n <= value ? 'on' : ''}>
            {n <= value ? '★' : '☆'}
          </span>
        ),
      )}
    </span>
  );
}

interface TileProps {
  t: Tile;
  index: number;
  selected: boolean;
  focused: boolean;
  size: number;
  /** False while the grid flies past (a fling, End, a dragged scrollbar): decoding images that
   * are gone a frame later is what makes fast scrolling stutter, so new tiles wait. */
  loadImage: boolean;
  onClick: (e: MouseEvent, i: number) => void;
  onOpen: (i: number) => void;
}

/** One tile. Scrolling re-renders the grid on every frame; a tile whose data did not change is
 * skipped (its handlers read the newest props when they run, so they are never stale). */
class TileView extends Component<TileProps> {
  override shouldComponentUpdate(n: TileProps): boolean {
    const p = this.props;
    return n.t !== p.t || n.index !== p.index || n.selected !== p.selected || n.focused !== p.focused || n.size !== p.size || (n.loadImage && !this.imageShown);
  }

  /** Once a tile shows its image it keeps it, however fast the grid moves afterwards. */
  private imageShown = false;
  private readonly click = (e: MouseEvent) => this.props.onClick(e, this.props.index);
  private readonly open = () => this.props.onOpen(this.props.index);

  override render({ t, selected, focused, size, loadImage }: TileProps) {
    this.imageShown ||= loadImage;
    return <TileBody t={t} selected={selected} focused={focused} size={size} showImage={this.imageShown} onClick={this.click} onDblClick={this.open} />;
  }
}

function TileBody({ t, selected, focused, size, showImage, onClick, onDblClick }: { t: Tile; selected: boolean; focused: boolean; size: number; showImage: boolean; onClick: (e: MouseEvent) => void; onDblClick: () => void }) {
  return (
    <div
      id={`tile-${t.id}`}
      role="gridcell"
      aria-selected={selected}
      aria-label={`${label(t)}${t.favorite ? ', favourite' : ''}${t.rating ? `, ${t.rating} stars` : ''}`}
      class={`tile ${t.kind} ${selected ? 'selected' : ''} ${focused ? 'focused' : ''} ${t.state === 'failed' ? 'failed' : ''}`}
      style={{ width: `${size}px`, height: `${size}px` }}
      onClick={(e) => onClick(e as unknown as MouseEvent)}
      onDblClick={onDblClick}
    >
      {t.kind === 'product' && t.thumb && !showImage ? (
        <div class="placeholder" />
      ) : t.kind === 'product' && t.thumb ? (
        <>
          <img src={t.thumb} alt={`${t.media === 'video' ? 'Video: ' : ''}${t.prompt || t.name || `${t.model} output`}`} decoding="async" draggable={false} />
          {t.media === 'video' && (
            <span class="media-badge" aria-hidden="true">
              ▶
            </span>
          )}
        </>
      ) : t.kind === 'product' ? (
        <div class="placeholder">{t.media}</div>
      ) : (
        <div class="placeholder job">
          <span class="job-state">{t.state === 'failed' ? `Failed: ${t.error ?? ''}` : (t.status ?? t.state)}</span>
          {t.progress !== undefined && t.state !== 'failed' && (
            <div class="progress" role="progressbar" aria-label="Progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(t.progress * 100)}>
              <div style={{ width: `${Math.round(t.progress * 100)}%` }} />
            </div>
          )}
        </div>
      )}
      <div class="badges" aria-hidden="true">
        {t.favorite && <span class="fav">♥</span>}
        {t.rating > 0 && <Stars value={t.rating} />}
      </div>
    </div>
  );
}

function Help({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title" tabIndex={-1} ref={ref} onKeyDown={(e) => {
        if (e.key === 'Escape' || e.key === '?') {
          e.stopPropagation();
          onClose();
        }
      }}>
      <div class="panel help">
        <h2 id="help-title">Keyboard</h2>
        <table>
          <tbody>
            {KEYS.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">
                  <kbd>{k}</kbd>
                </th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Button onClick={onClose}>Close</Button>
      </div>
    </div>
  );
}

/** A product's detail. It takes the grid's keys: f, 1–5 and 0, Delete, and ← → for the
 * previous and next product (`onStep` moves the grid's focus, which this view follows);
 * `onOpen` shows another product (one it was made from, or made into). */
function Detail({ id, onClose, onAction, onUpdate, onStep, onOpen, readOnly }: { id: string; onClose: () => void; onAction: (a: Action, ids: string[]) => void; onUpdate: (ids: string[], patch: Record<string, unknown>) => Promise<void>; onStep: (delta: number) => void; onOpen: (id: string) => void; readOnly?: boolean }) {
  const [d, setD] = useState<ProductDetail | undefined>();
  const [error, setError] = useState('');
  const [fit, setFit] = useState(true);
  const ref = useRef<HTMLDivElement>(null);
  const load = useCallback(() => request<ProductDetail>('getProduct', { id }).then(setD, (e: Error) => setError(e.message)), [id]);
  useEffect(() => {
    setD(undefined); // another product: no key acts on the last one's data meanwhile
    setError('');
    void load();
  }, [load]);
  // Into the dialog when it shows a product (opened, or stepped to another), and only while the
  // panel has the keyboard: data that loads late never pulls it back from an editor.
  useEffect(() => {
    if (d && document.hasFocus()) ref.current?.focus();
  }, [d?.tile.id]);
  const rec = d?.record as Record<string, unknown> | undefined;
  const update = async (patch: Record<string, unknown>) => {
    await onUpdate([id], patch);
    await load();
  };
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="detail-title" tabIndex={-1} ref={ref} onKeyDown={(e) => {
        const handled = () => {
          e.preventDefault();
          e.stopPropagation();
        };
        if (e.key === 'Escape') {
          handled();
          onClose();
        } else if (isEditable(e) || e.ctrlKey || e.metaKey || e.altKey) {
          return;
        } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
          handled();
          onStep(e.key === 'ArrowLeft' ? -1 : 1);
        } else if (e.key === 'f' && d?.tile.id === id) {
          handled();
          void update({ favorite: !d.tile.favorite });
        } else if (/^[0-5]$/.test(e.key)) {
          handled();
          void update({ rating: Number(e.key) });
        } else if (e.key === 'Delete' || e.key === 'Backspace') {
          handled();
          onAction('delete', [id]);
        }
      }}>
      <div class="panel detail">
        <header>
          <h2 id="detail-title">{d ? d.tile.prompt || d.tile.name || d.tile.model : 'Loading…'}</h2>
          <Button onClick={onClose} aria-label="Close detail">
            ✕
          </Button>
        </header>
        {error && <p class="error">{error}</p>}
        {d && rec && (
          <div class="detail-body">
            <div class={`media ${fit ? 'fit' : 'zoom'}`}>
              {d.tile.media === 'video' ? (
                <video src={d.tile.src} poster={d.tile.thumb} controls aria-label={d.tile.prompt || 'video'} />
              ) : (
                <img src={d.tile.src} alt={d.tile.prompt || d.tile.name || 'product'} onClick={() => setFit(!fit)} />
              )}
            </div>
            <aside>
              <div class="actions">
                <Button aria-pressed={d.tile.favorite ? 'true' : 'false'} onClick={() => update({ favorite: !d.tile.favorite })}>
                  {d.tile.favorite ? '♥ Favourite' : '♡ Favourite'}
                </Button>
                <Stars value={d.tile.rating} onRate={(n) => update({ rating: n })} size="large" />
                <Button onClick={() => setFit(!fit)}>{fit ? 'Zoom 100%' : 'Fit'}</Button>
              </div>
              <div class="actions">
                {(
                  [
                    ['reuse', 'Reuse Parameters'],
                    ['useAsInput', 'Use as Input…'],
                    ['saveTemplate', 'Save as Template'],
                    ['rerun', 'Re-run (same seed)'],
                    ['rerunNewSeed', 'Re-run (new seed)'],
                    ['copyPrompt', 'Copy Prompt'],
                    ['reveal', 'Reveal in File Manager'],
                    ['openFile', 'Open File'],
                    ['delete', 'Delete'],
                  ] as [Action, string][]
                ).filter(([a]) => !readOnly || READ_ONLY_ACTIONS.includes(a)).map(([a, text]) => (
                  <Button key={a} class={a === 'delete' ? 'danger' : undefined} onClick={() => onAction(a, [id])}>
                    {text}
                  </Button>
                ))}
              </div>
              <Lineage id={id} onOpen={onOpen} />
              <vscode-divider />
              <label>
                Tags (comma separated)
                <vscode-textfield label="Tags (comma separated)" value={d.tile.tags.join(', ')} onChange={(e) => update({ tags: valueOf(e).split(',').map((s) => s.trim()).filter(Boolean) })} />
              </label>
              <label>
                Notes
                <vscode-textarea label="Notes" rows={3} value={String(rec.notes ?? '')} onChange={(e) => update({ notes: valueOf(e) })} />
              </label>
              <dl>
                <dt>Provider</dt>
                <dd>{String(rec.provider)}</dd>
                <dt>Model</dt>
                <dd>{String(rec.model)}</dd>
                <dt>Seed</dt>
                <dd>{String(rec.seed ?? '—')}</dd>
                <dt>Size</dt>
                <dd>{rec.width ? `${String(rec.width)} × ${String(rec.height)}` : '—'}</dd>
                <dt>Timings</dt>
                <dd>{rec.timings ? Object.entries(rec.timings as Record<string, number>).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ') : '—'}</dd>
                <dt>Cost</dt>
                <dd>{rec.cost ? `${(rec.cost as { amount: number; currency: string }).amount} ${(rec.cost as { currency: string }).currency}` : '—'}</dd>
                <dt>Request id</dt>
                <dd class="mono">{String(rec.requestId ?? '—').slice(0, 80)}</dd>
                <dt>File</dt>
                <dd class="mono">{d.path}</dd>
                <dt>Created</dt>
                <dd>{new Date(String(rec.createdAt)).toLocaleString()}</dd>
              </dl>
              <h3>Parameters</h3>
              <pre class="json">{JSON.stringify(rec.input, null, 2)}</pre>
            </aside>
          </div>
        )}
      </div>
    </div>
  );
}

function Compare({ ids, onClose }: { ids: string[]; onClose: () => void }) {
  const [items, setItems] = useState<ProductDetail[]>([]);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    void Promise.all(ids.map((id) => request<ProductDetail>('getProduct', { id }))).then(setItems);
  }, [ids.join(',')]);
  useEffect(() => ref.current?.focus(), [items.length]);
  const rows = useMemo(() => {
    const flat = items.map((d) => ({ provider: d.record.provider, model: d.record.model, seed: d.record.seed, ...(d.record.input as Record<string, unknown>) }) as Record<string, unknown>);
    const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
    return keys.map((k) => {
      const values = flat.map((f) => (f[k] === undefined ? '—' : typeof f[k] === 'string' ? (f[k] as string) : JSON.stringify(f[k])));
      return { key: k, values, differs: new Set(values).size > 1 };
    });
  }, [items]);
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="compare-title" tabIndex={-1} ref={ref} onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}>
      <div class="panel compare">
        <header>
          <h2 id="compare-title">Compare {ids.length} products</h2>
          <Button onClick={onClose} aria-label="Close compare">
            ✕
          </Button>
        </header>
        <div class="compare-images" style={{ gridTemplateColumns: `repeat(${Math.max(1, items.length)}, 1fr)` }}>
          {items.map((d) => (
            <figure key={d.tile.id}>
              <img src={d.tile.src} alt={d.tile.prompt || 'product'} />
            </figure>
          ))}
        </div>
        <table class="compare-table">
          <caption>Parameters; differences are highlighted</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              {items.map((d, i) => (
                <th scope="col" key={d.tile.id}>
                  #{i + 1}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} class={r.differs ? 'differs' : ''}>
                <th scope="row">
                  {r.key}
                  {r.differs && <span class="sr-only"> (differs)</span>}
                </th>
                {r.values.map((v, i) => (
                  <td key={i}>{v}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function App({ init, saved }: { init: InitialState; saved?: SavedState }) {
  // A recreated webview restores what it saved; a new panel paints the HTML's page. Both ask
  // for the current one at once (below).
  const [grid, dispatch] = useReducer(reduceGrid, undefined, () => (saved ? initialGrid(saved.filter, undefined, saved) : initialGrid(init.filter, init.page)));
  const { filter, tiles, total } = grid;
  const focus = focusIndex(grid);
  const [tileSize, setTileSize] = useState(saved?.tileSize ?? init.tileSize);
  const [fit, setFit] = useState(saved?.fit ?? init.fit ?? false);
  const [facets, setFacets] = useState<Facets>(init.facets);
  /** The latest state, for handlers that run outside a render (host messages, replies). */
  const latest = useRef<GridState>(grid);
  latest.current = grid;
  const loading = useRef(false);
  /** The next page's cursor, set as soon as a page comes (the state has it a render later). */
  const cursor = useRef(grid.next);
  const queryId = useRef(0);
  /** Live messages that came while a first page was on its way: applied again on top of it. */
  const arrivedMeanwhile = useRef<LiveMessage[] | undefined>();
  /** After a new first page: where to scroll (a saved position, else to the focus). */
  const scrollAfterPage = useRef<{ top?: number } | undefined>(saved ? { top: saved.scrollTop } : undefined);
  // The detail view shows the focused product, or `id` (a product it was made from, or into).
  const [view, setView] = useState<{ kind: 'grid' } | { kind: 'detail'; id?: string } | { kind: 'compare'; ids: string[] } | { kind: 'help' }>({ kind: 'grid' });
  const [announce, setAnnounce] = useState('');
  const [filtersOpen, setFiltersOpen] = useState(false);
  /** What Undo restores, as the host says (it holds the deleted products until the panel closes). */
  const [undo, setUndo] = useState<string[] | undefined>();
  const gridRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<VscodeTextfield>(null);
  const [viewport, setViewport] = useState({ top: 0, width: 800, height: 600 });
  // Moving more than half a screen between two scroll events is flying past: new tiles wait
  // for their images until the grid has been still (or slow) for a moment.
  const [flying, setFlying] = useState(false);
  const settle = useRef<ReturnType<typeof setTimeout>>();
  const onGridScroll = (el: HTMLDivElement) => {
    const top = el.scrollTop;
    setViewport((v) => {
      if (Math.abs(top - v.top) > v.height / 2) {
        setFlying(true);
        clearTimeout(settle.current);
        settle.current = setTimeout(() => setFlying(false), SETTLE_MS);
      }
      return { ...v, top };
    });
  };

  const cols = Math.max(1, Math.floor((viewport.width - GAP) / (tileSize + GAP)));
  const rowH = tileSize + GAP;
  const rowCount = Math.ceil(total / cols);
  const visibleRows = Math.max(1, Math.floor(viewport.height / rowH));

  // A first page for a filter (a new one, or the same one to catch up). It keeps the focus
  // and the selection on the same products where the results hold them; stale replies (an
  // older keystroke) are ignored.
  const refetch = useCallback(async (f: Filter, focusId?: string) => {
    const mine = ++queryId.current;
    cursor.current = undefined; // no next page of the old results meanwhile
    arrivedMeanwhile.current = [];
    const s = latest.current;
    const asked = focusId ?? s.focusId;
    let page: Page;
    try {
      page = await request<Page>('query', { filter: f, limit: PAGE, focus: asked, keep: s.selected.size ? [...s.selected].slice(0, 1000) : undefined });
    } catch (e) {
      if (mine === queryId.current) setAnnounce((e as Error).message);
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
      const page = await request<Page>('query', { filter: latest.current.filter, after: cursor.current, limit: PAGE });
      if (mine !== queryId.current) return;
      cursor.current = page.next;
      dispatch({ type: 'page', page, append: true });
    } finally {
      loading.current = false;
    }
  }, []);

  // Every webview catches up at once: the current page and the filters' choices. A recreated
  // one has only its saved state; a new one painted the HTML's page, which may be old already
  // (VS Code can hide a panel before its page first runs, and then recreates it from that HTML
  // with nothing saved).
  useEffect(() => {
    void refetch(filter);
    void request<Facets>('facets', {}).then(setFacets, () => undefined);
  }, []);

  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    // Every keystroke asks at once (a query takes milliseconds); an older reply is ignored.
    const t = setTimeout(() => void refetch(filter), 0);
    return () => clearTimeout(t);
  }, [filter]);

  useEffect(() => viewChanged(filter, tileSize, fit), [tileSize, fit]);

  // What VS Code restores when it recreates the webview: the filter, the view, the focused and
  // selected products at once, and the scroll position at most every 200 ms while scrolling.
  const snapshot = (): SavedState => ({ scope: init.scope, filter, tileSize, fit, focusId: tiles[focus]?.id, selected: [...grid.selected].slice(0, 1000), scrollTop: viewport.top });
  // (In the render's own task: VS Code may hide the panel right after a key.)
  useLayoutEffect(() => saveState(snapshot()), [filter, tileSize, fit, grid.selected, tiles[focus]?.id]);
  useEffect(() => {
    const t = setTimeout(() => saveState(snapshot()), 200);
    return () => clearTimeout(t);
  }, [viewport.top]);

  useLayoutEffect(() => {
    const el = gridRef.current;
    if (!el) return;
    const measure = () => setViewport({ top: el.scrollTop, width: el.clientWidth, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // The keyboard is the grid's from the first key: when the panel opens, and whenever VS Code
  // gives the webview the focus (revealed, its tab clicked) with nothing inside focused.
  useEffect(() => {
    const toGrid = () => {
      const a = document.activeElement;
      if (!a || a === document.body || a === document.documentElement) gridRef.current?.focus({ preventScroll: true });
    };
    toGrid();
    window.addEventListener('focus', toGrid);
    return () => window.removeEventListener('focus', toGrid);
  }, []);

  const firstRow = Math.max(0, Math.floor(viewport.top / rowH) - 2);
  const lastRow = Math.min(rowCount - 1, Math.ceil((viewport.top + viewport.height) / rowH) + 2);

  // Fetch pages until the visible rows are loaded (keyset pages come in order).
  useEffect(() => {
    if ((lastRow + 1) * cols > tiles.length && grid.next) void loadMore();
  }, [lastRow, cols, tiles.length, loadMore]);

  // Focus follows into unloaded territory: fetch until the focused tile is there.
  useEffect(() => {
    if (focus >= tiles.length && grid.next) void loadMore();
  }, [focus, tiles.length, loadMore]);

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

  // After a new first page: back to the saved scroll position, else to the focused product.
  // When products arrive or go around the focused one, the focused product keeps its row on
  // screen (the grid scrolls with it), unless the grid is at the top, where new ones show.
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

  // Live updates from the host.
  useEffect(
    () =>
      onHostMessage((m) => {
        if (m.type === 'jobUpdated' || m.type === 'productAdded' || m.type === 'productsChanged' || m.type === 'productsDeleted') {
          arrivedMeanwhile.current?.push(m);
          dispatch({ type: 'live', msg: m });
          if (m.type === 'jobUpdated' && m.tile.state === 'failed') setAnnounce(`Generation failed: ${m.tile.error ?? m.tile.prompt}`);
          if (m.type === 'productAdded') setAnnounce(`Finished: ${m.tile.prompt || m.tile.name || m.tile.model}`);
        } else if (m.type === 'reset') {
          void refetch(latest.current.filter, m.focus);
        } else if (m.type === 'facets') {
          setFacets(m.facets);
        } else if (m.type === 'undoable') {
          setUndo(m.ids.length ? m.ids : undefined);
        }
      }),
    [refetch],
  );

  const moveTo = (i: number, extend: boolean) => {
    if (total === 0) return;
    const clamped = Math.max(0, Math.min(total - 1, i));
    dispatch({ type: 'focus', index: clamped, extend });
    ensureVisible(clamped);
  };

  /** The selected tiles that are products (running or failed jobs cannot be exported). */
  const selected = grid.selected;
  const selectedProductIds = useMemo(() => {
    if (!selected.size) return [];
    const products = new Set(tiles.filter((t) => t.kind === 'product' && selected.has(t.id)).map((t) => t.id));
    return [...selected].filter((id) => products.has(id));
  }, [selected, tiles]);
  const selectedProducts = () => selectedProductIds;

  const targets = (): string[] => {
    const ids = selected.size ? [...selected] : tiles[focus] ? [tiles[focus].id] : [];
    return ids.filter((id) => tiles.find((t) => t.id === id)?.kind === 'product');
  };

  const update = useCallback(async (ids: string[], patch: Record<string, unknown>) => {
    if (!ids.length) return;
    // A refusal (Restricted Mode, a product gone) is said, not lost.
    await request('update', { ids, patch }).catch((e: Error) => setAnnounce(e.message));
  }, []);

  const act = useCallback(async (action: Action, ids: string[]) => {
    if (!ids.length) return;
    try {
      const note = await request<string | null>('action', { ids, action });
      // A product opened from another's detail goes: the detail follows the grid's focus again.
      if (action === 'delete') setView((v) => (v.kind === 'detail' && v.id && ids.includes(v.id) ? { kind: 'detail' } : v));
      if (action === 'delete') setAnnounce(`Deleted ${ids.length} product${ids.length > 1 ? 's' : ''}. Ctrl+Z (Cmd+Z) brings ${ids.length > 1 ? 'them' : 'it'} back.`);
      else if (note) setAnnounce(note);
    } catch (e) {
      setAnnounce((e as Error).message);
    }
  }, []);

  const undoDelete = () => {
    if (!undo) return;
    void act('undoDelete', undo);
    setUndo(undefined);
  };
  useUndoKey(undoDelete);

  /** The detail view shows the focused product; ← → step to the previous or next product. */
  const step = (delta: number) => {
    setView({ kind: 'detail' });
    for (let i = focus + delta; i >= 0 && i < tiles.length; i += delta) {
      if (tiles[i].kind === 'product') return moveTo(i, false);
    }
  };
  const detailId = view.kind !== 'detail' ? undefined : view.id ?? (tiles[focus]?.kind === 'product' ? tiles[focus].id : undefined);
  // The product in the detail view was deleted and nothing is left to show: back to the grid.
  useEffect(() => {
    if (view.kind === 'detail' && !detailId) closeOverlay();
  }, [view.kind, detailId]);

  const closeOverlay = () => {
    setView({ kind: 'grid' });
    gridRef.current?.focus();
  };

  const onKey = (e: KeyboardEvent) => {
    if (view.kind !== 'grid') return;
    const t = tiles[focus];
    const k = e.key;
    const handled = () => {
      e.preventDefault();
      e.stopPropagation();
    };
    if (e.altKey || e.ctrlKey || e.metaKey) return; // the editor's and the panel's own keys
    if (k === 'ArrowRight') {
      handled();
      moveTo(focus + 1, e.shiftKey);
    }
    else if (k === 'ArrowLeft') {
      handled();
      moveTo(focus - 1, e.shiftKey);
    }
    else if (k === 'ArrowDown') {
      handled();
      moveTo(focus + cols, e.shiftKey);
    }
    else if (k === 'ArrowUp') {
      handled();
      moveTo(focus - cols, e.shiftKey);
    }
    else if (k === 'Home') {
      handled();
      moveTo(0, e.shiftKey);
    }
    else if (k === 'End') {
      handled();
      moveTo(total - 1, e.shiftKey);
    }
    else if (k === 'PageDown') {
      handled();
      moveTo(focus + cols * visibleRows, e.shiftKey);
    }
    else if (k === 'PageUp') {
      handled();
      moveTo(focus - cols * visibleRows, e.shiftKey);
    }
    else if (k === 'Enter' && t?.kind === 'product') {
      handled();
      setView({ kind: 'detail' });
    }
    else if (k === ' ' && t) {
      handled();
      dispatch({ type: 'toggleFocused' });
    } else if (k === 'f' && t?.kind === 'product') {
      handled();
      const ids = targets();
      void update(ids, { favorite: !t.favorite });
    } else if (/^[0-5]$/.test(k)) {
      handled();
      void update(targets(), { rating: Number(k) });
      setAnnounce(k === '0' ? 'Rating cleared' : `Rated ${k} star${k === '1' ? '' : 's'}`);
    } else if ((k === 'Delete' || k === 'Backspace') && t) {
      handled();
      void act('delete', targets());
    }
    else if (k === 'c') {
      handled();
      if (selected.size >= 2 && selected.size <= 4) setView({ kind: 'compare', ids: [...selected] });
      else setAnnounce(selected.size > 4 ? `Compare shows 2 to 4 products; ${selected.size} are selected.` : `Compare needs 2 to 4 selected products${selected.size ? '; 1 is selected' : ''}. Space or Ctrl/Cmd+click selects.`);
    }
    else if (k === '/') {
      handled();
      searchRef.current?.focus();
    }
    else if (k === '?') {
      handled();
      setView({ kind: 'help' });
    }
    else if (k === 'Escape' && selected.size) {
      handled();
      dispatch({ type: 'select', ids: [] });
    }
  };

  const onTileClick = (e: MouseEvent, i: number) => {
    if (!tiles[i]) return;
    gridRef.current?.focus();
    if (e.shiftKey) moveTo(i, true);
    else dispatch({ type: 'focus', index: i, select: e.ctrlKey || e.metaKey ? 'toggle' : 'only' });
  };

  const rows = [];
  for (let r = firstRow; r <= lastRow; r++) {
    const cells = [];
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (i >= total) break;
      const t = tiles[i];
      cells.push(
        t ? (
          <TileView key={t.id} t={t} index={i} size={tileSize} selected={selected.has(t.id)} focused={i === focus} loadImage={!flying} onClick={onTileClick} onOpen={(k) => {
              if (tiles[k]?.kind !== 'product') return;
              dispatch({ type: 'focus', index: k });
              setView({ kind: 'detail' });
            }} />
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

  const set = (patch: Partial<Filter>) => dispatch({ type: 'filter', filter: { ...filter, ...patch } });
  const activeFilters = [filter.provider?.length, filter.model?.length, filter.tags?.length, filter.minRating, filter.favorite, filter.from, filter.to].filter(Boolean).length;
  const focusedTile = tiles[focus];

  return (
    <div class="app">
      {init.readOnly && <p class="banner" role="note">Restricted Mode: {init.readOnly}</p>}
      <div class="toolbar" role="search">
        <vscode-textfield
          ref={searchRef}
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
              gridRef.current?.focus();
            }
          }}
        />
        <Select label="Sort" value={filter.sort} onChange={(v) => set({ sort: v as Filter['sort'] })}>
          <vscode-option value="newest">Newest first</vscode-option>
          <vscode-option value="oldest">Oldest first</vscode-option>
          <vscode-option value="rating">By rating</vscode-option>
          <vscode-option value="model">By model</vscode-option>
        </Select>
        <Select label="Status" value={filter.status} onChange={(v) => set({ status: v as Filter['status'] })}>
          <vscode-option value="all">Everything</vscode-option>
          <vscode-option value="products">Products only</vscode-option>
          <vscode-option value="running">Running jobs</vscode-option>
          <vscode-option value="failed">Failed jobs</vscode-option>
        </Select>
        {/* In a narrow panel (a half-width split) the filters fold behind this button. */}
        <Button class="filters-toggle" aria-expanded={filtersOpen ? 'true' : 'false'} aria-controls="filters" onClick={() => setFiltersOpen(!filtersOpen)}>
          Filters{activeFilters ? ` (${activeFilters})` : ''}
        </Button>
        <div id="filters" class={`filters ${filtersOpen ? 'open' : ''}`}>
        <Select label="Provider" value={filter.provider?.[0] ?? ''} onChange={(v) => set({ provider: v ? [v] : undefined })}>
          <vscode-option value="">All providers</vscode-option>
          {facets.providers.map((p) => (
            <vscode-option key={p} value={p}>
              {p}
            </vscode-option>
          ))}
        </Select>
        <Select label="Model" value={filter.model?.[0] ?? ''} onChange={(v) => set({ model: v ? [v] : undefined })}>
          <vscode-option value="">All models</vscode-option>
          {facets.models.map((m) => (
            <vscode-option key={m} value={m}>
              {m}
            </vscode-option>
          ))}
        </Select>
        <Select label="Tag" value={filter.tags?.[0] ?? ''} onChange={(v) => set({ tags: v ? [v] : undefined })}>
          <vscode-option value="">Any tag</vscode-option>
          {facets.tags.map((t) => (
            <vscode-option key={t} value={t}>
              {t}
            </vscode-option>
          ))}
        </Select>
        <Select label="Minimum rating" value={String(filter.minRating ?? 0)} onChange={(v) => set({ minRating: Number(v) || undefined })}>
          <vscode-option value="0">Any rating</vscode-option>
          {[1, 2, 3, 4, 5].map((n) => (
            <vscode-option key={n} value={String(n)}>
              {'★'.repeat(n)} and up
            </vscode-option>
          ))}
        </Select>
        <vscode-checkbox label="Favourites" checked={!!filter.favorite} onChange={(e) => set({ favorite: (e.currentTarget as VscodeCheckbox).checked || undefined })} />
        <label class="date">
          From
          <vscode-textfield type="date" label="From" value={filter.from?.slice(0, 10) ?? ''} onChange={(e) => set({ from: valueOf(e) || undefined })} />
        </label>
        <label class="date">
          To
          <vscode-textfield type="date" label="To" value={filter.to?.slice(0, 10) ?? ''} onChange={(e) => set({ to: valueOf(e) || undefined })} />
        </label>
        </div>
        <label class="size">
          Tile size
          <input type="range" min={96} max={400} step={8} value={tileSize} onInput={(e) => setTileSize(Number((e.target as HTMLInputElement).value))} />
        </label>
        <Button class="fit-toggle" aria-pressed={fit ? 'true' : 'false'} aria-label="Fit: show whole images" title={fit ? 'Thumbnails show the whole image; press to fill the tiles again' : 'Thumbnails fill their tiles; press to show whole images'} onClick={() => setFit(!fit)}>
          Fit
        </Button>
        <span class="count" aria-live="off">
          {total.toLocaleString()} {total === 1 ? 'item' : 'items'}
          {selected.size > 0 && ` · ${selected.size} selected`}
        </span>
        {selected.size > 0 && (
          <span class="bulk" role="group" aria-label="Selected products">
            <Button aria-label="Favourite the selected products" onClick={() => void update([...selected], { favorite: true })}>
              ♥
            </Button>
            <Button onClick={() => setView({ kind: 'compare', ids: [...selected] })} disabled={selected.size < 2 || selected.size > 4}>
              Compare
            </Button>
            <Button aria-label={`Use as input: the ${selectedProducts().length} selected products…`} onClick={() => void act('useAsInput', selectedProducts())} disabled={selectedProducts().length === 0}>
              Use as Input…
            </Button>
            <Button aria-label={`Export the ${selectedProducts().length} selected products…`} onClick={() => void act('export', selectedProducts())} disabled={selectedProducts().length === 0}>
              Export…
            </Button>
            <Button aria-label={`Make a contact sheet of the ${selectedProducts().length} selected products…`} onClick={() => void act('contactSheet', selectedProducts())} disabled={selectedProducts().length < 2}>
              Contact Sheet
            </Button>
            <Button class="danger" onClick={() => void act('delete', [...selected])}>
              Delete
            </Button>
          </span>
        )}
        {undo && (
          <Button title="Ctrl+Z / Cmd+Z" onClick={undoDelete}>
            Undo delete
          </Button>
        )}
        <Button aria-label="Keyboard shortcuts" onClick={() => setView({ kind: 'help' })}>
          ?
        </Button>
      </div>
      <div
        ref={gridRef}
        class={`grid ${fit ? 'fit' : ''}`}
        role="grid"
        tabIndex={0}
        aria-label={`${init.title}: ${total} items`}
        aria-rowcount={rowCount}
        aria-colcount={cols}
        aria-multiselectable="true"
        aria-activedescendant={focusedTile ? `tile-${focusedTile.id}` : undefined}
        onKeyDown={onKey as unknown as (e: Event) => void}
        onScroll={(e) => onGridScroll(e.target as HTMLDivElement)}
      >
        <div class="spacer" style={{ height: `${rowCount * rowH + GAP}px` }}>
          {rows}
        </div>
        {total === 0 && (
          <p class="empty">
            {!grid.loaded ? 'Loading…' : filter.text || filter.provider || filter.model || filter.tags || filter.favorite || filter.minRating || filter.from || filter.to ? 'Nothing matches these filters.' : 'No products yet. Run a parameter file with ▶ Generate.'}
          </p>
        )}
      </div>
      <StatusLine text={announce} onDone={() => setAnnounce('')} />
      {view.kind === 'detail' && detailId && <Detail id={detailId} onClose={closeOverlay} onAction={act} onUpdate={update} onStep={step} onOpen={(pid) => setView({ kind: 'detail', id: pid })} readOnly={!!init.readOnly} />}
      {view.kind === 'compare' && <Compare ids={view.ids} onClose={closeOverlay} />}
      {view.kind === 'help' && <Help onClose={closeOverlay} />}
    </div>
  );
}

const { init, saved } = readInitial();
render(<App init={init} saved={saved} />, document.getElementById('app')!);
vscode.postMessage({ type: 'ready' });
(window as unknown as { __galleryReady?: boolean }).__galleryReady = true;
