// What the webview is sent about a product or a job, built on the host from records that may
// come from anywhere (an imported image's metadata, a database restored from a backup, a
// project from a colleague). Every value is cut to the caps in protocol.ts, coerced to its
// type, and checked against the same schema the webview uses, so one stored value can never
// stop the gallery from painting. Files are resolved under the project path rule: a product
// whose files are refused gets no tile at all.
import { layoutOf, type FolderChecks, type ProjectPaths } from '../storage/productPaths.ts';
import type { JobRecord, ProductRecord } from '../storage/types.ts';
import { jobStatusText } from '../providers/jobStatus.ts';
import { CAPS, ProductDetail, Tile, type DetailRecord, type Json } from './protocol.ts';

/** `v` as text of at most `max` characters: longer text is cut, with an ellipsis. */
export function capText(v: unknown, max: number): string {
  const s = typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  if (s.length <= max) return s;
  let cut = s.slice(0, max - 1);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1); // never half a surrogate pair
  return `${cut}…`;
}

function size(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1e6 ? Math.round(v) : undefined;
}

function tags(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string').slice(0, CAPS.tags).map((t) => capText(t, CAPS.tag)) : [];
}

export interface TileContext {
  paths: ProjectPaths;
  /** An absolute path as a URI the webview may load. */
  toUri: (absPath: string) => string;
  /** Folders already checked in this batch of tiles. */
  checked?: FolderChecks;
  /** Told of a product shown from its file because its thumbnail is not there. */
  noThumbnail?: (p: ProductRecord) => void;
}

/** Why a product gets no tile: its files are refused by the path rule. */
export class TileRefused extends Error {}

/** The tile of a product; throws TileRefused when the record breaks the path rule. */
export function productTile(project: string, p: ProductRecord, c: TileContext): Tile {
  let layout;
  try {
    layout = layoutOf(p);
  } catch (e) {
    throw new TileRefused(e instanceof Error ? e.message : String(e));
  }
  const cache = (c.checked ??= new Map());
  const file = c.paths.resolveSync(layout.file, 'products', cache);
  if (!file) throw new TileRefused(`Product ${p.id}: its file ${layout.file} is a symbolic link, not a regular file, or leads out of products/.`);
  const poster = layout.poster ? c.paths.resolveSync(layout.poster, 'products', cache) : undefined;
  const thumb = c.paths.resolveSync(layout.thumbs.small, '.artfactory', cache);
  const media = p.kind === 'video' || p.kind === 'audio' ? p.kind : 'image';
  // A still to show: the image itself, or a video's poster frame; the thumbnail once it exists.
  const still = media === 'image' ? file : poster?.stat ? poster : undefined;
  if (still?.stat && !thumb?.stat) c.noThumbnail?.(p);
  const uri = (abs: string | undefined) => {
    const u = abs === undefined ? undefined : c.toUri(abs);
    return u !== undefined && u.length <= CAPS.uri ? u : undefined;
  };
  return checked({
    id: p.id,
    kind: 'product',
    project: capText(project, CAPS.project),
    src: uri(file.abs),
    thumb: still ? uri(thumb?.stat ? thumb.abs : still.abs) : undefined,
    media,
    prompt: capText(p.prompt, CAPS.prompt),
    provider: capText(p.provider, CAPS.provider),
    model: capText(p.model, CAPS.model),
    rating: typeof p.rating === 'number' && Number.isFinite(p.rating) ? Math.max(0, Math.min(5, Math.round(p.rating))) : 0,
    favorite: p.favorite === true,
    cost: costOf(p),
    tags: tags(p.tags),
    createdAt: capText(p.createdAt, CAPS.date),
    width: size(p.width),
    height: size(p.height),
    // An imported image without a prompt is called by its original file name.
    name: p.imported && typeof p.imported.fileName === 'string' ? capText(p.imported.fileName, CAPS.title) : undefined,
  });
}

/** The placeholder tile of a running (or failed) job; undefined for a job row we could not
 * have written (its id is not ours). */
export function jobTile(project: string, j: JobRecord): Tile | undefined {
  const input = j.input && typeof j.input === 'object' ? j.input : {};
  try {
    return checked({
      id: j.id,
      kind: 'job',
      project: capText(project, CAPS.project),
      media: 'image',
      prompt: capText(input.prompt, CAPS.prompt),
      provider: capText(j.provider, CAPS.provider),
      model: capText(j.model, CAPS.model),
      rating: 0,
      favorite: false,
      tags: [],
      createdAt: capText(j.createdAt, CAPS.date),
      state: capText(j.state, CAPS.state),
      status: capText(jobStatusText(j), CAPS.title),
      progress: typeof j.progress === 'number' && Number.isFinite(j.progress) ? Math.max(0, Math.min(1, j.progress)) : undefined,
      error: j.error ? capText(j.error.message, CAPS.error) : undefined,
    });
  } catch {
    return undefined;
  }
}

/** Checked against the webview's own schema: what it would refuse is never sent. */
function checked(t: Tile): Tile {
  const parsed = Tile.safeParse(t);
  if (!parsed.success) throw new TileRefused(`Product ${String(t.id).slice(0, 100)}: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** A value for the detail view as JSON: texts cut to the detail cap, lists, keys and depth
 * bounded; what JSON cannot hold (undefined, functions) is left out, as JSON.stringify would. */
export function capJson(v: unknown, depth = 0): Json | undefined {
  if (typeof v === 'string') return capText(v, CAPS.detailText);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean' || v === null) return v;
  if (typeof v !== 'object' || v === undefined) return undefined;
  if (depth >= CAPS.detailDepth) return '…';
  if (Array.isArray(v)) return v.slice(0, CAPS.detailItems).map((x) => capJson(x, depth + 1) ?? null);
  return capObject(v, depth);
}

function capObject(v: object, depth: number): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v).slice(0, CAPS.detailKeys)) {
    const value = capJson(x, depth + 1);
    // defineProperty: a "__proto__" key from JSON stays a plain key (assigning it would set the prototype).
    if (value !== undefined) Object.defineProperty(out, capText(k, CAPS.detailKey), { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A record's cost as tiles show it, or undefined (a crafted row can hold anything). */
function costOf(p: ProductRecord): Tile['cost'] {
  const c: unknown = p.cost;
  if (!isObject(c) || finite(c.amount) === undefined || (c.amount as number) < 0 || typeof c.currency !== 'string') return undefined;
  return { amount: c.amount as number, currency: capText(c.currency, CAPS.currency), estimated: c.estimated === true };
}

/** What the detail view shows of a record, each value coerced to its type (a crafted row can
 * hold anything) and cut to the detail caps. */
export function detailRecord(p: ProductRecord): DetailRecord {
  const text = (v: unknown) => capText(v, CAPS.detailText);
  const timings = isObject(p.timings) ? Object.fromEntries(Object.entries(p.timings).slice(0, CAPS.detailKeys).flatMap(([k, v]) => (finite(v) === undefined ? [] : [[capText(k, CAPS.detailKey), v]]))) : undefined;
  const cost = costOf(p);
  const seed: unknown = p.seed;
  return {
    provider: text(p.provider),
    model: text(p.model),
    seed: finite(seed) ?? (typeof seed === 'string' ? capText(seed, CAPS.seed) : undefined),
    width: size(p.width),
    height: size(p.height),
    requestId: typeof p.requestId === 'string' ? text(p.requestId) : undefined,
    timings,
    cost,
    createdAt: text(p.createdAt),
    notes: text(p.notes),
    input: isObject(p.input) ? capObject(p.input, 1) : {},
  };
}

/** The detail view of a product: its tile, what it shows of its record (capped far above the
 * tile) and the path of its file. */
export function productDetail(project: string, p: ProductRecord, c: TileContext): ProductDetail {
  const tile = productTile(project, p, c);
  const parsed = ProductDetail.safeParse({ tile, record: detailRecord(p), path: capText(c.paths.resolveSync(p.file, 'products')?.abs ?? '', CAPS.project + 1000) });
  if (!parsed.success) throw new TileRefused(`Product ${p.id}: its record cannot be shown (${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}).`);
  return parsed.data;
}
