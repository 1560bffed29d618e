// What the toolbar offers for the selected tiles: favourite, compare, use as input, export, a
// contact sheet, delete. Running or failed jobs in the selection are left out of what needs
// products.
import type { Action, Patch } from '../../protocol.ts';
import { Button } from './Button.tsx';

export interface BulkActionsProps {
  selected: ReadonlySet<string>;
  /** The selected tiles that are products. */
  products: string[];
  update: (ids: string[], patch: Patch) => void;
  act: (action: Action, ids: string[]) => void;
  compare: () => void;
}

export function BulkActions({ selected, products, update, act, compare }: BulkActionsProps) {
  return (
    <span class="bulk" role="group" aria-label="Selected products">
      <Button aria-label="Favourite the selected products" onClick={() => update([...selected], { favorite: true })}>
        ♥
      </Button>
      <Button onClick={compare} disabled={selected.size < 2 || selected.size > 4}>
        Compare
      </Button>
      <Button aria-label={`Use as input: the ${products.length} selected products…`} onClick={() => act('useAsInput', products)} disabled={products.length === 0}>
        Use as Input…
      </Button>
      <Button aria-label={`Export the ${products.length} selected products…`} onClick={() => act('export', products)} disabled={products.length === 0}>
        Export…
      </Button>
      <Button aria-label={`Make a contact sheet of the ${products.length} selected products…`} onClick={() => act('contactSheet', products)} disabled={products.length < 2}>
        Contact Sheet
      </Button>
      <Button class="danger" onClick={() => act('delete', [...selected])}>
        Delete
      </Button>
    </span>
  );
}
