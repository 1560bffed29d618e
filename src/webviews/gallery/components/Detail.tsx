// A product's detail: the image (fit or 100%), favourite and rating, the actions, lineage, tags,
// notes, what was recorded, and the parameters. It takes the grid's keys: f, 1–5 and 0, Delete,
// and ← → for the previous and next product (`onStep` moves the grid's focus, which this view
// follows); `onOpen` shows another product (one it was made from, or made into).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { READ_ONLY_ACTIONS, type Action, type Patch, type ProductDetail } from '../../protocol.ts';
import { valueOf } from '../controls.ts';
import { isEditable } from '../keys.ts';
import { request } from '../rpc.ts';
import { Button } from './Button.tsx';
import { Lineage } from './Lineage.tsx';
import { Stars } from './Stars.tsx';
import { formatCost } from '../../../engine/cost/format.ts';

const ACTION_BUTTONS: [Action, string][] = [
  ['reuse', 'Reuse Parameters'],
  ['useAsInput', 'Use as Input…'],
  ['saveTemplate', 'Save as Template'],
  ['rerun', 'Re-run (same seed)'],
  ['rerunNewSeed', 'Re-run (new seed)'],
  ['copyPrompt', 'Copy Prompt'],
  ['reveal', 'Reveal in File Manager'],
  ['openFile', 'Open File'],
  ['delete', 'Delete'],
];

export interface DetailProps {
  id: string;
  onClose: () => void;
  onAction: (a: Action, ids: string[]) => void;
  onUpdate: (ids: string[], patch: Patch) => Promise<void>;
  onStep: (delta: number) => void;
  onOpen: (id: string) => void;
  readOnly?: boolean;
}

export function Detail({ id, onClose, onAction, onUpdate, onStep, onOpen, readOnly }: DetailProps) {
  const [d, setD] = useState<ProductDetail | undefined>();
  const [error, setError] = useState('');
  const [fit, setFit] = useState(true);
  const ref = useRef<HTMLDivElement>(null);
  // The product shown now: an answer for another (a reload after `5` that comes back after → has
  // stepped on) is dropped, or the detail would show the last product under the next one's focus.
  const current = useRef(id);
  current.current = id;
  const load = useCallback(
    () =>
      request('getProduct', { id }).then(
        (detail) => void (current.current === id && setD(detail)),
        (e: Error) => void (current.current === id && setError(e.message)),
      ),
    [id],
  );
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
  const rec = d?.record;
  const update = async (patch: Patch) => {
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
                {ACTION_BUTTONS.filter(([a]) => !readOnly || READ_ONLY_ACTIONS.includes(a)).map(([a, text]) => (
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
                <vscode-textarea label="Notes" rows={3} value={rec.notes} onChange={(e) => update({ notes: valueOf(e) })} />
              </label>
              <dl>
                <dt>Provider</dt>
                <dd>{rec.provider}</dd>
                <dt>Model</dt>
                <dd>{rec.model}</dd>
                <dt>Seed</dt>
                <dd>{String(rec.seed ?? '—')}</dd>
                <dt>Size</dt>
                <dd>{rec.width ? `${rec.width} × ${String(rec.height)}` : '—'}</dd>
                <dt>Timings</dt>
                <dd>{rec.timings ? Object.entries(rec.timings).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ') : '—'}</dd>
                <dt>Cost</dt>
                <dd title={rec.cost?.estimated ? 'Worked out from a price table or the run time, not billed' : undefined}>{rec.cost ? formatCost(rec.cost) : 'unknown'}</dd>
                <dt>Request id</dt>
                <dd class="mono">{(rec.requestId ?? '—').slice(0, 80)}</dd>
                <dt>File</dt>
                <dd class="mono">{d.path}</dd>
                <dt>Created</dt>
                <dd>{new Date(rec.createdAt).toLocaleString()}</dd>
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
