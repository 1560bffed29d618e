// The gallery panel: the thin VS Code adapter around the vscode-free GalleryController.
// Loaded lazily (nothing is built until the panel opens), restored after a reload by a
// serializer, no context kept while hidden (the state is in the webview's saved state).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SheetItem } from '../archive/contactSheet.ts';
import { rebaseImagePaths } from '../engine/imageFields.ts';
import { stringifyParamFile } from '../engine/paramFile.ts';
import type { SubmissionPart } from '../engine/submission.ts';
import type { Logger } from '../providers/types.ts';
import { layoutOf, PathRefusedError, ProductStore, projectFile, thumbsDir, type TrashEntry, type TrashSink } from '../storage/index.ts';
import { ThumbnailQueue } from '../storage/thumbnailQueue.ts';
import type { JobRecord, ProductRecord, ProjectDb } from '../storage/types.ts';
import { GalleryController, type GalleryProject, type HostActions } from '../webviews/galleryController.ts';
import { firstScreenTiles, inlineThumbnails } from '../webviews/firstScreen.ts';
import { galleryHtml } from '../webviews/galleryHtml.ts';
import { DEFAULT_FILTER, Filter, type InitialState } from '../webviews/protocol.ts';
import type { ProjectManager } from './projects.ts';
import type { Submissions } from './submit.ts';
import { restrictedReason } from './trust.ts';

export const GALLERY_VIEW_TYPE = 'artFactory.gallery';
/** Whether thumbnails show the whole image: the user's last choice, for every gallery. */
const FIT_KEY = 'artFactory.gallery.fit';

export interface GalleryDeps {
  projects(): GalleryProject[];
  activeProject(): string | undefined;
  log: Logger;
  /** What happens in the projects: the open gallery shows it live. */
  events: Pick<ProjectManager, 'onDidChangeJob' | 'onDidAddProduct' | 'onDidMakeThumbnail' | 'onDidChangeProduct'>;
  tileSize(): number;
  /** Provider, model and input to make each product again: its own, or, when its provider is
   * not here (an imported image), a model the user picks once, with the parameters carried
   * over. Undefined when the user backs out. `exact`: pin the model version the product
   * recorded (Re-run), where the provider can; `sameSeed`: with the seed it was made with. */
  recipesFor(products: ProductRecord[], opts?: { exact?: boolean; sameSeed?: boolean }): Promise<Recipe[] | undefined>;
  /** "Use as Input…": a new parameter file whose image field names these products. */
  useAsInput(items: { project: string; product: ProductRecord }[]): Promise<string | undefined>;
  /** A `$schema` reference for a parameter file in `fromDir`, the model's schema made first. */
  schemaRef(dir: string, provider: string, model: string, fromDir: string): Promise<string>;
  /** Re-run goes the way every generation goes: checks, confirmation, progress, one batch. */
  submissions: Pick<Submissions, 'submit'>;
  /** Export and contact sheet of the selection: the same flows as the commands (format,
   * size, place, progress, summary), handed the products the gallery holds. */
  exportItems(items: SheetItem[]): Promise<void>;
  contactSheet(items: SheetItem[]): Promise<void>;
  /** Save as Template of a product's recipe. */
  saveTemplate(text: string, project: string): Promise<void>;
  showLog(): void;
  verifyProject(project: string): Promise<void>;
  /** Say a failure the way commands do (the webview only announces it to screen readers). */
  showFailure(e: unknown): Promise<void>;
}

export interface Recipe {
  provider: string;
  model: string;
  input: Record<string, unknown>;
}

export interface Gallery extends vscode.Disposable {
  open(scope: string | undefined): Promise<void>;
  /** Query again (after Verify Project, or when the workspace becomes trusted). */
  refresh(): Promise<void>;
}

interface Deleted {
  project: string;
  entry: TrashEntry;
}

/** What the gallery's webview may load: its bundle, the extension's media, and the thumbnails
 * and files of the projects it shows. */
function webviewOptions(context: vscode.ExtensionContext, projects: readonly GalleryProject[]): vscode.WebviewOptions {
  const roots = [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webviews'), vscode.Uri.joinPath(context.extensionUri, 'media')];
  for (const p of projects) roots.push(vscode.Uri.file(thumbsDir(p.dir)), vscode.Uri.file(path.join(p.dir, 'products')));
  return { enableScripts: true, localResourceRoots: roots };
}

/** What a gallery of `scope` is called (its tab says "Gallery: " before it). */
function scopeTitle(scope: string, projects: readonly GalleryProject[]): string {
  return scope === 'all' ? 'All projects' : (projects[0]?.name ?? 'Gallery');
}

/** At most this many bytes of thumbnails go in the HTML (a first screen of 256-pixel WebPs is
 * about a quarter of it). */
const FIRST_SCREEN_BYTES = 1_500_000;

/** The trash's last step: the OS trash where there is one, else deleted for good. */
const osTrash: TrashSink = {
  discard: async (dir) => {
    await vscode.workspace.fs.delete(vscode.Uri.file(dir), { recursive: true, useTrash: true }).then(undefined, () => fs.rm(dir, { recursive: true, force: true }));
  },
};

class GalleryPanel {
  private controller: GalleryController;
  private readonly disposables: vscode.Disposable[] = [];
  /** Deleted products wait in the project's .artfactory/trash while the panel is open (undo). */
  private lastDeleted: Deleted[] = [];
  private allDeleted: Deleted[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    private scope: string,
    private readonly context: vscode.ExtensionContext,
    private readonly deps: GalleryDeps,
    onDispose: () => void,
  ) {
    this.controller = this.makeController();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void this.controller.handle(m)),
      // Hidden, the webview is dropped (no context kept): notifications wait for the next page's ready.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.controller.pageGone();
      }),
      panel.onDidDispose(() => {
        for (const q of this.thumbnailQueues.values()) void q.then((x) => x.stop(), () => undefined);
        void this.emptyTrash();
        this.disposables.forEach((d) => d.dispose());
        onDispose();
      }),
    );
  }

  /** While the initial state is built: the file behind each URI it names (firstScreen.ts). */
  private filesOfUris: Map<string, string> | undefined;
  /** The thumbnails the HTML carries (file → data: URI), named the same way in the page's
   * first page of tiles (its catch-up query right after it starts), so the pictures in view
   * do not load a second time through VS Code; ordinary URIs after that. */
  private carried: Map<string, string> | undefined;

  private makeController(): GalleryController {
    return new GalleryController({
      projects: () => this.deps.projects(),
      scope: this.scope,
      toUri: (abs) => {
        const carried = this.carried?.get(abs);
        if (carried) return carried;
        const uri = this.panel.webview.asWebviewUri(vscode.Uri.file(abs)).toString();
        this.filesOfUris?.set(uri, abs);
        return uri;
      },
      actions: this.actions(),
      post: (msg) => {
        if (msg.type === 'reply' && msg.ok && typeof msg.result === 'object' && msg.result !== null && 'tiles' in msg.result) this.carried = undefined;
        void this.panel.webview.postMessage(msg);
      },
      log: this.deps.log,
      noThumbnails: (dir, products) => void this.makeThumbnails(dir, products),
      onViewChanged: (view) => void this.context.globalState.update(FIT_KEY, view.fit),
      readOnly: restrictedReason,
    });
  }

  /** Reload the grid (after a verify moved rows to quarantine, or trust was granted). */
  async refresh(): Promise<void> {
    await this.show(this.scope, this.controller.currentFilter, undefined, false);
  }

  /** Shows `scope` from its first page. `firstScreen`: carry the thumbnails in view in the HTML
   * (a new panel, or another scope; a panel VS Code revives paints its own saved state). */
  async show(scope: string, filter: Filter = DEFAULT_FILTER, tileSize = this.deps.tileSize(), firstScreen = true): Promise<void> {
    this.scope = scope;
    this.controller = this.makeController();
    const projects = this.deps.projects().filter((p) => scope === 'all' || p.dir === scope);
    // The same options the panel was made with are no change (VS Code compares them).
    this.panel.webview.options = webviewOptions(this.context, projects);
    const title = scopeTitle(scope, projects);
    this.panel.title = `Gallery: ${title}`;
    const started = Date.now();
    this.carried = undefined;
    const files = (this.filesOfUris = new Map());
    let state: InitialState;
    try {
      state = await this.controller.initialState(filter, { tileSize, fit: this.context.globalState.get<boolean>(FIT_KEY, false) }, title);
    } finally {
      this.filesOfUris = undefined;
    }
    const queried = Date.now();
    if (firstScreen) {
      const { tiles, carried } = await inlineThumbnails(state.page.tiles, (uri) => files.get(uri), { count: firstScreenTiles(state.tileSize), budget: FIRST_SCREEN_BYTES });
      state = { ...state, page: { ...state.page, tiles } };
      this.carried = carried;
    }
    const asset = (f: string) => this.panel.webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webviews', f)).toString();
    const html = galleryHtml({ cspSource: this.panel.webview.cspSource, scriptUri: asset('gallery.js'), styleUri: asset('gallery.css'), state });
    this.panel.webview.html = html;
    // Where an open's time goes on this side (bench/galleryVscode.ts reads this line).
    this.deps.log.info(`gallery: "${title}" handed to VS Code in ${Date.now() - started} ms (initial state ${queried - started} ms, ${state.page.tiles.length} tiles, ${state.page.tiles.filter((t) => t.thumb?.startsWith('data:')).length} thumbnails carried, HTML ${Math.round(html.length / 1024)} KB)`);
  }

  get currentScope(): string {
    return this.scope;
  }

  onJob(dir: string, job: JobRecord): void {
    this.controller.onJob(dir, job);
  }
  onProduct(dir: string, p: ProductRecord): void {
    this.controller.onProduct(dir, p);
  }
  onProductChanged(dir: string, p: ProductRecord): void {
    this.controller.onProductChanged(dir, p);
  }
  /** Per project, the thumbnails this gallery found missing, made in the background. */
  private readonly thumbnailQueues = new Map<string, Promise<ThumbnailQueue>>();

  private async makeThumbnails(dir: string, products: ProductRecord[]): Promise<void> {
    let queue = this.thumbnailQueues.get(dir);
    if (!queue) {
      queue = this.db(dir).then((db) => {
        const q = new ThumbnailQueue(new ProductStore(dir, db), (id) => void this.onThumbnail(dir, id));
        void q.start();
        return q;
      });
      this.thumbnailQueues.set(dir, queue);
    }
    try {
      // Added last first: the queue makes the last added first, so the page's top comes first.
      (await queue).add(...[...products].reverse());
    } catch (e) {
      this.thumbnailQueues.delete(dir);
      this.deps.log.warn(`gallery: missing thumbnails of ${dir} not made: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async onThumbnail(dir: string, productId: string): Promise<void> {
    const project = this.deps.projects().find((p) => p.dir === dir);
    const product = await (await project?.db())?.getProduct(productId);
    if (product) this.controller.onThumbnail(dir, product);
  }

  private db(dir: string): Promise<ProjectDb> {
    const p = this.deps.projects().find((x) => x.dir === dir);
    if (!p) throw new Error('That project is no longer open.');
    return p.db();
  }

  private async store(dir: string): Promise<ProductStore> {
    return new ProductStore(dir, await this.db(dir));
  }

  /** A product's media file, resolved under the path rule (refused: an error that says why). */
  private async fileOf(project: string, product: ProductRecord): Promise<vscode.Uri> {
    try {
      const { abs } = await (await this.store(project)).paths.resolve(layoutOf(product).file, 'products', { kind: 'file', mustExist: true, what: `Product ${product.id}: its file` });
      return vscode.Uri.file(abs);
    } catch (e) {
      // Said where the user looks (the webview only announces it to screen readers).
      if (e instanceof PathRefusedError) void vscode.window.showWarningMessage(`Art Factory: ${e.message}`, 'Verify Project').then((b) => b && this.deps.verifyProject(project));
      throw e;
    }
  }

  private actions(): HostActions {
    return {
      run: async (action, items) => {
        const first = items[0];
        switch (action) {
          case 'reuse': {
            const [recipe] = (await this.deps.recipesFor([first.product])) ?? [];
            if (!recipe) return;
            await this.openAsParamFile(first.project, first.product, recipe);
            return 'Opened a new parameter file with the same input.';
          }
          case 'saveTemplate': {
            const [recipe] = (await this.deps.recipesFor([first.product])) ?? [];
            if (recipe) await this.deps.saveTemplate(stringifyParamFile(recipe), first.project);
            return;
          }
          case 'rerun':
          case 'rerunNewSeed':
            return this.rerun(items, action === 'rerunNewSeed');
          case 'useAsInput':
            return this.deps.useAsInput(items);
          case 'copyPrompt':
            await vscode.env.clipboard.writeText(items.map((i) => i.product.prompt ?? '').join('\n\n'));
            return 'Prompt copied.';
          case 'reveal':
            await vscode.commands.executeCommand('revealFileInOS', await this.fileOf(first.project, first.product));
            return;
          case 'openFile':
            await vscode.commands.executeCommand('vscode.open', await this.fileOf(first.project, first.product));
            return;
          case 'export':
          case 'contactSheet': {
            const chosen = items.map((i) => ({ projectDir: i.project, product: i.product }));
            await (action === 'export' ? this.deps.exportItems(chosen) : this.deps.contactSheet(chosen));
            return;
          }
        }
      },
      delete: (items) => this.delete(items),
      undoDelete: () => this.undoDelete(),
    };
  }

  /** A new parameter file in the project's params/ with the recipe and its model's $schema,
   * opened beside the gallery. */
  private async openAsParamFile(project: string, product: ProductRecord, recipe: Recipe): Promise<void> {
    const paramsDir = path.join(project, 'params');
    await fs.mkdir(paramsDir, { recursive: true });
    // Image paths were relative to the product's own parameter file.
    const from = product.sourceFile ? path.dirname(projectFile(project, product.sourceFile)) : project;
    const body = {
      $schema: await this.deps.schemaRef(project, recipe.provider, recipe.model, paramsDir),
      ...recipe,
      input: rebaseImagePaths(recipe.input, product.inputs, from, paramsDir),
    };
    let file = path.join(paramsDir, `reuse-${product.id}.art.json`);
    for (let i = 2; await fs.access(file).then(() => true, () => false); i++) file = path.join(paramsDir, `reuse-${product.id}-${i}.art.json`);
    await fs.writeFile(file, stringifyParamFile(body), { flag: 'wx' });
    await vscode.window.showTextDocument(vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.Beside });
  }

  /** Re-run: one submission (the checks a parameter file gets, a confirmation when large,
   * progress, one batch), with a part per project and parameter file, so relative image paths
   * resolve against the product's parameter file, as the first time. A refusal names the
   * product and offers its recipe as a parameter file to fix. */
  private async rerun(items: { project: string; product: ProductRecord }[], newSeed: boolean): Promise<string | undefined> {
    const recipes = await this.deps.recipesFor(items.map((i) => i.product), { exact: true, sameSeed: !newSeed });
    if (!recipes) return;
    const runs = recipes.map((r) => ({ ...r, input: newSeed ? { ...r.input, seed: Math.floor(Math.random() * 2 ** 31) } : { ...r.input } }));
    const parts: (SubmissionPart & { items: number[] })[] = [];
    for (const [i, { project, product }] of items.entries()) {
      let part = parts.find((p) => p.projectDir === project && p.sourceFile === product.sourceFile);
      if (!part) parts.push((part = { projectDir: project, sourceFile: product.sourceFile, source: { kind: 'jobs', specs: [] }, items: [] }));
      if (part.source.kind === 'jobs') part.source.specs.push(runs[i]);
      part.items.push(i);
    }
    const title = `Re-run of ${runs.length} product${runs.length === 1 ? '' : 's'}`;
    let said: string | undefined;
    const outcome = await this.deps.submissions.submit(
      { title, origin: 'rerun', parts: parts.map(({ items: _items, ...part }) => part) },
      {
        refused: (plan) => {
          const first = plan.problems[0];
          const index = parts[first.part]?.items[first.job ?? 0] ?? 0;
          const jobs = new Set(plan.problems.map((p) => `${p.part}:${p.job ?? 0}`)).size;
          const more = jobs > 1 ? ` (${jobs - 1} more of the ${runs.length} have problems too)` : '';
          const { product, project } = items[index];
          const label = product.prompt?.slice(0, 40) || product.imported?.fileName || product.id;
          said = `Not sent: ${first.message}.`;
          void vscode.window
            .showErrorMessage(`Art Factory: Re-run of "${label}" with ${runs[index].model} was not sent: ${first.message}${more}. Nothing was sent.`, 'Open as Parameter File')
            .then((b) => b && this.openAsParamFile(project, product, runs[index]));
        },
      },
    ).catch(async (e: unknown) => {
      // Checked, but not stored or started (the database could not be written): say so.
      await this.deps.showFailure(e);
      return undefined;
    });
    if (!outcome) return 'Not started.';
    if (outcome.status === 'refused') return said;
    if (outcome.status === 'declined') return 'Not started.';
    return `Started ${runs.length} job${runs.length === 1 ? '' : 's'}.`;
  }

  /** Move products to their project's trash (the product store decides which files are a
   * product's and checks each); undo puts them back; the trash empties when the panel closes. */
  private async delete(items: { project: string; product: ProductRecord }[]): Promise<{ deleted: string[]; note: string }> {
    const batch: Deleted[] = [];
    const refused: string[] = [];
    const byProject = new Map<string, ProductRecord[]>();
    for (const { project, product } of items) byProject.set(project, [...(byProject.get(project) ?? []), product]);
    for (const [project, products] of byProject) {
      const result = await (await this.store(project)).trash(products);
      batch.push(...result.trashed.map((entry) => ({ project, entry })));
      for (const r of result.refused) {
        refused.push(r.reason);
        this.deps.log.warn(`gallery: delete refused: ${r.reason}`);
      }
    }
    this.lastDeleted = batch;
    this.allDeleted.push(...batch);
    if (refused.length) void vscode.window.showWarningMessage(`Art Factory: ${refused.length} product${refused.length === 1 ? ' was' : 's were'} not deleted: ${refused[0]}`, 'Show Log').then((b) => b && this.deps.showLog());
    return { deleted: batch.map((d) => d.entry.record.id), note: `Deleted ${batch.length}.${refused.length ? ` ${refused.length} refused.` : ''}` };
  }

  private async undoDelete(): Promise<string> {
    const batch = this.lastDeleted;
    this.lastDeleted = [];
    let restored = 0;
    for (const d of batch) {
      const result = await (await this.store(d.project)).untrash([d.entry]);
      restored += result.restored.length;
      for (const c of result.conflicts) this.deps.log.warn(`gallery: ${c.id} stays in the trash: ${c.reason}`);
      if (result.restored.length) this.allDeleted = this.allDeleted.filter((x) => x !== d);
    }
    return `Restored ${restored}.`;
  }

  /** When the panel closes, what is still in the trash goes to the OS trash. */
  private async emptyTrash(): Promise<void> {
    const all = this.allDeleted;
    this.allDeleted = [];
    for (const d of all) await (await this.store(d.project)).emptyTrash([d.entry], osTrash).catch((e: unknown) => this.deps.log.warn(`gallery: could not empty the trash of ${d.entry.record.id}: ${e instanceof Error ? e.message : String(e)}`));
  }
}

export function registerGallery(context: vscode.ExtensionContext, deps: GalleryDeps): Gallery {
  let current: GalleryPanel | undefined;
  const adopt = (panel: vscode.WebviewPanel, scope: string) => {
    current = new GalleryPanel(panel, scope, context, deps, () => (current = undefined));
    return current;
  };
  const serializer = vscode.window.registerWebviewPanelSerializer(GALLERY_VIEW_TYPE, {
    async deserializeWebviewPanel(panel, state: unknown) {
      const s = (state ?? {}) as { scope?: unknown; filter?: unknown; tileSize?: unknown };
      const filter = Filter.safeParse(s.filter);
      const scope = typeof s.scope === 'string' && s.scope ? s.scope : (deps.activeProject() ?? 'all');
      await adopt(panel, scope).show(scope, filter.success ? filter.data : DEFAULT_FILTER, typeof s.tileSize === 'number' ? s.tileSize : deps.tileSize(), false);
    },
  });
  const events = [
    deps.events.onDidChangeJob(({ project, job }) => current?.onJob(project.dir, job)),
    deps.events.onDidAddProduct(({ project, product }) => current?.onProduct(project.dir, product)),
    deps.events.onDidMakeThumbnail(({ project, productId }) => void current?.onThumbnail(project.dir, productId)),
    deps.events.onDidChangeProduct(({ project, product }) => current?.onProductChanged(project.dir, product)),
  ];
  return {
    async open(scope) {
      const target = scope ?? deps.activeProject() ?? 'all';
      if (current) {
        current.panel.reveal();
        if (current.currentScope !== target) await current.show(target);
        return;
      }
      // Made with the title and options show() sets: the tab says which gallery from the start
      // (VS Code takes a second to show a webview after the first), and changed options would
      // have VS Code write an empty page first.
      const projects = deps.projects().filter((p) => target === 'all' || p.dir === target);
      const panel = vscode.window.createWebviewPanel(GALLERY_VIEW_TYPE, `Gallery: ${scopeTitle(target, projects)}`, vscode.ViewColumn.Active, { retainContextWhenHidden: false, ...webviewOptions(context, projects) });
      panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.svg');
      await adopt(panel, target).show(target);
    },
    refresh: async () => current?.refresh(),
    dispose: () => {
      serializer.dispose();
      events.forEach((e) => e.dispose());
      current?.panel.dispose();
    },
  };
}
