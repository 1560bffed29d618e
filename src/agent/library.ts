// The library tools: search products, get one, and curate (rate, tag, favourite). Queries go
// to the project database (src/storage); changes go through the ProductStore, the owner of a
// product on disk (row, then sidecar). Every path in a result is project-relative and derived
// under the path rule (layoutOf), so a crafted row cannot point an agent elsewhere.
import type { z } from 'zod';
import { PathRefusedError, ProductStore, isSafeId, layoutOf } from '../storage/index.ts';
import type { ProductPatch, ProductQuery, ProductRecord, ProjectDb } from '../storage/types.ts';
import type { GetInput, SearchInput, UpdateInput } from './definitions.ts';
import { resolveProject, ToolError, type AgentHost } from './host.ts';

/** What a search lists per product: enough to pick one and use its file. */
export interface ProductSummary {
  id: string;
  /** Project-relative, forward slashes. */
  file: string;
  /** The small thumbnail (project-relative), when there is one. */
  thumbnail: string;
  mediaType: string;
  width?: number;
  height?: number;
  bytes: number;
  provider: string;
  model: string;
  prompt?: string;
  createdAt: string;
  rating: number;
  favorite: boolean;
  tags: string[];
}

const PROMPT_CHARS = 300;

/** A product as a search lists it; undefined for a record the path rule refuses. */
export function productSummary(p: ProductRecord): ProductSummary | undefined {
  let layout;
  try {
    layout = layoutOf(p);
  } catch (e) {
    if (e instanceof PathRefusedError) return undefined;
    throw e;
  }
  const prompt = typeof p.prompt === 'string' ? (p.prompt.length > PROMPT_CHARS ? `${p.prompt.slice(0, PROMPT_CHARS)}…` : p.prompt) : undefined;
  return {
    id: p.id,
    file: layout.file,
    thumbnail: layout.thumbs.small,
    mediaType: String(p.mediaType),
    width: typeof p.width === 'number' ? p.width : undefined,
    height: typeof p.height === 'number' ? p.height : undefined,
    bytes: Number(p.bytes) || 0,
    provider: String(p.provider),
    model: String(p.model),
    prompt,
    createdAt: String(p.createdAt),
    rating: Number(p.rating) || 0,
    favorite: p.favorite === true,
    tags: Array.isArray(p.tags) ? p.tags.map(String) : [],
  };
}

export async function searchProducts(host: AgentHost, args: z.infer<typeof SearchInput>) {
  const project = await resolveProject(host, args.project);
  const q: ProductQuery = {
    text: args.text?.trim() || undefined,
    provider: args.provider ? [args.provider] : undefined,
    model: args.model ? [args.model] : undefined,
    minRating: args.minRating,
    favorite: args.favorite,
    tags: args.tags,
    from: args.from,
    to: args.to,
    sort: args.sort,
    after: args.cursor,
    limit: args.limit ?? 20,
  };
  const page = await (await project.db()).queryProducts(q);
  const products = page.items.map(productSummary).filter((p): p is ProductSummary => p !== undefined);
  return { project: project.name, projectDir: project.dir, total: page.total, products, next: page.next };
}

async function product(host: AgentHost, projectName: string | undefined, id: string) {
  const project = await resolveProject(host, projectName);
  if (!isSafeId(id)) throw new ToolError(`"${String(id).slice(0, 100)}" is not a product id; ids come from artfactory_search_products.`);
  const db = await project.db();
  const record = await db.getProduct(id);
  if (!record) throw new ToolError(`There is no product "${id}" in the project "${project.name}".`);
  return { project, db, record };
}

export async function getProduct(host: AgentHost, args: z.infer<typeof GetInput>) {
  const { project, db, record } = await product(host, args.project, args.id);
  const summary = productSummary(record);
  if (!summary) throw new ToolError(`Product "${args.id}" has a record Art Factory refuses (its file is not where products are kept); run "Art Factory: Verify Project".`);
  const usedIn = await db.usedIn(record.id, 20);
  return {
    project: project.name,
    projectDir: project.dir,
    ...summary,
    prompt: record.prompt,
    negativePrompt: record.negativePrompt,
    seed: record.seed,
    modelVersion: record.modelVersion,
    input: record.input,
    sourceFile: record.sourceFile,
    cost: record.cost,
    timings: record.timings,
    notes: record.notes || undefined,
    sha256: record.sha256,
    job: record.jobId,
    madeFrom: (record.inputs ?? []).map((i) => ({ field: i.field, product: i.product ?? undefined, path: i.path ?? undefined, sha256: i.sha256 })),
    usedIn: usedIn.items.map((p) => p.id),
    imported: record.imported ? { tool: record.imported.tool, fileName: record.imported.fileName } : undefined,
  };
}

/** The product's record, for hosts that show it (the MCP resource reads its thumbnail). */
export async function productRecord(host: AgentHost, projectName: string | undefined, id: string): Promise<{ dir: string; record: ProductRecord }> {
  const { project, record } = await product(host, projectName, id);
  return { dir: project.dir, record };
}

export async function updateProducts(host: AgentHost, args: z.infer<typeof UpdateInput>) {
  const refused = host.refusal();
  if (refused) throw new ToolError(refused);
  if (args.rating === undefined && args.favorite === undefined && !args.addTags?.length && !args.removeTags?.length) {
    throw new ToolError('Say what to change: rating, favorite, addTags or removeTags.');
  }
  const project = await resolveProject(host, args.project);
  const db = await project.db();
  const store = new ProductStore(project.dir, db);
  const updated: ProductSummary[] = [];
  const missing: string[] = [];
  // One at a time, as the gallery does: each row, then its sidecar.
  for (const id of new Set(args.ids)) {
    const current = isSafeId(id) ? await db.getProduct(id) : undefined;
    if (!current) {
      missing.push(id.slice(0, 100));
      continue;
    }
    const patch: ProductPatch = {};
    if (args.rating !== undefined) patch.rating = args.rating;
    if (args.favorite !== undefined) patch.favorite = args.favorite;
    if (args.addTags?.length || args.removeTags?.length) {
      const remove = new Set(args.removeTags ?? []);
      patch.tags = [...new Set([...(Array.isArray(current.tags) ? current.tags.map(String) : []), ...(args.addTags ?? [])])].filter((t) => !remove.has(t));
    }
    const record = await store.update(id, patch);
    const summary = record && productSummary(record);
    if (!record || !summary) {
      missing.push(id);
      continue;
    }
    host.changed?.(project.dir, record);
    updated.push(summary);
  }
  if (updated.length === 0) throw new ToolError(`No product was changed: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in the project "${project.name}".`);
  return { project: project.name, projectDir: project.dir, updated, notFound: missing.length ? missing : undefined };
}

/** What an agent sees of a product: its large thumbnail (made if missing), else the image
 * itself when sharp cannot make one. Read under the path rule. */
export async function productThumbnail(dir: string, db: ProjectDb, record: ProductRecord): Promise<{ mediaType: string; bytes: Uint8Array }> {
  const layout = layoutOf(record);
  const store = new ProductStore(dir, db);
  const read = () => store.paths.readFile(layout.thumbs.large, '.artfactory', `Product ${record.id}: its thumbnail`);
  try {
    return { mediaType: 'image/webp', bytes: await read() };
  } catch {
    // Not made yet (an import, a job that ended while thumbnails were off): make it now.
  }
  try {
    await store.thumbnail(record);
    return { mediaType: 'image/webp', bytes: await read() };
  } catch (e) {
    if (record.kind !== 'image') throw new ToolError(`Product ${record.id} has no thumbnail: ${e instanceof Error ? e.message : String(e)}`);
    const bytes = await store.paths.readFile(layout.file, 'products', `Product ${record.id}: its file`);
    if (bytes.length > MAX_ORIGINAL_BYTES) throw new ToolError(`Product ${record.id} has no thumbnail and its file is too large to send (${Math.round(bytes.length / 1024 / 1024)} MB).`);
    return { mediaType: String(record.mediaType), bytes };
  }
}

const MAX_ORIGINAL_BYTES = 8 * 1024 * 1024;
