// The Spending panel: one per window, opened from the palette and the status bar, restored after
// a reload. The report is the engine's (spendingReport); the page only draws it.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LEDGER_FILE } from '../engine/cost/index.ts';
import { spendingHtml } from '../webviews/spendingHtml.ts';
import { parseSpendingMessage, rangeStart, type Range, type SpendingView } from '../webviews/spendingProtocol.ts';
import type { Costs } from './costs.ts';

export const SPENDING_VIEW_TYPE = 'artFactory.spending';

export function registerSpending(context: vscode.ExtensionContext, costs: Costs, projects: () => { dir: string; name: string }[], active: () => string | undefined): vscode.Disposable[] {
  let panel: vscode.WebviewPanel | undefined;
  let shown: { scope: string; range: Range } = { scope: '', range: '30d' };

  const view = async (scope: string, range: Range): Promise<SpendingView> => {
    const list = projects();
    const known = scope === '' || list.some((p) => p.dir === scope) ? scope : '';
    const { title, report } = await costs.report(known || undefined, rangeStart(range));
    return { scope: known, scopes: [{ value: '', label: 'All projects' }, ...list.map((p) => ({ value: p.dir, label: p.name }))], range, title, report };
  };

  const post = async (): Promise<void> => {
    if (!panel) return;
    try {
      await panel.webview.postMessage({ type: 'view', view: await view(shown.scope, shown.range) });
    } catch (e) {
      await panel.webview.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  };

  const setUp = (p: vscode.WebviewPanel): void => {
    panel = p;
    const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webviews');
    p.webview.options = { enableScripts: true, localResourceRoots: [root] };
    p.webview.html = spendingHtml({
      cspSource: p.webview.cspSource,
      scriptUri: p.webview.asWebviewUri(vscode.Uri.joinPath(root, 'spending.js')).toString(),
      styleUri: p.webview.asWebviewUri(vscode.Uri.joinPath(root, 'spending.css')).toString(),
    });
    const subs = [
      p.webview.onDidReceiveMessage(async (raw: unknown) => {
        const m = parseSpendingMessage(raw);
        if (!m) return;
        if (m.type === 'ready' || m.type === 'show') {
          shown = { scope: m.scope ?? shown.scope, range: m.range ?? shown.range };
          await post();
        } else if (m.type === 'raiseBudget') {
          await vscode.commands.executeCommand('artFactory.raiseBudget', { project: m.scope || undefined, currency: m.currency });
        } else if (m.type === 'openLedger' && projects().some((x) => x.dir === m.scope)) {
          await vscode.window.showTextDocument(vscode.Uri.file(path.join(m.scope, ...LEDGER_FILE.split('/'))), { preview: true });
        }
      }),
      costs.onDidChange(() => void post()),
    ];
    p.onDidDispose(() => {
      subs.forEach((s) => s.dispose());
      if (panel === p) panel = undefined;
    });
  };

  return [
    vscode.commands.registerCommand('artFactory.openSpending', async (arg?: { project?: string }) => {
      shown = { ...shown, scope: arg?.project ?? (shown.scope || active() || '') };
      if (panel) {
        panel.reveal();
        return post();
      }
      setUp(vscode.window.createWebviewPanel(SPENDING_VIEW_TYPE, 'Art Factory Spending', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webviews')] }));
    }),
    vscode.commands.registerCommand('artFactory.raiseBudget', (arg?: { project?: string; currency?: string }) => costs.raiseBudget(arg)),
    vscode.window.registerWebviewPanelSerializer(SPENDING_VIEW_TYPE, {
      deserializeWebviewPanel: async (p: vscode.WebviewPanel, state: unknown) => {
        const s = state as { scope?: string; range?: Range } | undefined;
        if (s?.scope !== undefined) shown = { scope: s.scope, range: s.range ?? shown.range };
        setUp(p);
      },
    }),
  ];
}
