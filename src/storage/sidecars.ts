// Sidecars: `<id>.json` next to each product file, holding its full record. They are the
// durable truth; the database can always be rebuilt from them.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic.ts';
import { projectFile } from './project.ts';
import type { ProductRecord } from './types.ts';

const SidecarSchema = z
  .object({
    id: z.string().regex(/^[\w-]{1,80}$/),
    jobId: z.string(),
    provider: z.string(),
    model: z.string(),
    kind: z.enum(['image', 'video', 'audio']),
    mediaType: z.string(),
    file: z.string().regex(/^products\/[\w/.-]+$/).refine((f) => !f.split('/').includes('..'), 'must stay inside products/'),
    bytes: z.number(),
    sha256: z.string(),
    input: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    favorite: z.boolean(),
    rating: z.number().int().min(0).max(5),
    tags: z.array(z.string()),
    notes: z.string(),
    outputIndex: z.number().int(),
    // Lineage is worth keeping the product for: malformed entries are dropped, not the product.
    inputs: z
      .array(z.object({ field: z.string().max(200), sha256: z.string().max(64), product: z.string().regex(/^[\w-]{1,80}$/).nullable(), path: z.string().max(4000).nullable() }))
      .max(100)
      .optional()
      .catch(undefined),
  })
  .passthrough();

/** The sidecar's path: the product file with `.json` in place of its extension. */
export function sidecarPath(projectDir: string, record: Pick<ProductRecord, 'file'>): string {
  return projectFile(projectDir, record.file.replace(/\.[^./]+$/, '.json'));
}

export async function writeSidecar(projectDir: string, record: ProductRecord): Promise<string> {
  const file = sidecarPath(projectDir, record);
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

export async function readSidecar(file: string): Promise<ProductRecord> {
  return SidecarSchema.parse(JSON.parse(await fs.readFile(file, 'utf8'))) as unknown as ProductRecord;
}

/** Every sidecar under products/ (a file that does not parse is reported, not fatal). */
export async function* walkSidecars(projectDir: string): AsyncGenerator<{ file: string; record?: ProductRecord; error?: string }> {
  async function* walk(dir: string): AsyncGenerator<string> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) yield* walk(p);
      else if (e.isFile() && e.name.endsWith('.json')) yield p;
    }
  }
  for await (const file of walk(path.join(projectDir, 'products'))) {
    try {
      yield { file, record: await readSidecar(file) };
    } catch (e) {
      yield { file, error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
    }
  }
}
