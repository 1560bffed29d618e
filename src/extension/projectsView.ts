import * as vscode from 'vscode';
import { COMMANDS } from './commands/ids.ts';
import { Disposable } from './disposable.ts';
import type { ProjectManager, ProjectSession } from './projects.ts';

/** The Projects view: one row per project with its product count. Counting opens the
 * project's database, so it happens only once the view is visible. */
export class ProjectsView extends Disposable implements vscode.TreeDataProvider<ProjectSession> {
  private readonly changed = this.register(new vscode.EventEmitter<ProjectSession | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly counts = new Map<string, number | string>();
  private readonly view: vscode.TreeView<ProjectSession>;

  constructor(private readonly projects: ProjectManager) {
    super();
    this.view = this.register(vscode.window.createTreeView('artFactory.projects', { treeDataProvider: this, showCollapseAll: false }));
    this.register(projects.onDidChange(() => this.refresh()));
    this.register(this.view.onDidChangeVisibility((e) => e.visible && this.refresh()));
    // An import of thousands adds products quickly: one recount per burst, not per product.
    const pending = new Map<string, NodeJS.Timeout>();
    this.register({ dispose: () => pending.forEach((t) => clearTimeout(t)) });
    this.register(
      projects.onDidAddProduct(({ project }) => {
        if (pending.has(project.dir)) return;
        pending.set(
          project.dir,
          setTimeout(() => {
            pending.delete(project.dir);
            this.recount(project.dir);
          }, 250),
        );
      }),
    );
  }

  refresh(): void {
    this.counts.clear();
    this.changed.fire(undefined);
  }

  /** A product was added or removed somewhere: recount that project only. */
  recount(dir: string): void {
    this.counts.delete(dir);
    this.changed.fire(this.projects.get(dir));
  }

  async getChildren(element?: ProjectSession): Promise<ProjectSession[]> {
    if (element) return [];
    await this.projects.ready();
    return this.projects.all();
  }

  async getTreeItem(s: ProjectSession): Promise<vscode.TreeItem> {
    const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.None);
    item.id = s.dir;
    item.contextValue = 'project';
    item.resourceUri = s.folder.uri;
    const active = this.projects.active() === s;
    item.iconPath = new vscode.ThemeIcon(active ? 'star-full' : 'folder');
    item.tooltip = `${s.dir}${active ? '\nActive project' : ''}`;
    item.command = { command: COMMANDS.openGallery, title: 'Open Gallery', arguments: [s] };
    if (this.view.visible) {
      let count = this.counts.get(s.dir);
      if (count === undefined) {
        count = await s
          .db()
          .then((db) => db.countProducts())
          .catch(() => 'database needs attention');
        this.counts.set(s.dir, count);
      }
      item.description = typeof count === 'number' ? `${count} product${count === 1 ? '' : 's'}` : count;
    }
    return item;
  }
}
