// Rebuild Index's loader (inside the worker): fills a fresh database with every product at
// once. A write of one product (Repo.writeProduct) prepares each of its statements again, looks
// its id up and asks for the new rowid; here the statements are prepared once, rowids are given
// in order, and everything goes in as one transaction. (At 100,000 products: 4.3 s of CPU
// against 8.7 s. Dropping the secondary indexes and building them at the end saved nothing:
// the rows come in nearly in index order.)
import type { Statement } from 'sql.js';
import { costColumns, PRODUCT_COLUMNS, productRows, type Repo } from './repo.ts';
import type { ProductRecord } from './types.ts';

export class BulkLoader {
  private readonly product: Statement;
  private readonly fts: Statement;
  private readonly tag: Statement;
  private readonly input: Statement;
  private readonly seen = new Set<string>();
  private rid = 0;
  private done = false;

  /** `repo` must be over a database just migrated, with no products yet. */
  constructor(private readonly repo: Repo) {
    const db = repo.db;
    db.run('BEGIN');
    this.product = db.prepare(`INSERT INTO products (rid, ${PRODUCT_COLUMNS}, cost, cost_currency) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`);
    this.fts = db.prepare('INSERT INTO products_fts (docid, prompt, negative) VALUES (?,?,?)');
    this.tag = db.prepare('INSERT INTO product_tags (product_id, tag) VALUES (?,?)');
    this.input = db.prepare('INSERT OR REPLACE INTO product_inputs (product_id, field, source_id, sha256) VALUES (?,?,?,?)');
  }

  add(ps: ProductRecord[]): void {
    for (const p of ps) {
      // The same id in two sidecars: the later one replaces the earlier, as a second write would.
      if (this.seen.has(p.id)) {
        this.repo.putProduct(p);
        continue;
      }
      this.seen.add(p.id);
      const { cols, fts, tags, inputs } = productRows(p);
      const rid = ++this.rid;
      this.product.run([rid, ...cols, ...costColumns(p)]);
      this.fts.run([rid, ...fts]);
      for (const tag of tags) this.tag.run([p.id, tag]);
      for (const i of inputs) this.input.run([p.id, ...i]);
    }
  }

  /** Commit: the database is then as writing the products one by one would leave it. (A
   * canceled rebuild never gets here: closing the database frees the statements.) */
  finish(): void {
    if (this.done) return;
    this.done = true;
    for (const s of [this.product, this.fts, this.tag, this.input]) s.free();
    this.repo.db.run('COMMIT');
  }
}
