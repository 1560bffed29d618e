// Lineage for the gallery's detail view: the products (or files) a product was made from, from
// its record, and the products made from it, from the database's lineage index.
import type { ProductRecord, ProjectDb } from '../storage/types.ts';
import { CAPS, type Lineage, type Tile } from './protocol.ts';
import { capText } from './tiles.ts';

/** How many "used in" products the detail view shows (the total is given too). */
export const USED_IN_SHOWN = 60;

/** `tile` is undefined for a product the gallery does not show (its files are refused). Every
 * value is cut to the caps in protocol.ts (the record may come from anywhere). */
export async function productLineage(db: ProjectDb, product: ProductRecord, tile: (p: ProductRecord) => Tile | undefined): Promise<Lineage> {
  const sources = Array.isArray(product.inputs) ? product.inputs.slice(0, CAPS.inputs) : [];
  const madeFrom = await Promise.all(
    sources.map(async (s) => {
      const id = typeof s?.product === 'string' && /^[\w-]{1,100}$/.test(s.product) ? s.product : null;
      const source = id ? await db.getProduct(id) : undefined;
      return { field: capText(s?.field, CAPS.inputField), tile: source ? tile(source) : undefined, product: id, path: typeof s?.path === 'string' ? capText(s.path, CAPS.inputPath) : null };
    }),
  );
  const used = await db.usedIn(product.id, USED_IN_SHOWN);
  return { madeFrom, usedIn: used.items.map(tile).filter((t): t is Tile => t !== undefined), usedInTotal: used.total };
}
