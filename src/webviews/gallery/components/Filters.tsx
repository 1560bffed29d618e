// The filters: provider, model, tag, minimum rating, favourites, cost and dates. In a narrow panel (a
// half-width split) they fold behind the toolbar's Filters button (`open`).
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { Facets, Filter } from '../../protocol.ts';
import { valueOf } from '../controls.ts';
import { Select } from './Select.tsx';

/** One of the facet's values, or any (`""`). */
function FacetSelect({ label, any, values, value, onChange }: { label: string; any: string; values: string[]; value: string | undefined; onChange: (v: string) => void }) {
  return (
    <Select label={label} value={value ?? ''} onChange={onChange}>
      <vscode-option value="">{any}</vscode-option>
      {values.map((v) => (
        <vscode-option key={v} value={v}>
          {v}
        </vscode-option>
      ))}
    </Select>
  );
}

/** A typed amount of dollars, or undefined (empty or not a number: no bound). */
function dollars(v: string): number | undefined {
  const n = Number(v.trim().replace(/^\$/, ''));
  return v.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function Filters({ filter, facets, open, set }: { filter: Filter; facets: Facets; open: boolean; set: (patch: Partial<Filter>) => void }) {
  return (
    <div id="filters" class={`filters ${open ? 'open' : ''}`}>
      <FacetSelect label="Provider" any="All providers" values={facets.providers} value={filter.provider?.[0]} onChange={(v) => set({ provider: v ? [v] : undefined })} />
      <FacetSelect label="Model" any="All models" values={facets.models} value={filter.model?.[0]} onChange={(v) => set({ model: v ? [v] : undefined })} />
      <FacetSelect label="Tag" any="Any tag" values={facets.tags} value={filter.tags?.[0]} onChange={(v) => set({ tags: v ? [v] : undefined })} />
      <Select label="Minimum rating" value={String(filter.minRating ?? 0)} onChange={(v) => set({ minRating: Number(v) || undefined })}>
        <vscode-option value="0">Any rating</vscode-option>
        {[1, 2, 3, 4, 5].map((n) => (
          <vscode-option key={n} value={String(n)}>
            {'★'.repeat(n)} and up
          </vscode-option>
        ))}
      </Select>
      <vscode-checkbox label="Favourites" checked={!!filter.favorite} onChange={(e) => set({ favorite: (e.currentTarget as VscodeCheckbox).checked || undefined })} />
      <label class="cost">
        Cost from $
        <vscode-textfield label="Cost at least, in US dollars" placeholder="0.00" value={filter.minCost === undefined ? '' : String(filter.minCost)} onChange={(e) => set({ minCost: dollars(valueOf(e)) })} />
      </label>
      <label class="cost">
        to $
        <vscode-textfield label="Cost at most, in US dollars" placeholder="any" value={filter.maxCost === undefined ? '' : String(filter.maxCost)} onChange={(e) => set({ maxCost: dollars(valueOf(e)) })} />
      </label>
      <label class="date">
        From
        <vscode-textfield type="date" label="From" value={filter.from?.slice(0, 10) ?? ''} onChange={(e) => set({ from: valueOf(e) || undefined })} />
      </label>
      <label class="date">
        To
        <vscode-textfield type="date" label="To" value={filter.to?.slice(0, 10) ?? ''} onChange={(e) => set({ to: valueOf(e) || undefined })} />
      </label>
    </div>
  );
}
