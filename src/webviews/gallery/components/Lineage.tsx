// The detail view's lineage: "Made from" (the images this product was made from; a click opens
// that product) and "Used in" (the products made from this one). It follows new products live,
// so a job that finishes from this image shows up here while the detail is open.
import { useState } from 'preact/hooks';
import type { Lineage as LineageData, LineageSource, Tile } from '../../protocol.ts';
import { useHostMessages } from '../hooks/useHostMessages.ts';
import { request } from '../rpc.ts';

function Source({ s, onOpen }: { s: LineageSource; onOpen: (id: string) => void }) {
  if (s.tile) return <Thumb t={s.tile} field={s.field} onOpen={onOpen} />;
  const what = s.path ? s.path : s.product ? `product ${s.product} (deleted)` : 'an inline image';
  return (
    <li class="lineage-item missing">
      <span class="lineage-field">{s.field}</span> <span class="mono">{what}</span>
    </li>
  );
}

function Thumb({ t, field, onOpen }: { t: Tile; field?: string; onOpen: (id: string) => void }) {
  const name = t.prompt || `${t.model} output`;
  return (
    <li class="lineage-item">
      <button type="button" class="lineage-thumb" title={`${field ? `${field}: ` : ''}${name}`} aria-label={`${field ? `${field}: ` : ''}${t.media === 'video' ? 'video, ' : ''}${name}. Open it.`} onClick={() => onOpen(t.id)}>
        {t.thumb ? <img src={t.thumb} alt="" draggable={false} /> : <span class="placeholder">{t.media}</span>}
        {t.media === 'video' && (
          <span class="media-badge" aria-hidden="true">
            ▶
          </span>
        )}
      </button>
      {field && <span class="lineage-field">{field}</span>}
    </li>
  );
}

export function Lineage({ id, onOpen }: { id: string; onOpen: (id: string) => void }) {
  const [data, setData] = useState<LineageData | undefined>();
  useHostMessages(
    () => {
      let live = true;
      const load = () =>
        void request('lineage', { id }).then(
          (d) => live && setData(d),
          () => live && setData(undefined),
        );
      // A product made from this one may finish while the detail is open.
      return { handlers: { productAdded: load, productsDeleted: load, reset: load }, listening: load, stop: () => (live = false) };
    },
    [id],
  );
  if (!data || (data.madeFrom.length === 0 && data.usedIn.length === 0)) return null;
  return (
    <section class="lineage" aria-label="Lineage">
      {data.madeFrom.length > 0 && (
        <>
          <h3>Made from</h3>
          <ul class="lineage-list" aria-label="Made from">
            {data.madeFrom.map((s) => (
              <Source key={`${s.field}-${s.product ?? s.path}`} s={s} onOpen={onOpen} />
            ))}
          </ul>
        </>
      )}
      {data.usedIn.length > 0 && (
        <>
          <h3>
            Used in {data.usedInTotal > data.usedIn.length ? `(${data.usedIn.length} of ${data.usedInTotal})` : `(${data.usedInTotal})`}
          </h3>
          <ul class="lineage-list" aria-label="Used in">
            {data.usedIn.map((t) => (
              <Thumb key={t.id} t={t} onOpen={onOpen} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
