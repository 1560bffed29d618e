// Typed repositories over one sql.js database, synchronous (they run inside the worker).
// Every statement is parameterized; user text reaches FTS only as quoted terms.
import type { Database, SqlValue } from 'sql.js';
import type { JobState } from '../providers/types.ts';
import type { Statement } from './journal.ts';
import { MIGRATIONS, LATEST_VERSION } from './migrations/index.ts';
import type { CostSum, JobRecord, ProductPage, ProductPatch, ProductQuery, ProductRecord, QuarantinedRow, RawProductRow, TemplateRecord, UploadRecord } from './types.ts';

const MAX_LIMIT = 1000;

export function schemaVersion(db: Database): number {
  db.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const r = db.exec('SELECT MAX(version) FROM schema_version');
  return Number(r[0]?.values[0]?.[0] ?? 0);
}

/** Apply migrations up to `target` (default: latest), each in its own transaction. */
export function migrate(db: Database, target = LATEST_VERSION): number {
  let current = schemaVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.run('BEGIN');
    try {
      db.exec(m.sql);
      db.run('INSERT INTO schema_version (version) VALUES (?)', [m.version]);
      db.run('COMMIT');
    } catch (e) {
      db.run('ROLLBACK');
      throw e;
    }
    current = m.version;
  }
  return current;
}

/** Only letters and digits reach FTS, lower-cased (so OR/AND/NOT/NEAR are words, not
 * operators); the last word matches as a prefix (results as you type). */
export function ftsQuery(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}]+/gu)?.slice(0, 16);
  if (!words?.length) return undefined;
  return words.map((w, i) => `${w.toLowerCase()}${i === words.length - 1 ? '*' : ''}`).join(' ');
}

type Cursor = (string | number)[];

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string | undefined): Cursor | undefined {
  if (!s) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number') ? v : undefined;
  } catch {
    return undefined;
  }
}

type SortKey = { col: 'created_at' | 'id' | 'rating' | 'model' | 'cost'; dir: 'ASC' | 'DESC' };

/** The columns a sort orders by; the id last, so the order is total. */
function sortKeys(sort: ProductQuery['sort']): SortKey[] {
  return sort === 'oldest'
    ? [{ col: 'created_at', dir: 'ASC' }, { col: 'id', dir: 'ASC' }]
    : sort === 'rating'
      ? [{ col: 'rating', dir: 'DESC' }, { col: 'created_at', dir: 'DESC' }, { col: 'id', dir: 'DESC' }]
      : sort === 'model'
        ? [{ col: 'model', dir: 'ASC' }, { col: 'created_at', dir: 'DESC' }, { col: 'id', dir: 'DESC' }]
        : sort === 'cost'
          ? // Costliest first; unknown (-1) last.
            [{ col: 'cost', dir: 'DESC' }, { col: 'created_at', dir: 'DESC' }, { col: 'id', dir: 'DESC' }]
          : [{ col: 'created_at', dir: 'DESC' }, { col: 'id', dir: 'DESC' }];
}

/** Rows after (or before) the key `values` in the order of `keys`, in mixed directions:
 * (a, b, c) after (x, y, z) spelled out as OR-ed prefixes. */
function keyset(keys: SortKey[], values: Cursor, side: 'after' | 'before'): { sql: string; params: SqlValue[] } {
  const ors: string[] = [];
  const params: SqlValue[] = [];
  for (let i = 0; i < keys.length; i++) {
    const parts = keys.slice(0, i).map((k) => `${k.col} = ?`);
    const later = keys[i].dir === 'DESC' ? '<' : '>';
    parts.push(`${keys[i].col} ${side === 'after' ? later : later === '<' ? '>' : '<'} ?`);
    ors.push(`(${parts.join(' AND ')})`);
    params.push(...values.slice(0, i + 1));
  }
  return { sql: `(${ors.join(' OR ')})`, params };
}

/** A row's record, or undefined when its JSON is not an object whose id is the row's own: a
 * database from elsewhere may hold anything, and one bad row must not fail a whole page (nor
 * speak for another product's files). Verify lists such rows. */
function parseRecord(json: SqlValue, id: SqlValue): ProductRecord | undefined {
  try {
    const v: unknown = JSON.parse(String(json));
    return v && typeof v === 'object' && !Array.isArray(v) && (v as { id?: unknown }).id === id ? (v as ProductRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** What a product's rows hold, from its record: its `products` columns (in the order of
 * PRODUCT_COLUMNS), the text the prompt index gets, its tags and its lineage. One mapping for
 * every write and for Rebuild Index's bulk load (bulkLoad.ts). */
export interface ProductRows {
  cols: SqlValue[];
  fts: [prompt: string, negative: string];
  tags: string[];
  /** [field, source product, sha256] per image input. */
  inputs: SqlValue[][];
}

/** The `products` columns `ProductRows.cols` fills (without the cost pair, which a database
 * older than migration 5 lacks). */
export const PRODUCT_COLUMNS = 'id, job_id, created_at, provider, model, kind, favorite, rating, json';

export function productRows(p: ProductRecord): ProductRows {
  const inputs: SqlValue[][] = [];
  for (const i of Array.isArray(p.inputs) ? p.inputs : []) {
    if (i && typeof i.field === 'string') inputs.push([i.field, typeof i.product === 'string' ? i.product : null, String(i.sha256 ?? '')]);
  }
  return {
    cols: [p.id, p.jobId, p.createdAt, p.provider, p.model, p.kind, p.favorite ? 1 : 0, p.rating, JSON.stringify(p)],
    fts: [typeof p.prompt === 'string' ? p.prompt : '', typeof p.negativePrompt === 'string' ? p.negativePrompt : ''],
    tags: [...new Set(Array.isArray(p.tags) ? p.tags.map(String) : [])],
    inputs,
  };
}

/** A record's cost as its columns: the amount (-1 unknown) and currency. */
export function costColumns(p: ProductRecord): [number, string | null] {
  const c = p.cost as { amount?: unknown; currency?: unknown } | undefined;
  return c && typeof c.amount === 'number' && Number.isFinite(c.amount) && c.amount >= 0 && typeof c.currency === 'string' ? [c.amount, c.currency.slice(0, 12)] : [-1, null];
}

/** From how many matches a page walks the sort's index rather than sorting the matches (filterOf). */
const WALK_FROM = 2000;

export class Repo {
  private hasQuarantine?: boolean;
  private hasCost?: boolean;
  /** While set, every data change is appended here as [sql, params]. */
  recorder: Statement[] | undefined;

  constructor(readonly db: Database) {}

  private all(sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
    const stmt = this.db.prepare(sql);
    try {
      stmt.bind(params);
      const rows: Record<string, SqlValue>[] = [];
      while (stmt.step()) rows.push(stmt.getAsObject());
      return rows;
    } finally {
      stmt.free();
    }
  }

  /** Every statement that changes the database goes through here, so the worker can journal
   * exactly what a write did (`recorder`) and replay it. */
  private run(sql: string, params: SqlValue[] = []): void {
    this.db.run(sql, params);
    this.recorder?.push([sql, params]);
  }

  /** A savepoint, not BEGIN: the worker runs each write inside its own savepoint. */
  private tx<T>(fn: () => T): T {
    this.db.run('SAVEPOINT tx');
    try {
      const r = fn();
      this.db.run('RELEASE tx');
      return r;
    } catch (e) {
      this.db.run('ROLLBACK TO tx');
      this.db.run('RELEASE tx');
      throw e;
    }
  }

  // products

  private writeProduct(p: ProductRecord): void {
    const existing = this.all('SELECT rid FROM products WHERE id = ?', [p.id])[0];
    const { cols, fts, tags, inputs } = productRows(p);
    let rid: number;
    // (A Repo over a database older than migration 5 has no cost columns yet.)
    this.hasCost ??= this.all("SELECT 1 FROM pragma_table_info('products') WHERE name = 'cost'").length > 0;
    if (existing) {
      rid = Number(existing.rid);
      this.run('UPDATE products SET id=?, job_id=?, created_at=?, provider=?, model=?, kind=?, favorite=?, rating=?, json=? WHERE rid=?', [...cols, rid]);
      this.run('DELETE FROM products_fts WHERE docid = ?', [rid]);
      this.run('DELETE FROM product_tags WHERE product_id = ?', [p.id]);
    } else {
      this.run(`INSERT INTO products (${PRODUCT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)`, cols);
      rid = Number(this.db.exec('SELECT last_insert_rowid()')[0].values[0][0]);
    }
    if (this.hasCost) this.run('UPDATE products SET cost = ?, cost_currency = ? WHERE rid = ?', [...costColumns(p), rid]);
    this.run('INSERT INTO products_fts (docid, prompt, negative) VALUES (?,?,?)', [rid, ...fts]);
    for (const tag of tags) this.run('INSERT INTO product_tags (product_id, tag) VALUES (?,?)', [p.id, tag]);
    this.run('DELETE FROM product_inputs WHERE product_id = ?', [p.id]);
    for (const i of inputs) this.run('INSERT OR REPLACE INTO product_inputs (product_id, field, source_id, sha256) VALUES (?,?,?,?)', [p.id, ...i]);
    // Written by us again (a resumed job, an import of the same image): no longer in quarantine.
    // (A Repo over a database older than migration 4 has no quarantine yet.)
    this.hasQuarantine ??= this.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quarantine'").length > 0;
    if (this.hasQuarantine) this.run('DELETE FROM quarantine WHERE id = ?', [p.id]);
  }

  putProduct(p: ProductRecord): void {
    this.tx(() => this.writeProduct(p));
  }

  putProducts(ps: ProductRecord[]): void {
    this.tx(() => ps.forEach((p) => this.writeProduct(p)));
  }

  getProduct(id: string): ProductRecord | undefined {
    const r = this.all('SELECT json FROM products WHERE id = ?', [id])[0];
    return r ? parseRecord(r.json, id) : undefined;
  }

  updateProduct(id: string, patch: ProductPatch): ProductRecord | undefined {
    const p = this.getProduct(id);
    if (!p) return undefined;
    const next: ProductRecord = { ...p, ...patch };
    if (patch.rating !== undefined) next.rating = Math.max(0, Math.min(5, Math.round(patch.rating)));
    this.putProduct(next);
    return next;
  }

  private dropProduct(id: string): void {
    const r = this.all('SELECT rid FROM products WHERE id = ?', [id])[0];
    if (!r) return;
    this.run('DELETE FROM products_fts WHERE docid = ?', [Number(r.rid)]);
    this.run('DELETE FROM product_tags WHERE product_id = ?', [id]);
    this.run('DELETE FROM product_inputs WHERE product_id = ?', [id]);
    this.run('DELETE FROM products WHERE rid = ?', [Number(r.rid)]);
  }

  deleteProducts(ids: string[]): void {
    this.tx(() => ids.forEach((id) => this.dropProduct(id)));
  }

  /** Every row as stored, in pages by rowid (verify reads even rows that do not parse). */
  rawProducts(afterRid: number, limit: number): RawProductRow[] {
    return this.all('SELECT rid, id, json FROM products WHERE rid > ? ORDER BY rid LIMIT ?', [afterRid, Math.max(1, Math.min(MAX_LIMIT, limit))]).map((r) => ({ rid: Number(r.rid), id: String(r.id), json: String(r.json) }));
  }

  /** Move rows out of the products into quarantine, with why. */
  quarantineProducts(entries: { id: string; reason: string }[]): void {
    const at = new Date().toISOString();
    this.tx(() => {
      for (const { id, reason } of entries) {
        const r = this.all('SELECT json FROM products WHERE id = ?', [id])[0];
        if (r) {
          this.run('INSERT OR REPLACE INTO quarantine (id, reason, at, json) VALUES (?,?,?,?)', [id, reason, at, String(r.json)]);
          this.dropProduct(id);
        } else {
          this.run('UPDATE quarantine SET reason = ?, at = ? WHERE id = ?', [reason, at, id]);
        }
      }
    });
  }

  listQuarantine(): QuarantinedRow[] {
    return this.all('SELECT id, reason, at, json FROM quarantine ORDER BY at, id').map((r) => ({ id: String(r.id), reason: String(r.reason), at: String(r.at), json: String(r.json) }));
  }

  /** Rows that verify again: back into the products. */
  releaseQuarantine(ids: string[]): void {
    this.tx(() => {
      for (const id of ids) {
        const r = this.all('SELECT json FROM quarantine WHERE id = ?', [id])[0];
        const record = r ? parseRecord(r.json, id) : undefined;
        if (record) this.writeProduct(record);
      }
    });
  }

  getMeta(key: string): string | undefined {
    const r = this.all('SELECT value FROM meta WHERE key = ?', [key])[0];
    return r ? String(r.value) : undefined;
  }

  setMeta(key: string, value: string): void {
    this.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)', [key, value]);
  }

  countProducts(): number {
    return Number(this.db.exec('SELECT COUNT(*) FROM products')[0].values[0][0]);
  }

  facets(): { providers: string[]; models: string[]; tags: string[] } {
    const col = (sql: string) => this.all(sql).map((r) => String(Object.values(r)[0]));
    return {
      providers: col('SELECT DISTINCT provider FROM products ORDER BY provider'),
      models: col('SELECT DISTINCT model FROM products ORDER BY model'),
      tags: col('SELECT tag FROM product_tags GROUP BY tag ORDER BY COUNT(*) DESC, tag LIMIT 500'),
    };
  }

  /** Products with an input from product `id`, newest first (an index lookup per product). */
  usedIn(id: string, limit = 100): ProductPage {
    const total = Number(this.all('SELECT COUNT(DISTINCT product_id) AS n FROM product_inputs WHERE source_id = ?', [id])[0].n);
    const rows = this.all(
      'SELECT p.json, p.id FROM products p WHERE p.id IN (SELECT product_id FROM product_inputs WHERE source_id = ?) ORDER BY p.created_at DESC, p.id DESC LIMIT ?',
      [id, Math.max(1, Math.min(MAX_LIMIT, limit))],
    );
    return { items: rows.map((r) => parseRecord(r.json, r.id)).filter((p): p is ProductRecord => p !== undefined), total };
  }

  /** The WHERE clause of a query's filters (not its page); `none` when nothing can match;
   * `text`: the search is one of the terms (the last one).
   * `walk`: the tag and search terms are written so SQLite cannot look rows up by them (`+id`,
   * `+rid`), which leaves it walking the sort's index and checking each row, stopping at the
   * page's end. For a page of many matches that is what is fast (a search for "o" at 100,000
   * products: 10 ms against 110-180 ms for looking up and sorting its 16,000 matches); for few
   * matches the lookup is (0.1 ms against 30 ms for the whole walk).
   * `row`: the search is checked for each row on its own (its docid only), for a query about a
   * few known rows: the other forms first gather every match of the search into a set (a "d" at
   * 100,000 products: 33,000 docids, 10-30 ms) to test one product against it. */
  private filterOf(q: ProductQuery, mode: 'set' | 'walk' | 'row' = 'set'): { where: string[]; params: SqlValue[]; none?: boolean; text?: boolean } {
    const plus = mode === 'walk' ? '+' : '';
    const where: string[] = [];
    const params: SqlValue[] = [];
    const inList = (col: string, values: string[] | undefined) => {
      if (!values?.length) return;
      where.push(`${col} IN (${values.map(() => '?').join(',')})`);
      params.push(...values);
    };
    inList('provider', q.provider);
    inList('model', q.model);
    if (q.from) {
      where.push('created_at >= ?');
      params.push(q.from);
    }
    if (q.to) {
      where.push('created_at <= ?');
      params.push(q.to.length <= 10 ? `${q.to}T23:59:59.999Z` : q.to);
    }
    if (q.favorite) where.push('favorite = 1');
    if (q.minCost !== undefined || q.maxCost !== undefined) {
      where.push('cost >= 0 AND cost_currency = ?');
      params.push(q.costCurrency ?? 'USD');
      if (q.minCost !== undefined) {
        where.push('cost >= ?');
        params.push(q.minCost);
      }
      if (q.maxCost !== undefined) {
        where.push('cost <= ?');
        params.push(q.maxCost);
      }
    }
    if (q.minRating) {
      where.push('rating >= ?');
      params.push(q.minRating);
    }
    for (const tag of q.tags ?? []) {
      where.push(`${plus}id IN (SELECT product_id FROM product_tags WHERE tag = ?)`);
      params.push(tag);
    }
    const match = q.text ? ftsQuery(q.text) : undefined;
    if (q.text && !match) return { where, params, none: true };
    if (match) {
      // (A docid range, not docid =: with it FTS4 reads only that stretch of each doclist.)
      where.push(mode === 'row' ? 'EXISTS (SELECT 1 FROM products_fts WHERE products_fts.docid >= products.rid AND products_fts.docid <= products.rid AND products_fts MATCH ?)' : `${plus}rid IN (SELECT docid FROM products_fts WHERE products_fts MATCH ?)`);
      params.push(match);
    }
    return { where, params, text: match !== undefined };
  }

  queryProducts(q: ProductQuery): ProductPage {
    const { where, params, none, text } = this.filterOf(q);
    if (none) return { items: [], total: 0 };
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // A search alone is counted in the full-text index (every product has exactly one document
    // there, written and dropped with its row in one transaction: writeProduct, dropProduct,
    // and BulkLoad.add for Rebuild Index):
    // 2-9 ms at 100,000 products against 20-60 ms for probing every row against the matches.
    const total = Number((text && where.length === 1 ? this.all('SELECT COUNT(*) AS n FROM products_fts WHERE products_fts MATCH ?', params) : this.all(`SELECT COUNT(*) AS n FROM products ${filter}`, params))[0].n);

    const keys = sortKeys(q.sort);
    const cursor = decodeCursor(q.after);
    const paged = total > WALK_FROM ? this.filterOf(q, 'walk') : { where, params };
    const pageWhere = [...paged.where];
    const pageParams = [...paged.params];
    if (cursor && cursor.length === keys.length) {
      const after = keyset(keys, cursor, 'after');
      pageWhere.push(after.sql);
      pageParams.push(...after.params);
    }
    const limit = Math.max(1, Math.min(MAX_LIMIT, q.limit ?? 100));
    const rows = this.all(
      `SELECT json, ${keys.some((k) => k.col === 'id') ? '' : 'id, '}${keys.map((k) => k.col).join(', ')} FROM products ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''} ORDER BY ${keys.map((k) => `${k.col} ${k.dir}`).join(', ')} LIMIT ?`,
      [...pageParams, limit + 1],
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => parseRecord(r.json, r.id)).filter((p): p is ProductRecord => p !== undefined),
      total,
      next: more && last ? encodeCursor(keys.map((k) => last[k.col] as string | number)) : undefined,
    };
  }

  /** Which of `ids` the query's filters match (its sort and page aside). */
  productsMatching(q: ProductQuery, ids: string[]): string[] {
    // A few ids (the grid's focus) are checked row by row; many (a selection) against the set.
    const { where, params, none } = this.filterOf(q, ids.length <= 3 ? 'row' : 'set');
    if (none || ids.length === 0) return [];
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const sql = `SELECT id FROM products WHERE ${[...where, `id IN (${chunk.map(() => '?').join(',')})`].join(' AND ')}`;
      out.push(...this.all(sql, [...params, ...chunk]).map((r) => String(r.id)));
    }
    return out;
  }

  /** How many products the query matches that come before `at` in its order: the position
   * `at` has (or would have) in the query's pages. */
  countBefore(q: ProductQuery, at: Pick<ProductRecord, 'id' | 'createdAt' | 'rating' | 'model'>): number {
    const { where, params, none } = this.filterOf(q);
    if (none) return 0;
    const keys = sortKeys(q.sort);
    const value: Record<string, string | number> = { id: at.id, created_at: at.createdAt, rating: at.rating, model: at.model, cost: costColumns(at as ProductRecord)[0] };
    const before = keyset(keys, keys.map((k) => value[k.col]), 'before');
    return Number(this.all(`SELECT COUNT(*) AS n FROM products WHERE ${[...where, before.sql].join(' AND ')}`, [...params, ...before.params])[0].n);
  }

  /** What the products cost together (the gallery's selection), per currency. */
  costSum(ids: string[]): { sums: CostSum[]; unknown: number } {
    const sums = new Map<string, CostSum>();
    let unknown = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.all(`SELECT cost, cost_currency, json_extract(json, '$.cost.estimated') AS est FROM products WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk);
      for (const r of rows) {
        const amount = Number(r.cost);
        if (!(amount >= 0) || typeof r.cost_currency !== 'string') {
          unknown++;
          continue;
        }
        const s = sums.get(r.cost_currency) ?? { currency: r.cost_currency, amount: 0, products: 0, estimated: false };
        s.amount = Math.round((s.amount + amount) * 1e8) / 1e8;
        s.products++;
        s.estimated ||= r.est === 1;
        sums.set(r.cost_currency, s);
      }
    }
    return { sums: [...sums.values()], unknown };
  }

  // jobs

  putJob(j: JobRecord): void {
    this.run('INSERT OR REPLACE INTO jobs (id, state, created_at, updated_at, json) VALUES (?,?,?,?,?)', [j.id, j.state, j.createdAt, j.updatedAt, JSON.stringify(j)]);
  }

  getJob(id: string): JobRecord | undefined {
    const r = this.all('SELECT json FROM jobs WHERE id = ?', [id])[0];
    return r ? (JSON.parse(String(r.json)) as JobRecord) : undefined;
  }

  listJobs(filter: { states?: JobState[]; limit?: number } = {}): JobRecord[] {
    const params: SqlValue[] = [];
    let where = '';
    if (filter.states?.length) {
      where = `WHERE state IN (${filter.states.map(() => '?').join(',')})`;
      params.push(...filter.states);
    }
    params.push(Math.max(1, Math.min(100_000, filter.limit ?? 10_000)));
    return this.all(`SELECT json FROM jobs ${where} ORDER BY created_at DESC, id DESC LIMIT ?`, params).map((r) => JSON.parse(String(r.json)) as JobRecord);
  }

  // the upload cache

  getUpload(provider: string, sha256: string): UploadRecord | undefined {
    const r = this.all('SELECT url, expires_at FROM uploads WHERE provider = ? AND sha256 = ?', [provider, sha256])[0];
    return r ? { provider, sha256, url: String(r.url), expiresAt: Number(r.expires_at) } : undefined;
  }

  putUpload(u: UploadRecord): void {
    // Expired entries go as new ones come, so the table holds only what may still be used.
    this.run('DELETE FROM uploads WHERE expires_at < ?', [Date.now()]);
    this.run('INSERT OR REPLACE INTO uploads (provider, sha256, url, expires_at) VALUES (?,?,?,?)', [u.provider, u.sha256, u.url, Math.min(u.expiresAt, Number.MAX_SAFE_INTEGER)]);
  }

  // templates

  putTemplate(t: TemplateRecord): void {
    this.run('INSERT OR REPLACE INTO templates (id, name, json) VALUES (?,?,?)', [t.id, t.name, JSON.stringify(t)]);
  }

  listTemplates(): TemplateRecord[] {
    return this.all('SELECT json FROM templates ORDER BY name').map((r) => JSON.parse(String(r.json)) as TemplateRecord);
  }

  deleteTemplate(id: string): void {
    this.run('DELETE FROM templates WHERE id = ?', [id]);
  }

  setProject(id: string, name: string, json: string): void {
    this.run('INSERT OR REPLACE INTO projects (id, name, json) VALUES (?,?,?)', [id, name, json]);
  }
}
