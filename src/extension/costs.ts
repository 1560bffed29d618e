// Cost in VS Code (issue 11): the prices (cached a day in the global storage), each project's
// ledger and budgets for its engine, the status bar with today's spend, Raise Budget… and the
// Spending panel. The work is the engine's (src/engine/cost); this is how VS Code shows it.
import * as vscode from 'vscode';
import { describeBudget, formatCost, localDay, normalizeCurrency, parseBudgets, Pricing, projectSpending, spendingReport, userCostDir, userSpending, type BudgetScope, type ProjectSpending, type UserSpending } from '../engine/cost/index.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Logger } from '../providers/types.ts';
import { readManifest, setProjectBudgets } from '../storage/index.ts';
import { settings } from './settings.ts';
import { COMMANDS } from './commands/ids.ts';

export interface CostDeps {
  registry: ProviderRegistry;
  log: Logger;
  /** The extension's global storage folder (the price cache). */
  globalDir: string;
  /** Open projects, by folder and name. */
  projects(): { dir: string; name: string }[];
  activeProject(): string | undefined;
}

export class Costs implements vscode.Disposable {
  readonly pricing: Pricing;
  readonly user: UserSpending;
  private readonly spendings = new Map<string, ProjectSpending>();
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when spending may have changed (a job ended, a budget was raised, settings). */
  readonly onDidChange = this.changed.event;

  constructor(private readonly d: CostDeps) {
    this.pricing = new Pricing({ registry: d.registry, cacheDir: d.globalDir, log: d.log, replicateOverrides: () => settings.replicatePrices() });
    this.user = userSpending(userCostDir(), () => settings.budgets(), d.log);
    this.status = vscode.window.createStatusBarItem('artFactory.spending', vscode.StatusBarAlignment.Right, 90);
    this.status.name = 'Art Factory Spending';
    this.status.command = COMMANDS.openSpending;
    this.disposables.push(
      this.status,
      this.changed,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('artFactory.budgets') || e.affectsConfiguration('artFactory.costs')) this.refresh();
      }),
    );
    // Other processes (the command line, another window) spend too: look again now and then.
    const timer = setInterval(() => this.refresh(), 60_000);
    this.disposables.push({ dispose: () => clearInterval(timer) });
    this.refresh();
  }

  /** A project's ledger and budgets (the engine reserves through its guard). */
  spending(dir: string): ProjectSpending {
    let s = this.spendings.get(dir);
    if (!s) {
      s = projectSpending(dir, { user: this.user, log: this.d.log });
      this.spendings.set(dir, s);
    }
    return s;
  }

  /** Something ended or changed: the status bar and open Spending panels look again, once for
   * the changes of a quarter second (a sweep's jobs end together; each look reads the ledger). */
  refresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.updateStatus().catch((e: unknown) => this.d.log.warn(`spending status: ${e instanceof Error ? e.message : String(e)}`));
      this.changed.fire();
    }, 250);
  }
  private pending: ReturnType<typeof setTimeout> | undefined;

  private async updateStatus(): Promise<void> {
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    // Today's spend across every project (the user ledger counts them all).
    const r = await spendingReport(this.user.ledger, { since: today, scopes: [{ kind: 'user', budgets: this.user.budgets(), ledger: this.user.ledger }] });
    const spent = r.totals.length ? r.totals.map((c) => formatCost(c)).join(' + ') : '$0.00';
    this.status.text = `$(credit-card) ${spent} today`;
    const md = new vscode.MarkdownString(`**Art Factory: spent today** (${localDay(today)}): ${spent}${r.open ? `, ${r.open} job${r.open === 1 ? '' : 's'} running` : ''}\n\n`);
    for (const b of r.budgets) md.appendMarkdown(`- ${describeBudget(b.budget, b.scope)}: ${formatCost({ amount: b.left, currency: b.budget.currency })} left\n`);
    md.appendMarkdown('\nClick to open Spending.');
    this.status.tooltip = md;
    if (this.d.projects().length > 0) this.status.show();
    else this.status.hide();
  }

  /** The report for one project (or every open project's ledger, summed by the user ledger). */
  async report(dir: string | undefined, since?: Date): Promise<{ title: string; report: Awaited<ReturnType<typeof spendingReport>> }> {
    if (!dir) {
      const scopes: BudgetScope[] = [{ kind: 'user', budgets: this.user.budgets(), ledger: this.user.ledger }];
      return { title: 'All projects', report: await spendingReport(this.user.ledger, { since, scopes }) };
    }
    const s = this.spending(dir);
    const name = this.d.projects().find((p) => p.dir === dir)?.name ?? dir;
    return { title: name, report: await spendingReport(s.ledger, { since, scopes: await s.scopes() }) };
  }

  /**
   * Raise Budget…: pick a budget (the project's or your own), type its new limit. The project's
   * are written to its artfactory.json; yours to the user setting. With none yet, one is made.
   */
  async raiseBudget(arg?: { project?: string; currency?: string }): Promise<void> {
    const dir = arg?.project ?? this.d.activeProject();
    type Pick = vscode.QuickPickItem & { scope: 'project' | 'user'; index: number; currency: string; per: 'day' | 'month' | 'total'; limit: number };
    const picks: Pick[] = [];
    if (dir) {
      const own = parseBudgets((await readManifest(dir).catch(() => undefined))?.budgets, 'artfactory.json').budgets;
      own.forEach((b, index) => picks.push({ label: describeBudget(b, 'project'), scope: 'project', index, ...b }));
    }
    this.user.budgets().forEach((b, index) => picks.push({ label: describeBudget(b, 'user'), description: 'setting artFactory.budgets', scope: 'user', index, ...b }));
    const currency = normalizeCurrency(arg?.currency ?? 'USD');
    if (dir) picks.push({ label: `$(add) New daily ${currency === 'buzz' ? 'Buzz' : currency} budget for this project`, scope: 'project', index: -1, currency, per: 'day', limit: 0 });
    picks.push({ label: `$(add) New daily ${currency === 'buzz' ? 'Buzz' : currency} budget for all projects`, scope: 'user', index: -1, currency, per: 'day', limit: 0 });
    const pick = picks.length === 1 ? picks[0] : await vscode.window.showQuickPick(picks, { placeHolder: 'Which budget?', title: 'Art Factory: Raise Budget' });
    if (!pick) return;
    const value = await vscode.window.showInputBox({
      title: pick.index < 0 ? pick.label.replace('$(add) ', '') : `Raise ${pick.label}`,
      prompt: `The new limit, in ${pick.currency === 'buzz' ? 'Buzz' : pick.currency}`,
      value: pick.index < 0 ? '5' : String(pick.limit * 2 || 5),
      validateInput: (v) => (/^\d+(\.\d+)?$/.test(v.trim()) ? undefined : 'A number, like 5 or 2.50'),
    });
    if (value === undefined) return;
    const limit = Number(value.trim());
    const next = { currency: pick.currency, per: pick.per, limit };
    if (pick.scope === 'project' && dir) {
      const raw = (await readManifest(dir)).budgets;
      const list = Array.isArray(raw) ? [...(raw as unknown[])] : [];
      // The entry as written (others, even mistyped ones, stay as they are).
      const at = pick.index < 0 ? -1 : list.findIndex((b) => parseBudgets([b], '').budgets.some((x) => x.currency === pick.currency && x.per === pick.per && x.limit === pick.limit));
      if (at < 0) list.push(next);
      else list[at] = next;
      await setProjectBudgets(dir, list);
    } else {
      const list = [...this.user.budgets()];
      if (pick.index < 0) list.push(next);
      else list[pick.index] = next;
      await vscode.workspace.getConfiguration('artFactory').update('budgets', list, vscode.ConfigurationTarget.Global);
    }
    this.d.log.info(`budget set: ${describeBudget(next, pick.scope)}`);
    this.refresh();
  }

  dispose(): void {
    clearTimeout(this.pending);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
