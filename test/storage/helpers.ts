import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { ProductRecord } from '../../src/storage/types.ts';

export async function tempProject(prefix = 'af-store-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

const WORDS = ['fox', 'lighthouse', 'ocean', 'forest', 'neon', 'city', 'portrait', 'dragon', 'glass', 'desert', 'storm', 'garden'];

/** A deterministic product; `i` picks words, provider, model, rating and tags. */
export function product(i: number, over: Partial<ProductRecord> = {}): ProductRecord {
  const created = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  const id = `P${String(i).padStart(8, '0')}`;
  return {
    id,
    jobId: `J${i}`,
    provider: ['fal', 'replicate', 'sample'][i % 3],
    model: ['fal-ai/flux/dev', 'black-forest-labs/flux-schnell', 'sample/gradient', 'fal-ai/flux/schnell'][i % 4],
    kind: 'image',
    mediaType: 'image/png',
    file: `products/2026/01/01/${id}.png`,
    width: 512,
    height: 512,
    bytes: 1000 + i,
    sha256: 'x'.repeat(64),
    input: { prompt: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} number ${i}`, seed: i },
    prompt: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} number ${i}`,
    seed: i,
    createdAt: created,
    favorite: i % 5 === 0,
    rating: i % 6,
    tags: i % 4 === 0 ? ['keeper'] : i % 4 === 1 ? ['draft', 'blue'] : [],
    notes: '',
    outputIndex: 0,
    ...over,
  };
}

/** Store rows as the first schema's code did (products, prompt index, tags), so a migration test
 * starts from what an old version really left, not from what today's code writes. */
export function insertAsVersion1(db: Database, ps: ProductRecord[]): void {
  for (const p of ps) {
    db.run('INSERT INTO products (id, job_id, created_at, provider, model, kind, favorite, rating, json) VALUES (?,?,?,?,?,?,?,?,?)', [p.id, p.jobId, p.createdAt, p.provider, p.model, p.kind, p.favorite ? 1 : 0, p.rating, JSON.stringify(p)]);
    const rid = Number(db.exec('SELECT last_insert_rowid()')[0].values[0][0]);
    db.run('INSERT INTO products_fts (docid, prompt, negative) VALUES (?,?,?)', [rid, p.prompt ?? '', p.negativePrompt ?? '']);
    for (const tag of new Set(p.tags)) db.run('INSERT INTO product_tags (product_id, tag) VALUES (?,?)', [p.id, tag]);
  }
}
