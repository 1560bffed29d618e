// The one message protocol between the gallery webview and the extension host, defined once
// and validated on both sides: a map of requests (each method's params and result) and a map of
// notifications (each one's fields). Requests carry ids and get replies; notifications do not.
// A message that does not parse is dropped and logged, never acted on.
// zod/mini, not zod: the same validation core (so the host checks the webview's messages as
// strictly), without the chained methods that kept all of zod in the webview's bundle.
import * as z from 'zod/mini';

/** The one set of caps for what the webview receives. The host cuts every stored value to
 * these before it posts (src/webviews/tiles.ts), and the webview's schemas below check the
 * same numbers, so no stored value (a 1,500-character model name from an imported image, a
 * crafted database row) can fail validation and blank the gallery. A tile shows a value cut
 * to its tile cap; the detail view shows it whole, up to the larger detail cap. */
export const CAPS = {
  id: 100,
  /** A project folder's path. */
  project: 4096,
  /** A webview URI (a long path, percent-encoded, grows up to 9×). */
  uri: 40_000,
  prompt: 4000,
  provider: 100,
  model: 300,
  tag: 100,
  tags: 100,
  date: 40,
  state: 20,
  error: 2000,
  title: 300,
  /** Choices per filter list. */
  facetValues: 2000,
  /** Any text in the detail view's record (a model name, a prompt, a metadata excerpt). */
  detailText: 20_000,
  detailDepth: 12,
  detailItems: 500,
  detailKeys: 300,
  detailKey: 200,
  /** Lineage: an input's field name, and the path a parameter file gave. */
  inputField: 200,
  inputPath: 4000,
  inputs: 100,
  usedIn: 200,
  /** A seed's exact digits (2^64 has 20). */
  seed: 40,
  currency: 10,
} as const;

const str = (max: number) => z.string().check(z.maxLength(max));
const list = <T extends z.ZodMiniType>(item: T, max: number) => z.array(item).check(z.maxLength(max));
const int = (min: number, max?: number) => (max === undefined ? z.int().check(z.gte(min)) : z.int().check(z.gte(min), z.lte(max)));
const id = z.string().check(z.minLength(1), z.maxLength(CAPS.id), z.regex(/^[\w-]+$/));
const shortText = str(500);

export const SORTS = ['newest', 'oldest', 'rating', 'model', 'cost'] as const;
export const STATUSES = ['all', 'products', 'running', 'failed'] as const;

export const Filter = z.strictObject({
  text: z.optional(shortText),
  provider: z.optional(list(shortText, 50)),
  model: z.optional(list(shortText, 200)),
  status: z._default(z.enum(STATUSES), 'all'),
  favorite: z.optional(z.boolean()),
  minRating: z.optional(int(0, 5)),
  tags: z.optional(list(shortText, 50)),
  from: z.optional(str(40)),
  to: z.optional(str(40)),
  /** What a product cost, in US dollars, at least / at most (products of unknown cost, or
   * priced in Buzz, are left out by a cost filter). */
  minCost: z.optional(z.number().check(z.gte(0), z.lte(1e6))),
  maxCost: z.optional(z.number().check(z.gte(0), z.lte(1e6))),
  sort: z._default(z.enum(SORTS), 'newest'),
});
export type Filter = z.infer<typeof Filter>;

/** What a product cost (issue 11); `estimated` when worked out from a price table. */
export const TileCost = z.object({ amount: z.number().check(z.gte(0)), currency: str(CAPS.currency), estimated: z._default(z.boolean(), false) });

/** What one grid cell shows: a product, or a job that is still running (or failed). */
export const Tile = z.object({
  id,
  kind: z.enum(['product', 'job']),
  project: str(CAPS.project),
  /** Webview-safe URIs made by the host (the webview never builds paths). */
  thumb: z.optional(str(CAPS.uri)),
  src: z.optional(str(CAPS.uri)),
  media: z._default(z.enum(['image', 'video', 'audio']), 'image'),
  prompt: z._default(str(CAPS.prompt), ''),
  provider: str(CAPS.provider),
  model: str(CAPS.model),
  rating: z._default(int(0, 5), 0),
  favorite: z._default(z.boolean(), false),
  tags: z._default(list(str(CAPS.tag), CAPS.tags), () => []),
  createdAt: str(CAPS.date),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  state: z.optional(str(CAPS.state)),
  /** A job's state in our own words ("Running · 40%"), the same as the Jobs view's. */
  status: z.optional(str(CAPS.title)),
  /** An imported image's original file name, for its alt text and title when it has no prompt. */
  name: z.optional(str(CAPS.title)),
  progress: z.optional(z.number().check(z.gte(0), z.lte(1))),
  error: z.optional(str(CAPS.error)),
  cost: z.optional(TileCost),
});
export type Tile = z.infer<typeof Tile>;

export const Page = z.object({
  tiles: z.array(Tile),
  total: int(0),
  next: z.optional(str(4000)),
  /** Where the asked-for focus is in these results (it may be past this page), when they hold it. */
  focusAt: z.optional(int(0)),
  /** Which of the asked-to-keep ids (the selection) these results hold. */
  kept: z.optional(list(id, 1000)),
});
export type Page = z.infer<typeof Page>;

export const Facets = z.object({
  providers: list(str(CAPS.provider), CAPS.facetValues),
  models: list(str(CAPS.model), CAPS.facetValues),
  tags: list(str(CAPS.tag), CAPS.facetValues),
});
export type Facets = z.infer<typeof Facets>;

/** A JSON value as the detail view shows it: the host has cut texts, lists, keys and depth to
 * the detail caps (tiles.ts capJson), so this only checks what it got. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export const Json: z.ZodMiniType<Json> = z.lazy(() => z.union([str(CAPS.detailText), z.number(), z.boolean(), z.null(), list(Json, CAPS.detailItems), z.record(str(CAPS.detailKey), Json)]));

const detailText = str(CAPS.detailText);

/** What the detail view and Compare show of a product's record, each value whole up to the
 * detail caps (the tile has the same values cut to the tile caps). */
export const DetailRecord = z.object({
  provider: detailText,
  model: detailText,
  /** A number, or the exact digits of a seed past 2^53 (ComfyUI and Fooocus seeds go to 2^64). */
  seed: z.optional(z.union([z.number(), str(CAPS.seed)])),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  requestId: z.optional(detailText),
  /** Seconds per phase, as the provider reported them. */
  timings: z.optional(z.record(str(CAPS.detailKey), z.number())),
  cost: z.optional(TileCost),
  createdAt: detailText,
  notes: detailText,
  /** The input sent to the provider. */
  input: z.record(str(CAPS.detailKey), Json),
});
export type DetailRecord = z.infer<typeof DetailRecord>;

/** The detail view of a product: its tile (display URIs), its record and its file's path. */
export const ProductDetail = z.object({
  tile: Tile,
  record: DetailRecord,
  path: str(CAPS.project + 1100),
});
export type ProductDetail = z.infer<typeof ProductDetail>;

/** Lineage for the detail view: what a product was made from, and what was made from it. */
export const LineageSource = z.object({
  /** The input field, `image_url` or `image_urls.1`. */
  field: str(CAPS.inputField),
  /** The source product's tile, when it still exists. */
  tile: z.optional(Tile),
  product: z.nullable(str(CAPS.id)),
  /** The path as the parameter file wrote it, when the input was a file. */
  path: z.nullable(str(CAPS.inputPath)),
});
export type LineageSource = z.infer<typeof LineageSource>;
export const Lineage = z.object({ madeFrom: list(LineageSource, CAPS.inputs), usedIn: list(Tile, CAPS.usedIn), usedInTotal: int(0) });
export type Lineage = z.infer<typeof Lineage>;

/** What the gallery does to products. Undo is not one of them: it acts on what the last Delete
 * took, which the host holds (the `undoDelete` method). */
export const ACTIONS = ['reuse', 'saveTemplate', 'rerun', 'rerunNewSeed', 'copyPrompt', 'reveal', 'openFile', 'delete', 'export', 'contactSheet', 'useAsInput'] as const;
export type Action = (typeof ACTIONS)[number];
/** Actions that only read: the ones a read-only gallery (Restricted Mode) still offers. */
export const READ_ONLY_ACTIONS: readonly Action[] = ['copyPrompt', 'reveal', 'openFile', 'export', 'contactSheet'];

const ids = z.array(id).check(z.minLength(1), z.maxLength(1000));

export const Patch = z.strictObject({
  favorite: z.optional(z.boolean()),
  rating: z.optional(int(0, 5)),
  tags: z.optional(list(z.string().check(z.minLength(1), z.maxLength(100)), 100)),
  notes: z.optional(str(20_000)),
});
export type Patch = z.infer<typeof Patch>;

/** A status-line note from the host ("Prompt copied.", "Started 3 jobs."), or none. */
const Note = z.nullable(str(CAPS.error));

/** What the message layer needs of a schema: zod's `safeParse`, or a lighter validator's with
 * the same shape (the webview may swap zod out without touching the map's users). */
export interface Validator<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: readonly { message: string }[] } };
}

/** THE map of gallery requests: each method's params (checked by the host) and result (checked
 * by the webview). The host has one handler per method (GalleryHandlers), the webview's
 * `request(method, params)` returns the method's result type. */
const METHODS = {
  /** A page of tiles; a first page also says where `focus` is and which of `keep` it holds. */
  query: {
    params: z.strictObject({
      filter: Filter,
      after: z.optional(str(4000)),
      limit: z._default(int(1, 1000), 500),
      focus: z.optional(id),
      keep: z.optional(list(id, 1000)),
    }),
    result: Page,
  },
  /** The filters' choices. */
  facets: { params: z.strictObject({}), result: Facets },
  getProduct: { params: z.strictObject({ id }), result: ProductDetail },
  lineage: { params: z.strictObject({ id }), result: Lineage },
  /** Favourite, rating, tags, notes: resolves with how many products changed. */
  update: { params: z.strictObject({ ids, patch: Patch }), result: int(0) },
  action: { params: z.strictObject({ ids, action: z.enum(ACTIONS) }), result: Note },
  /** Bring back what the last Delete moved to the trash. */
  undoDelete: { params: z.strictObject({}), result: Note },
  /** What the selected products cost together, per currency, and how many have no known cost. */
  costSum: {
    params: z.strictObject({ ids }),
    result: z.object({ sums: list(z.object({ currency: str(CAPS.currency), amount: z.number(), products: int(0), estimated: z.boolean() }), 20), unknown: int(0) }),
  },
};
type MethodSchemas = typeof METHODS;
export type Method = keyof MethodSchemas;
/** A method's params as the host's handler gets them (defaults filled in). */
export type ParamsOf<M extends Method> = z.output<MethodSchemas[M]['params']>;
/** A method's params as the webview may send them (fields with defaults may be left out). */
export type ParamsIn<M extends Method> = z.input<MethodSchemas[M]['params']>;
export type ResultOf<M extends Method> = z.output<MethodSchemas[M]['result']>;
/** The map, typed per method, so `Methods[m]` for a generic `m` keeps params and result tied to
 * that method (no casts on either side). */
export const Methods: { readonly [M in Method]: { readonly params: Validator<ParamsOf<M>>; readonly result: Validator<ResultOf<M>> } } = METHODS;
export const isMethod = (m: string): m is Method => Object.hasOwn(METHODS, m);

/** THE map of notifications, host to webview: each one's fields. On the wire a notification is
 * `{ type: name, ...fields }`. */
const NOTIFICATIONS = {
  /** A job's tile changed (queued, progress, failed, canceled, succeeded). */
  jobUpdated: z.object({ tile: Tile }),
  /** A product was stored; it replaces its job's tile. */
  productAdded: z.object({ tile: Tile, replaces: z.optional(id) }),
  productsChanged: z.object({ tiles: list(Tile, 1000) }),
  productsDeleted: z.object({ ids: list(id, 1000) }),
  /** The products changed under the grid (an undo): ask again, focusing `focus` if given. */
  reset: z.object({ focus: z.optional(id) }),
  facets: z.object({ facets: Facets }),
  /** What Undo (Ctrl/Cmd+Z) would restore: the last deleted products, or none. */
  undoable: z.object({ ids: list(id, 1000) }),
};
export type NotificationName = keyof typeof NOTIFICATIONS;
export type NotificationParams<N extends NotificationName> = z.output<(typeof NOTIFICATIONS)[N]>;
export const Notifications: { readonly [N in NotificationName]: Validator<NotificationParams<N>> } = NOTIFICATIONS;
export const isNotification = (t: string): t is NotificationName => Object.hasOwn(NOTIFICATIONS, t);
/** A notification as posted: its name in `type`, its fields beside it. */
export type HostNotification = { [N in NotificationName]: { type: N } & NotificationParams<N> }[NotificationName];
/** One handler per notification the webview (or a part of it) listens to. */
export type NotificationHandlers = { [N in NotificationName]?: (params: NotificationParams<N>) => void };

/** The answer to a request. `result` is checked against the method's result schema by the
 * webview, which knows the method by the request's id. */
export const Reply = z.object({ type: z.literal('reply'), id: z.int(), ok: z.boolean(), result: z.optional(z.unknown()), error: z.optional(str(2000)) });
export type Reply = z.infer<typeof Reply>;
export type HostMessage = Reply | HostNotification;

/** Messages from the webview: requests (checked again against their method's params), the
 * handshake, and the view it remembers. */
export const WebviewMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('request'), id: int(0), method: str(50), params: z.unknown() }),
  /** The page runs and listens: from now on the host posts notifications (none are queued
   * before; the page asks for the current state right after). */
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('stateChanged'), filter: Filter, tileSize: int(64, 640), fit: z.optional(z.boolean()) }),
]);
export type WebviewMessage = z.infer<typeof WebviewMessage>;

/** Injected into the HTML, so the first paint needs no round trip. The facets (the filter
 * lists, closed at first) are not in it: the page asks for them once it listens. */
export const InitialState = z.object({
  scope: str(CAPS.project),
  title: str(CAPS.title),
  filter: Filter,
  tileSize: int(64, 640),
  /** Thumbnails show the whole image (fit) rather than fill the tile. */
  fit: z.optional(z.boolean()),
  page: Page,
  /** Set in Restricted Mode: why the gallery is read-only and how to change that. */
  readOnly: z.optional(str(CAPS.error)),
});
export type InitialState = z.infer<typeof InitialState>;

export const DEFAULT_FILTER: Filter = { status: 'all', sort: 'newest' };

/** Prompt words as the full-text index sees them (letters and digits, lower-cased). */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Whether a tile that arrives live (a new product, a job's update) belongs in a grid showing
 * `f`: the rules the database query applies — provider, model, favourite, rating, tags, dates,
 * and the search words (each a word of the prompt, the last one a prefix, as typed). */
export function tileMatches(t: Tile, f: Filter): boolean {
  if (f.provider?.length && !f.provider.includes(t.provider)) return false;
  if (f.model?.length && !f.model.includes(t.model)) return false;
  if (f.favorite && !t.favorite) return false;
  if (f.minRating && t.rating < f.minRating) return false;
  if (f.tags?.some((tag) => !t.tags.includes(tag))) return false;
  if (f.from && t.createdAt < f.from) return false;
  if (f.to && t.createdAt > (f.to.length <= 10 ? `${f.to}T23:59:59.999Z` : f.to)) return false;
  if (f.minCost !== undefined || f.maxCost !== undefined) {
    if (!t.cost || t.cost.currency !== 'USD') return false;
    if (f.minCost !== undefined && t.cost.amount < f.minCost) return false;
    if (f.maxCost !== undefined && t.cost.amount > f.maxCost) return false;
  }
  if (!f.text) return true;
  const want = words(f.text).slice(0, 16);
  const have = words(t.prompt);
  return want.length > 0 && want.every((w, i) => (i === want.length - 1 ? have.some((h) => h.startsWith(w)) : have.includes(w)));
}
