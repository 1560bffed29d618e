import * as vscode from 'vscode';
import type { JobRecord } from '../storage/types.ts';
import { jobStatusText } from '../providers/jobStatus.ts';
import { isActiveState, TERMINAL_STATES } from '../providers/types.ts';
import { COMMANDS } from './commands/ids.ts';
import { Disposable } from './disposable.ts';
import type { ProjectManager } from './projects.ts';

const ICON: Record<string, string> = {
  queued: 'clock',
  submitted: 'cloud-upload',
  running: 'sync~spin',
  succeeded: 'pass',
  failed: 'error',
  canceled: 'circle-slash',
};
/** Finished jobs kept in the view; older ones stay in the database and the gallery. */
const KEEP_FINISHED = 50;

export interface JobEntry {
  project: string;
  job: JobRecord;
}

type Node = { group: 'active' | 'failed' | 'done' } | JobEntry;

/** The Jobs view and the status bar count of running jobs, fed by the projects' job events. */
export class JobsView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly jobs = new Map<string, JobEntry>();
  private readonly changed = this.register(new vscode.EventEmitter<Node | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly statusItem = this.register(vscode.window.createStatusBarItem('artFactory.jobs', vscode.StatusBarAlignment.Left, 50));
  private refreshTimer?: NodeJS.Timeout;

  constructor(private readonly projects: ProjectManager) {
    super();
    this.statusItem.name = 'Art Factory Jobs';
    this.statusItem.command = COMMANDS.showJobs;
    this.register(vscode.window.registerTreeDataProvider('artFactory.jobs', this));
    this.register({ dispose: () => clearTimeout(this.refreshTimer) });
    this.register(projects.onDidChangeJob(({ project, job }) => this.update(project.dir, job)));
  }

  /** Projects whose recent jobs have been read from their database. */
  private readonly loaded = new Set<string>();

  /** Load recent jobs of a project from its database (when the view first shows it, or its
   * engine opens). A job the engine has reported since keeps its newer state. */
  async load(projectDir: string): Promise<void> {
    const s = this.projects.get(projectDir);
    if (!s) return;
    this.loaded.add(projectDir);
    const db = await s.db();
    for (const job of await db.listJobs({ limit: KEEP_FINISHED })) {
      const known = this.jobs.get(job.id);
      if (!known || known.job.updatedAt < job.updatedAt) this.jobs.set(job.id, { project: projectDir, job });
    }
    this.scheduleRefresh();
  }

  /** The history of every open project, read once, so the view shows it as soon as it is
   * shown (after a window reload too), not only once a generation opens an engine. */
  private async loadAll(): Promise<void> {
    await this.projects.ready();
    for (const s of this.projects.all()) {
      if (this.loaded.has(s.dir)) continue;
      await this.load(s.dir).catch((e: unknown) => {
        this.loaded.delete(s.dir);
        throw e;
      });
    }
  }

  private update(project: string, job: JobRecord): void {
    this.jobs.set(job.id, { project, job });
    this.scheduleRefresh();
  }

  find(jobId: string): JobEntry | undefined {
    return this.jobs.get(jobId);
  }

  activeCount(): number {
    let n = 0;
    for (const e of this.jobs.values()) if (isActiveState(e.job.state)) n++;
    return n;
  }

  /** Job events arrive many times a second while jobs run; redraw at most every 250 ms. */
  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.trimFinished();
      this.changed.fire(undefined);
      const n = this.activeCount();
      if (n > 0) {
        this.statusItem.text = `$(sync~spin) ${n} job${n === 1 ? '' : 's'}`;
        this.statusItem.tooltip = `Art Factory: ${n} job${n === 1 ? '' : 's'} queued or running. Click to show them.`;
        this.statusItem.show();
      } else {
        this.statusItem.hide();
      }
    }, 250);
  }

  private trimFinished(): void {
    const finished = [...this.jobs.values()].filter((e) => TERMINAL_STATES.includes(e.job.state));
    finished.sort((a, b) => b.job.updatedAt.localeCompare(a.job.updatedAt));
    for (const e of finished.slice(KEEP_FINISHED)) this.jobs.delete(e.job.id);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    // A project that cannot be read says so through its own error message (offerRecovery).
    if (!node) await this.loadAll().catch(() => undefined);
    const all = [...this.jobs.values()].sort((a, b) => b.job.createdAt.localeCompare(a.job.createdAt));
    if (!node) {
      const groups: Node[] = [];
      if (all.some((e) => isActiveState(e.job.state))) groups.push({ group: 'active' });
      if (all.some((e) => e.job.state === 'failed' || e.job.state === 'canceled')) groups.push({ group: 'failed' });
      if (all.some((e) => e.job.state === 'succeeded')) groups.push({ group: 'done' });
      return groups;
    }
    if ('group' in node) {
      const want = (e: JobEntry): boolean =>
        node.group === 'active' ? isActiveState(e.job.state) : node.group === 'failed' ? e.job.state === 'failed' || e.job.state === 'canceled' : e.job.state === 'succeeded';
      return all.filter(want);
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if ('group' in node) {
      const label = { active: 'Queued and running', failed: 'Failed and canceled', done: 'Finished' }[node.group];
      return new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
    }
    const { job } = node;
    const prompt = typeof job.input.prompt === 'string' ? job.input.prompt : '';
    const item = new vscode.TreeItem(prompt ? prompt.slice(0, 60) : job.model, vscode.TreeItemCollapsibleState.None);
    item.id = job.id;
    item.description = `${job.provider} · ${job.model} · ${job.state === 'failed' ? `Failed: ${job.error?.message ?? 'unknown error'}` : jobStatusText(job)}`;
    item.tooltip = new vscode.MarkdownString(
      [
        `**${jobStatusText(job)}** — ${job.provider} \`${job.model}\``,
        job.requestId ? `Request id: \`${job.requestId}\`` : '',
        job.error ? `Error (${job.error.kind}): ${job.error.message}` : '',
        `Created ${new Date(job.createdAt).toLocaleString()}`,
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
    item.iconPath = new vscode.ThemeIcon(ICON[job.state] ?? 'circle-outline');
    item.contextValue = isActiveState(job.state) ? 'job-active' : `job-${job.state}`;
    return item;
  }
}

export function isJobEntry(x: unknown): x is JobEntry {
  return typeof x === 'object' && x !== null && 'job' in x && 'project' in x;
}
