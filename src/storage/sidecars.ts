// Sidecars: `<id>.json` next to each product file, holding its full record. They are the
// durable truth; the database can always be rebuilt from them.
import { close, open, promises as fs, read } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic.ts';
import { layoutProblem } from './productPaths.ts';
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

/** One line saying why a value was refused: the first problem, with the field it is about
 * (a ZodError's own message is a JSON array, whose first line is just "["). */
export function firstProblem(e: unknown): string {
  if (e instanceof z.ZodError) {
    const issue = e.issues[0];
    return issue ? `${issue.path.length ? `"${issue.path.join('.')}" ` : ''}${issue.message}${e.issues.length > 1 ? ` (and ${e.issues.length - 1} more)` : ''}` : 'invalid';
  }
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

/** Buffers for `readText`, reused (one per read in flight). */
const spare: Buffer[] = [];
const SMALL = 16 * 1024;

/** A file's text. Sidecars are small: open, one read and close through the callback API cost
 * about a third of the CPU of fs.promises.readFile (which adds a stat and a FileHandle per
 * file), which Rebuild Index of 100,000 sidecars feels. A larger file is read whole. */
function readText(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    open(file, 'r', (e, fd) => {
      if (e) return reject(e);
      const buf = spare.pop() ?? Buffer.allocUnsafe(SMALL);
      read(fd, buf, 0, SMALL, 0, (e2, n) => {
        const text = e2 || n === SMALL ? undefined : buf.toString('utf8', 0, n);
        spare.push(buf);
        close(fd, () => {
          if (text !== undefined) resolve(text);
          else if (e2) reject(e2);
          else fs.readFile(file, 'utf8').then(resolve, reject);
        });
      });
    });
  });
}

export async function readSidecar(file: string): Promise<ProductRecord> {
  const text = await readText(file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${firstProblem(e)})`);
  }
  const parsed = SidecarSchema.safeParse(raw);
  if (!parsed.success) throw new Error(firstProblem(parsed.error));
  return parsed.data as unknown as ProductRecord;
}

export interface SidecarEntry {
  file: string;
  record?: ProductRecord;
  error?: string;
}

/** Every `.json` file under products/ (links too, to be reported): symbolic links are never
 * followed, since a linked folder could lead anywhere. */
export async function listSidecars(projectDir: string, signal?: AbortSignal): Promise<{ file: string; link: boolean }[]> {
  const out: { file: string; link: boolean }[] = [];
  async function walk(dir: string): Promise<void> {
    signal?.throwIfAborted();
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.json') && (e.isFile() || e.isSymbolicLink())) out.push({ file: p, link: e.isSymbolicLink() });
    }
  }
  await walk(path.join(projectDir, 'products'));
  return out;
}

/** Read and check one listed sidecar: its record, or why it is not one. */
async function checkSidecar(projectDir: string, { file, link }: { file: string; link: boolean }): Promise<SidecarEntry> {
  if (link) return { file, error: 'is a symbolic link, not a sidecar of ours' };
  try {
    const record = await readSidecar(file);
    // A sidecar speaks only for the product whose files sit beside it under its own id.
    const where = path.relative(projectDir, file).split(path.sep).join('/');
    const problem = layoutProblem(record) ?? (where === record.file.replace(/\.[^./]+$/, '.json') ? undefined : `describes ${JSON.stringify(record.file.slice(0, 200))}, which is not the product beside it`);
    return problem ? { file, error: problem } : { file, record };
  } catch (e) {
    return { file, error: firstProblem(e) };
  }
}

/** Every sidecar under products/, read `concurrency` at a time, in the order listed (a file
 * that does not parse is reported, not fatal). */
export async function* readSidecars(projectDir: string, files: { file: string; link: boolean }[], concurrency = 1): AsyncGenerator<SidecarEntry> {
  const ahead: Promise<SidecarEntry>[] = [];
  let next = 0;
  while (next < files.length || ahead.length) {
    while (ahead.length < concurrency && next < files.length) ahead.push(checkSidecar(projectDir, files[next++]));
    yield await ahead.shift()!;
  }
}

/** Every sidecar under products/ (a file that does not parse is reported, not fatal). */
export async function* walkSidecars(projectDir: string): AsyncGenerator<SidecarEntry> {
  yield* readSidecars(projectDir, await listSidecars(projectDir));
}
