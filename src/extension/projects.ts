import * as path from 'node:path';
import * as vscode from 'vscode';
import { runCommand } from './commands/register.ts';
import type { JobRecord, ProductRecord, ProjectDb, ProjectManifest } from '../storage/types.ts';
import type { Engine } from '../engine/engine.ts';
import { Disposable } from './disposable.ts';
import type { OutputLog } from './log.ts';

/** Everything the extension holds for one open project. The database and the engine are
 * opened on first use, so activation loads neither sql.js nor sharp. */
export class ProjectSession {
  private dbPromise?: Promise<ProjectDb>;
  private enginePromise?: Promise<Engine>;

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    public manifest: ProjectManifest,
    private readonly openers: {
      openDb(dir: string): Promise<ProjectDb>;
      createEngine(session: ProjectSession, db: ProjectDb): Promise<Engine>;
    },
  ) {}

  get dir(): string {
    return this.folder.uri.fsPath;
  }
  get name(): string {
    return this.manifest.name || this.folder.name;
  }

  db(): Promise<ProjectDb> {
    this.dbPromise ??= this.openers.openDb(this.dir).catch((e: unknown) => {
      this.dbPromise = undefined; // let the next call try again (after a restore or rebuild)
      throw e;
    });
    return this.dbPromise;
  }

  engine(): Promise<Engine> {
    this.enginePromise ??= this.db()
      .then((db) => this.openers.createEngine(this, db))
      .catch((e: unknown) => {
        this.enginePromise = undefined;
        throw e;
      });
    return this.enginePromise;
  }

  isOpen(): boolean {
    return this.dbPromise !== undefined;
  }

  /** Close the engine and the database (before a rebuild or restore, or on dispose). */
  async close(): Promise<void> {
    const engine = this.enginePromise;
    const db = this.dbPromise;
    this.enginePromise = undefined;
    this.dbPromise = undefined;
    if (engine) (await engine.catch(() => undefined))?.dispose();
    if (db) await (await db.catch(() => undefined))?.close();
  }
}

export interface ProjectJobEvent {
  project: ProjectSession;
  job: JobRecord;
}
export interface ProjectProductEvent {
  project: ProjectSession;
  product: ProductRecord;
}
export interface ProjectThumbnailEvent {
  project: ProjectSession;
  productId: string;
}

/** Projects are the workspace folders that hold an artfactory.json. The active project
 * follows the active editor, else the last one the user picked.
 *
 * What happens in any project is said here once, for whoever shows it (the Jobs view, the
 * gallery, the Projects view's counts): a job changed, a product was added (generated or
 * imported), its thumbnails were made. */
export class ProjectManager extends Disposable {
  private readonly sessions = new Map<string, ProjectSession>();
  private lastPicked?: string;
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private readonly jobChanged = this.register(new vscode.EventEmitter<ProjectJobEvent>());
  readonly onDidChangeJob = this.jobChanged.event;
  private readonly productAdded = this.register(new vscode.EventEmitter<ProjectProductEvent>());
  readonly onDidAddProduct = this.productAdded.event;
  private readonly thumbnailMade = this.register(new vscode.EventEmitter<ProjectThumbnailEvent>());
  readonly onDidMakeThumbnail = this.thumbnailMade.event;
  private readonly productChanged = this.register(new vscode.EventEmitter<ProjectProductEvent>());
  /** A product's own metadata (rating, favourite, tags) changed outside the gallery (an agent tool). */
  readonly onDidChangeProduct = this.productChanged.event;
  private scanning?: Promise<void>;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly log: OutputLog,
    private readonly storage: {
      isProject(dir: string): Promise<boolean>;
      readManifest(dir: string): Promise<ProjectManifest>;
    },
    private readonly openers: ConstructorParameters<typeof ProjectSession>[2],
  ) {
    super();
    this.lastPicked = memento.get<string>('artFactory.activeProject');
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rescan()));
    const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/artfactory.json'));
    this.register(watcher.onDidCreate(() => void this.rescan()));
    this.register(watcher.onDidDelete(() => void this.rescan()));
    this.register(watcher.onDidChange((uri) => void this.reloadManifest(uri)));
  }

  /** Find the projects among the workspace folders (in parallel: dozens of folders are fine). */
  rescan(): Promise<void> {
    this.scanning = (async () => {
      const folders = vscode.workspace.workspaceFolders ?? [];
      const seen = new Set<string>();
      await Promise.all(
        folders.map(async (folder) => {
          const dir = folder.uri.fsPath;
          if (folder.uri.scheme !== 'file' || !(await this.storage.isProject(dir))) return;
          seen.add(dir);
          if (this.sessions.has(dir)) return;
          try {
            const manifest = await this.storage.readManifest(dir);
            this.sessions.set(dir, new ProjectSession(folder, manifest, this.openers));
          } catch (e) {
            this.log.error(`Project ${dir}: ${e instanceof Error ? e.message : String(e)}`);
            void vscode.window
              .showErrorMessage(`Art Factory: ${folder.name}/artfactory.json cannot be read: ${e instanceof Error ? e.message : String(e)} Fix the file and the project will load.`, 'Open File')
              .then((b) => b && vscode.window.showTextDocument(vscode.Uri.file(path.join(dir, 'artfactory.json'))));
          }
        }),
      );
      for (const [dir, s] of this.sessions) {
        if (!seen.has(dir)) {
          this.sessions.delete(dir);
          void s.close();
        }
      }
      void vscode.commands.executeCommand('setContext', 'artFactory.hasProject', this.sessions.size > 0);
      this.changed.fire();
    })();
    return this.scanning;
  }

  async ready(): Promise<void> {
    await (this.scanning ?? this.rescan());
  }

  private async reloadManifest(uri: vscode.Uri): Promise<void> {
    const s = this.sessions.get(path.dirname(uri.fsPath));
    if (!s) return;
    try {
      s.manifest = await this.storage.readManifest(s.dir);
      this.changed.fire();
    } catch {
      // A half-typed manifest: keep the last good one until it parses again.
    }
  }

  all(): ProjectSession[] {
    return [...this.sessions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(dir: string): ProjectSession | undefined {
    return this.sessions.get(dir);
  }

  /** The project of a file, if the file lies inside one. */
  forUri(uri: vscode.Uri): ProjectSession | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return folder ? this.sessions.get(folder.uri.fsPath) : undefined;
  }

  active(): ProjectSession | undefined {
    const editor = vscode.window.activeTextEditor;
    const fromEditor = editor ? this.forUri(editor.document.uri) : undefined;
    if (fromEditor) return fromEditor;
    if (this.lastPicked && this.sessions.has(this.lastPicked)) return this.sessions.get(this.lastPicked);
    return this.sessions.size === 1 ? [...this.sessions.values()][0] : undefined;
  }

  setActive(s: ProjectSession): void {
    this.lastPicked = s.dir;
    void this.memento.update('artFactory.activeProject', s.dir);
    this.changed.fire();
  }

  /** Say what a project's engine does: every job change, product and thumbnail. Called once
   * per engine, before it resumes anything, so no event is missed. */
  follow(project: ProjectSession, engine: Engine): void {
    engine.on('job', (job) => this.jobChanged.fire({ project, job }));
    engine.on('product', (product) => this.announceProduct(project, product));
    engine.on('thumbnail', (t) => this.announceThumbnail(project, t.productId));
  }

  /** A product added other than by the engine (an import). */
  announceProduct(project: ProjectSession, product: ProductRecord): void {
    this.productAdded.fire({ project, product });
  }

  announceProductChange(project: ProjectSession, product: ProductRecord): void {
    this.productChanged.fire({ project, product });
  }

  announceThumbnail(project: ProjectSession, productId: string): void {
    this.thumbnailMade.fire({ project, productId });
  }

  /** The active project, or ask; undefined when there is none (the caller offers New Project). */
  async pick(placeHolder = 'Pick an Art Factory project'): Promise<ProjectSession | undefined> {
    await this.ready();
    const active = this.active();
    if (active) return active;
    const all = this.all();
    if (all.length === 0) {
      const choice = await vscode.window.showWarningMessage('Art Factory: no project is open in this window.', 'New Project', 'Open Project');
      if (choice === 'New Project') await runCommand('newProject');
      if (choice === 'Open Project') await runCommand('openProject');
      return undefined;
    }
    const item = await vscode.window.showQuickPick(
      all.map((s) => ({ label: s.name, description: s.dir, session: s })),
      { placeHolder, matchOnDescription: true },
    );
    if (item) this.setActive(item.session);
    return item?.session;
  }

  override dispose(): void {
    for (const s of this.sessions.values()) void s.close();
    this.sessions.clear();
    super.dispose();
  }
}
