// The host side of the gallery, free of `vscode`: validates every message from the webview,
// answers requests from the project databases, and turns engine events into live updates.
import { isActiveState, type Logger } from '../providers/types.ts';
import { ProjectPaths, type FolderChecks } from '../storage/productPaths.ts';
import { ProductStore } from '../storage/productStore.ts';
import { z } from 'zod';
import type { JobRecord, ProductQuery, ProductRecord, ProjectDb } from '../storage/types.ts';
import { productLineage } from './lineage.ts';
import { CAPS, DEFAULT_FILTER, Filter, isMethod, Methods, READ_ONLY_ACTIONS, tileMatches, WebviewMessage, type Action, type Facets, type HostMessage, type HostNotification, type InitialState, type Method, type Page, type Patch, type ParamsOf, type ResultOf, type Tile } from './protocol.ts';
import { capText, jobTile, productDetail, productTile, TileRefused } from './tiles.ts';

export interface GalleryProject {
  dir: string;
  name: string;
  db(): Promise<ProjectDb>;
}

/** A product the gallery acts on, as found in the scope's projects. */
export interface FoundProduct {
  project: string;
  product: ProductRecord;
}

/** What the gallery asks the editor to do; the VS Code layer implements it. Each resolves with
 * a note for the status line, or nothing. */
export interface HostActions {
  /** Every action on products but Delete, on products that exist (at least one). */
  run(action: Exclude<Action, 'delete'>, items: FoundProduct[]): Promise<string | void>;
  /** Move products to the trash; says which went (a refused one stays in the grid). */
  delete(items: FoundProduct[]): Promise<{ deleted: string[]; note?: string }>;
  /** Bring back what the last `delete` moved to the trash. */
  undoDelete(): Promise<string | void>;
}

/** One handler per method of the protocol: its params checked, its result typed. */
export type GalleryHandlers = { readonly [M in Method]: (params: ParamsOf<M>) => Promise<ResultOf<M>> };

export interface ControllerOptions {
  projects: () => GalleryProject[];
  /** A project dir, or 'all'. */
  scope: string;
  /** An absolute file path as a URI the webview may load. */
  toUri: (absPath: string) => string;
  actions: HostActions;
  /** Posts to the webview. Notifications are posted only between the page's `ready` and
   * `pageGone()`; replies always (a request proves the page runs). */
  post: (msg: HostMessage) => void;
  log: Logger;
  /** The user changed the tile size or fit: remembered for the next gallery. */
  onViewChanged?: (view: { tileSize: number; fit: boolean }) => void;
  /** Why the gallery is read-only (Restricted Mode), or undefined when it is not. Then only
   * READ_ONLY_ACTIONS run; updates and the rest are refused with this text. */
  readOnly?: () => string | undefined;
  /** Products of a page shown from their files because their thumbnails are missing (not
   * asked in Restricted Mode, where the gallery writes nothing), in the page's order. */
  noThumbnails?: (project: string, products: ProductRecord[]) => void;
}

/** The next-page cursor: each project's own cursor, by project folder (from the webview, so
 * checked like any message). */
const Cursors = z.record(z.string().max(CAPS.project), z.string().max(1000));

export class GalleryController {
  /** Jobs still running (or failed) in this scope, shown as placeholder tiles. */
  private readonly jobs = new Map<string, { project: string; job: JobRecord }>();
  private filter: Filter = DEFAULT_FILTER;
  /** The products the last Delete removed, which Undo brings back. */
  private undoable: string[] = [];
  /** Messages from the webview dropped as malformed. */
  dropped = 0;
  /** Whether the page listens: set by its `ready`, cleared by pageGone(). Notifications before
   * are dropped, not queued: the page asks for the current page, the facets and (by `ready`)
   * what Undo holds right after, which brings everything they would have said. */
  private pageReady = false;
  /** Notifications dropped while no page listened. */
  notReady = 0;

  constructor(private readonly o: ControllerOptions) {}

  private projects(): GalleryProject[] {
    const all = this.o.projects();
    return this.o.scope === 'all' ? all : all.filter((p) => p.dir === this.o.scope);
  }

  private project(dir: string): GalleryProject | undefined {
    return this.projects().find((p) => p.dir === dir);
  }

  private readonly paths = new Map<string, ProjectPaths>();

  private pathsOf(project: string): ProjectPaths {
    let p = this.paths.get(project);
    if (!p) this.paths.set(project, (p = new ProjectPaths(project)));
    return p;
  }

  /** The tile of a product, or undefined (logged) when its files are refused by the path rule
   * or a value cannot be shown: such a product is left out, never painted from. */
  productTile(project: string, p: ProductRecord, checked?: FolderChecks, noThumbnail?: (p: ProductRecord) => void): Tile | undefined {
    try {
      return productTile(project, p, { paths: this.pathsOf(project), toUri: this.o.toUri, checked, noThumbnail });
    } catch (e) {
      if (!(e instanceof TileRefused)) throw e;
      this.o.log.warn(`gallery: not shown: ${e.message}`);
      return undefined;
    }
  }

  jobTile(project: string, j: JobRecord): Tile | undefined {
    return jobTile(project, j);
  }

  private toQuery(f: Filter, after: string | undefined, limit: number): ProductQuery {
    return { text: f.text || undefined, provider: f.provider, model: f.model, favorite: f.favorite, minRating: f.minRating, tags: f.tags, from: f.from, to: f.to, minCost: f.minCost, maxCost: f.maxCost, sort: f.sort, after, limit };
  }

  private jobTiles(f: Filter): Tile[] {
    if (f.status === 'products') return [];
    const out: Tile[] = [];
    for (const { project, job } of this.jobs.values()) {
      const running = isActiveState(job.state);
      if (f.status === 'running' && !running) continue;
      if (f.status === 'failed' && job.state !== 'failed') continue;
      if (f.status === 'all' && !running) continue;
      const tile = this.jobTile(project, job);
      if (tile && tileMatches(tile, f)) out.push(tile);
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** A page of tiles. In "all projects" scope each project pages on its own cursor. A first
   * page also says where `focus` is in the results and which of `keep` they hold, so the grid
   * keeps its focus and selection on the same products across a new filter or sort. */
  async query(f: Filter, after: string | undefined, limit: number, find: { focus?: string; keep?: string[] } = {}): Promise<Page> {
    this.filter = f;
    const jobTiles = after ? [] : this.jobTiles(f);
    if (f.status === 'running' || f.status === 'failed') {
      if (f.status === 'failed' && !after) await this.loadFailedJobs();
      const tiles = this.jobTiles(f);
      const at = find.focus ? tiles.findIndex((t) => t.id === find.focus) : -1;
      return { tiles, total: tiles.length, focusAt: at >= 0 ? at : undefined, kept: find.keep && tiles.filter((t) => find.keep!.includes(t.id)).map((t) => t.id) };
    }
    const projects = this.projects();
    // The focused product's record, asked for beside the page (the database worker answers in
    // turn, but the round trip overlaps): needed when the page does not hold it.
    const focused = !after && find.focus ? this.find(find.focus).catch(() => undefined) : undefined;
    const cursors: Record<string, string | undefined> = after ? this.cursors(after) : {};
    const tiles: Tile[] = [...jobTiles];
    let total = jobTiles.length;
    const next: Record<string, string> = {};
    for (const p of projects) {
      if (after && !cursors[p.dir]) continue;
      const db = await p.db();
      const page = await db.queryProducts(this.toQuery(f, cursors[p.dir], limit));
      total += page.total;
      const checked: FolderChecks = new Map();
      const unthumbed: ProductRecord[] = [];
      for (const r of page.items) {
        const tile = this.productTile(p.dir, r, checked, (x) => unthumbed.push(x));
        if (tile) tiles.push(tile);
        else total--;
      }
      if (unthumbed.length && !this.o.readOnly?.()) this.o.noThumbnails?.(p.dir, unthumbed);
      if (page.next) next[p.dir] = page.next;
    }
    if (projects.length > 1) {
      // Merge the projects' pages in the chosen order (approximate across page edges).
      const key = (t: Tile): string => (f.sort === 'model' ? t.model : f.sort === 'rating' ? String(9 - t.rating) : t.createdAt);
      tiles.sort((a, b) => (a.kind !== b.kind ? (a.kind === 'job' ? -1 : 1) : f.sort === 'oldest' ? key(a).localeCompare(key(b)) : f.sort === 'newest' ? key(b).localeCompare(key(a)) : key(a).localeCompare(key(b))));
    }
    const located = after ? {} : await this.locate(f, tiles, jobTiles, find, focused);
    return { tiles, total, next: Object.keys(next).length ? Buffer.from(JSON.stringify(next)).toString('base64url') : undefined, ...located };
  }

  private cursors(after: string): Record<string, string> {
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
    } catch {
      json = undefined;
    }
    const parsed = Cursors.safeParse(json);
    if (!parsed.success) throw new Error('That page of results is no longer valid; search again.');
    return parsed.data;
  }

  /** Where `focus` is in the results of `f` (job tiles first, then each project's products
   * before it), and which of `keep` the results hold. A focus in the first page (`tiles`) is
   * where it is there: counting what comes before it is a second pass over the matches (a
   * search's full-text list again), which the keystroke would wait for. */
  private async locate(f: Filter, tiles: Tile[], jobTiles: Tile[], find: { focus?: string; keep?: string[] }, focused?: Promise<FoundProduct | undefined>): Promise<Pick<Page, 'focusAt' | 'kept'>> {
    const q = this.toQuery(f, undefined, 1);
    const out: Pick<Page, 'focusAt' | 'kept'> = {};
    if (find.keep?.length) {
      const kept = jobTiles.filter((t) => find.keep!.includes(t.id)).map((t) => t.id);
      for (const p of this.projects()) kept.push(...(await (await p.db()).productsMatching(q, find.keep)));
      out.kept = kept;
    }
    const inPage = find.focus ? tiles.findIndex((t) => t.id === find.focus) : -1;
    if (inPage >= 0) out.focusAt = inPage;
    else if (find.focus) {
      const job = jobTiles.findIndex((t) => t.id === find.focus);
      const found = job >= 0 ? undefined : await (focused ?? this.find(find.focus));
      if (job >= 0) out.focusAt = job;
      else if (found && (await (await this.project(found.project)!.db()).productsMatching(q, [found.product.id])).length) {
        let at = jobTiles.length;
        for (const p of this.projects()) at += await (await p.db()).countBefore(q, found.product);
        out.focusAt = at;
      }
    }
    return out;
  }

  private async loadFailedJobs(): Promise<void> {
    for (const p of this.projects()) {
      const db = await p.db();
      for (const job of await db.listJobs({ states: ['failed'], limit: 500 })) this.jobs.set(job.id, { project: p.dir, job });
    }
  }

  /** The filters' choices as the webview last got them; grown as products with new ones come. */
  private known?: Facets;

  /** A product with a provider, model or tag the filters do not list yet: send the longer lists. */
  private noteFacets(p: ProductRecord): void {
    const k = this.known;
    if (!k) return;
    const provider = capText(p.provider, CAPS.provider);
    const model = capText(p.model, CAPS.model);
    const fresh = { providers: !k.providers.includes(provider), models: !k.models.includes(model), tags: (Array.isArray(p.tags) ? p.tags : []).map((t) => capText(t, CAPS.tag)).filter((t) => t && !k.tags.includes(t)) };
    if (!fresh.providers && !fresh.models && fresh.tags.length === 0) return;
    this.known = {
      providers: fresh.providers ? [...k.providers, provider].sort().slice(0, CAPS.facetValues) : k.providers,
      models: fresh.models ? [...k.models, model].sort().slice(0, CAPS.facetValues) : k.models,
      tags: [...k.tags, ...fresh.tags].slice(0, CAPS.facetValues),
    };
    this.notify({ type: 'facets', facets: this.known });
  }

  async facets(): Promise<Facets> {
    const merged = { providers: new Set<string>(), models: new Set<string>(), tags: new Set<string>() };
    for (const p of this.projects()) {
      const f = await (await p.db()).facets();
      f.providers.forEach((x) => merged.providers.add(x));
      f.models.forEach((x) => merged.models.add(x));
      f.tags.forEach((x) => merged.tags.add(x));
    }
    const list = (values: Set<string>, cap: number) => [...new Set([...values].map((v) => capText(v, cap)))].slice(0, CAPS.facetValues);
    this.known = { providers: list(merged.providers, CAPS.provider).sort(), models: list(merged.models, CAPS.model).sort(), tags: list(merged.tags, CAPS.tag) };
    return this.known;
  }

  async initialState(filter: Filter, view: { tileSize: number; fit: boolean }, title: string): Promise<InitialState> {
    const parsed = Filter.safeParse(filter);
    const f = parsed.success ? parsed.data : DEFAULT_FILTER;
    const page = await this.query(f, undefined, 200);
    const readOnly = this.o.readOnly?.();
    return { scope: capText(this.o.scope, CAPS.project), title: capText(title, CAPS.title), filter: f, tileSize: view.tileSize, fit: view.fit, page, ...(readOnly ? { readOnly: capText(readOnly, CAPS.error) } : {}) };
  }

  /** Find a product by id in the scope's projects. */
  private async find(id: string): Promise<FoundProduct | undefined> {
    for (const p of this.projects()) {
      const product = await (await p.db()).getProduct(id);
      if (product) return { project: p.dir, product };
    }
    return undefined;
  }

  /** Entry point for every message from the webview. Never throws. */
  async handle(raw: unknown): Promise<void> {
    const msg = WebviewMessage.safeParse(raw);
    if (!msg.success) return this.drop(`a malformed message (${msg.error.issues[0]?.message ?? 'invalid'})`);
    const m = msg.data;
    if (m.type === 'ready') {
      // A new or recreated page listens now; what Undo would restore is the host's to say.
      this.pageReady = true;
      this.notify({ type: 'undoable', ids: this.undoable });
      return;
    }
    if (m.type === 'stateChanged') {
      this.o.onViewChanged?.({ tileSize: m.tileSize, fit: m.fit ?? false });
      return;
    }
    if (!isMethod(m.method)) return this.drop(`a request for no method (${m.method.slice(0, 50)})`);
    await this.answer(m.method, m.id, m.params);
  }

  /** The page is gone (the panel was hidden, and VS Code dropped its webview): notifications
   * wait for the next page's `ready`. */
  pageGone(): void {
    this.pageReady = false;
  }

  private drop(what: string): void {
    this.dropped++;
    this.o.log.warn(`gallery: dropped ${what}`);
  }

  private async answer<M extends Method>(method: M, id: number, raw: unknown): Promise<void> {
    const params = Methods[method].params.safeParse(raw);
    if (!params.success) {
      this.drop(`${method} with bad parameters (${params.error.issues[0]?.message ?? 'invalid'})`);
      this.o.post({ type: 'reply', id, ok: false, error: 'Invalid request.' });
      return;
    }
    try {
      const result = await this.handlers[method](params.data);
      this.o.post({ type: 'reply', id, ok: true, result });
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      this.o.log.error(`gallery: ${method} failed: ${text}`);
      this.o.post({ type: 'reply', id, ok: false, error: text.slice(0, 2000) });
    }
  }

  private notify(msg: HostNotification): void {
    if (this.pageReady) this.o.post(msg);
    else this.notReady++;
  }

  /** The protocol's methods, one handler each (GalleryHandlers lists them all, typed). */
  readonly handlers: GalleryHandlers = {
    query: (p) => this.query(p.filter, p.after, p.limit, { focus: p.focus, keep: p.keep }),
    facets: () => this.facets(),
    getProduct: async ({ id }) => {
      const found = await this.mustFind(id);
      return productDetail(found.project, found.product, { paths: this.pathsOf(found.project), toUri: this.o.toUri });
    },
    lineage: async ({ id }) => {
      const found = await this.mustFind(id);
      return productLineage(await this.project(found.project)!.db(), found.product, (p) => this.productTile(found.project, p));
    },
    update: ({ ids, patch }) => {
      this.refuseWhenReadOnly('Rating, tagging and notes are');
      // One at a time, in the order the keys were pressed: `f` then `4` must not end with the
      // tile (or the sidecar) showing the older of two records.
      const done = this.updating.then(() => this.update(ids, patch));
      this.updating = done.catch(() => undefined);
      return done;
    },
    action: ({ ids, action }) => this.act(ids, action),
    costSum: async ({ ids }) => {
      // Each project's rows answer for their own ids; the sums add up across projects.
      const sums = new Map<string, { currency: string; amount: number; products: number; estimated: boolean }>();
      let unknown = 0;
      for (const project of this.projects()) {
        const r = await (await project.db()).costSum(ids);
        for (const x of r.sums) {
          const t = sums.get(x.currency) ?? { currency: x.currency, amount: 0, products: 0, estimated: false };
          t.amount = Math.round((t.amount + x.amount) * 1e8) / 1e8;
          t.products += x.products;
          t.estimated ||= x.estimated;
          sums.set(x.currency, t);
        }
        unknown += r.unknown;
      }
      return { sums: [...sums.values()].slice(0, 20), unknown };
    },
    undoDelete: async () => {
      this.refuseWhenReadOnly('Undo is');
      const note = await this.o.actions.undoDelete();
      const restored = this.undoable;
      this.undoable = [];
      this.notify({ type: 'reset', focus: restored[0] });
      this.notify({ type: 'undoable', ids: [] });
      return this.note(note);
    },
  };

  private async mustFind(id: string): Promise<FoundProduct> {
    const found = await this.find(id);
    if (!found) throw new Error('That product no longer exists.');
    return found;
  }

  private async act(ids: string[], action: Action): Promise<string | null> {
    if (!READ_ONLY_ACTIONS.includes(action)) this.refuseWhenReadOnly('This action is');
    const items = (await Promise.all(ids.map((id) => this.find(id)))).filter((x) => x !== undefined);
    if (items.length === 0) throw new Error('Those products no longer exist.');
    if (action !== 'delete') return this.note(await this.o.actions.run(action, items));
    const { deleted, note } = await this.o.actions.delete(items);
    this.undoable = deleted.filter((id) => ids.includes(id));
    if (this.undoable.length) this.notify({ type: 'productsDeleted', ids: this.undoable });
    this.notify({ type: 'undoable', ids: this.undoable });
    return this.note(note);
  }

  /** A note for the status line, cut to what the webview accepts. */
  private note(text: string | void | undefined): string | null {
    return text ? capText(text, CAPS.error) : null;
  }

  private updating: Promise<unknown> = Promise.resolve();

  private async update(ids: string[], patch: Patch): Promise<number> {
    const tiles: Tile[] = [];
    for (const id of ids) {
      const found = await this.find(id);
      if (!found) continue;
      // The row and the sidecar (the product store owns both).
      const store = new ProductStore(found.project, await this.project(found.project)!.db());
      const updated = await store.update(id, patch);
      if (!updated) continue;
      const tile = this.productTile(found.project, updated);
      if (tile) tiles.push(tile);
      this.noteFacets(updated);
    }
    if (tiles.length) this.notify({ type: 'productsChanged', tiles });
    return tiles.length;
  }

  /** In Restricted Mode: refuse, saying why and how to trust. */
  private refuseWhenReadOnly(what: string): void {
    const why = this.o.readOnly?.();
    if (why) throw new Error(`${what} off: ${why}`);
  }

  /** A job changed on the host: update its placeholder tile within the same tick. */
  onJob(project: string, job: JobRecord): void {
    if (!this.project(project)) return;
    if (isActiveState(job.state) || job.state === 'failed') this.jobs.set(job.id, { project, job });
    else this.jobs.delete(job.id);
    const tile = this.jobTile(project, job);
    if (tile) this.notify({ type: 'jobUpdated', tile });
  }

  /** A product was stored: it replaces its job's placeholder tile. */
  onProduct(project: string, product: ProductRecord): void {
    if (!this.project(project)) return;
    const tile = this.productTile(project, product);
    if (tile) this.notify({ type: 'productAdded', tile, replaces: product.outputIndex === 0 && /^[\w-]{1,100}$/.test(product.jobId) ? product.jobId : undefined });
    this.noteFacets(product);
  }

  /** A product's metadata changed elsewhere (an agent tool rated or tagged it): show it. */
  onProductChanged(project: string, product: ProductRecord): void {
    if (!this.project(project)) return;
    const tile = this.productTile(project, product);
    if (tile) this.notify({ type: 'productsChanged', tiles: [tile] });
    this.noteFacets(product);
  }

  /** The thumbnail is ready: swap the tile's image to it. */
  onThumbnail(project: string, product: ProductRecord): void {
    if (!this.project(project)) return;
    const tile = this.productTile(project, product);
    if (tile) this.notify({ type: 'productsChanged', tiles: [tile] });
  }

  get currentFilter(): Filter {
    return this.filter;
  }
}
