// The Spending panel: one per window, opened from the palette and the status bar, restored after
// a reload. The report is the engine's (spendingReport); the page only draws it.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LEDGER_FILE } from '../engine/cost/index.ts';
import { spendingHtml } from '../webviews/spendingHtml.ts';
import { parseSpendingMessage, RANGES, rangeStart, type Range, type SpendingView } from '../webviews/spendingProtocol.ts';
import { runCommand } from './commands/register.ts';
import type { Costs } from './costs.ts';

export const SPENDING_VIEW_TYPE = 'artFactory.spending';

/** The one Spending panel of the window: `open` shows it (for a project, or all), VS Code's
 * serializer brings it back after a reload. */
export class SpendingPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private shown: { scope: string; range: Range } = { scope: '', range: '30d' };
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly costs: Costs,
    private readonly projects: () => { dir: string; name: string }[],
    private readonly active: () => string | undefined,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(SPENDING_VIEW_TYPE, {
        deserializeWebviewPanel: async (p: vscode.WebviewPanel, state: unknown) => {
          const s = state as { scope?: string; range?: Range } | undefined;
          if (typeof s?.scope === 'string') this.shown = { scope: s.scope, range: RANGES.includes(s.range as Range) ? (s.range as Range) : this.shown.range };
          this.setUp(p);
        },
      }),
    );
  }

  /** Show the panel, for a project or (none) the active one, else every project. */
  async open(project?: string): Promise<void> {
    this.shown = { ...this.shown, scope: project ?? (this.shown.scope || this.active() || '') };
    if (this.panel) {
      this.panel.reveal();
      return this.post();
    }
    this.setUp(vscode.window.createWebviewPanel(SPENDING_VIEW_TYPE, 'Art Factory Spending', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [this.root()] }));
  }

  private root(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webviews');
  }

  private async view(scope: string, range: Range): Promise<SpendingView> {
    const list = this.projects();
    const known = scope === '' || list.some((p) => p.dir === scope) ? scope : '';
    const { title, report } = await this.costs.report(known || undefined, rangeStart(range));
    return { scope: known, scopes: [{ value: '', label: 'All projects' }, ...list.map((p) => ({ value: p.dir, label: p.name }))], range, title, report };
  }

  private async post(): Promise<void> {
    const panel = this.panel;
    if (!panel) return;
    try {
      await panel.webview.postMessage({ type: 'view', view: await this.view(this.shown.scope, this.shown.range) });
    } catch (e) {
      await panel.webview.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private setUp(p: vscode.WebviewPanel): void {
    this.panel = p;
    const root = this.root();
    p.webview.options = { enableScripts: true, localResourceRoots: [root] };
    p.webview.html = spendingHtml({
      cspSource: p.webview.cspSource,
      scriptUri: p.webview.asWebviewUri(vscode.Uri.joinPath(root, 'spending.js')).toString(),
      styleUri: p.webview.asWebviewUri(vscode.Uri.joinPath(root, 'spending.css')).toString(),
    });
    const subs = [
      p.webview.onDidReceiveMessage(async (raw: unknown) => {
        // A hostile page may post anything: only our messages, checked, are acted on.
        const m = parseSpendingMessage(raw);
        if (!m) return;
        if (m.type === 'ready' || m.type === 'show') {
          this.shown = { scope: m.scope ?? this.shown.scope, range: m.range ?? this.shown.range };
          await this.post();
        } else if (m.type === 'raiseBudget') {
          await runCommand('raiseBudget', m.scope || undefined, m.currency);
        } else if (m.type === 'openLedger' && this.projects().some((x) => x.dir === m.scope)) {
          await vscode.window.showTextDocument(vscode.Uri.file(path.join(m.scope, ...LEDGER_FILE.split('/'))), { preview: true });
        }
      }),
      this.costs.onDidChange(() => void this.post()),
    ];
    p.onDidDispose(() => {
      subs.forEach((s) => s.dispose());
      if (this.panel === p) this.panel = undefined;
    });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
