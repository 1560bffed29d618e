// Compare (`c`): 2–4 products side by side, their parameters in one table with the differences
// highlighted.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Json, ProductDetail } from '../../protocol.ts';
import { request } from '../rpc.ts';
import { Button } from './Button.tsx';

export function Compare({ ids, onClose }: { ids: string[]; onClose: () => void }) {
  const [items, setItems] = useState<ProductDetail[]>([]);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    void Promise.all(ids.map((id) => request('getProduct', { id }))).then(setItems);
  }, [ids.join(',')]);
  useEffect(() => ref.current?.focus(), [items.length]);
  const rows = useMemo(() => {
    const flat = items.map((d): Record<string, Json | undefined> => ({ provider: d.record.provider, model: d.record.model, seed: d.record.seed, ...d.record.input }));
    const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
    return keys.map((k) => {
      const values = flat.map((f) => {
        const v = f[k];
        return v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);
      });
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
