// Lineage for the gallery's detail view: the products (or files) a product was made from, from
// its record, and the products made from it, from the database's lineage index.
import type { ProductRecord, ProjectDb } from '../storage/types.ts';
import type { Lineage, Tile } from './protocol.ts';

/** How many "used in" products the detail view shows (the total is given too). */
export const USED_IN_SHOWN = 60;

export async function productLineage(db: ProjectDb, product: ProductRecord, tile: (p: ProductRecord) => Tile): Promise<Lineage> {
  const sources = Array.isArray(product.inputs) ? product.inputs.slice(0, 100) : [];
  const madeFrom = await Promise.all(
    sources.map(async (s) => {
      const source = s.product ? await db.getProduct(s.product) : undefined;
      return { field: String(s.field).slice(0, 200), tile: source ? tile(source) : undefined, product: s.product ?? null, path: s.path ? String(s.path).slice(0, 4000) : null };
    }),
  );
  const used = await db.usedIn(product.id, USED_IN_SHOWN);
  return { madeFrom, usedIn: used.items.map(tile), usedInTotal: used.total };
}
