// The Get Started walkthrough, opened by itself once: on the first activation on this machine,
// remembered in globalState. VS Code opens an extension's walkthrough on install only when it
// is installed from the Extensions view; a VSIX installed from the command line, or code-server,
// never shows it. The user's `workbench.welcomePage.walkthroughs.openOnInstall: false` is kept.
// That setting is machine-scoped: in a remote window (code-server, SSH, containers, WSL) VS Code
// applies it only from the remote's settings and ignores a value in the local user settings
// (the Settings editor says so); the extension host then reads the default, as VS Code's own
// check does. Tests set it where code-server applies it (test/e2e/harness.ts).
import * as vscode from 'vscode';

const SHOWN = 'artFactory.walkthroughShown';
export const WALKTHROUGH = 'artFactory.gettingStarted';

export function showWalkthroughOnce(context: vscode.ExtensionContext): { dispose(): void } {
  if (context.globalState.get(SHOWN) || !vscode.workspace.getConfiguration('workbench.welcomePage').get('walkthroughs.openOnInstall', true)) return { dispose: () => undefined };
  // Editors a window restores or is asked to open (the demo's parameter file) arrive just after
  // activation: wait for them a moment, then open the walkthrough beside the one in front.
  const open = () => {
    clearTimeout(timer);
    sub.dispose();
    if (context.globalState.get(SHOWN)) return;
    void context.globalState.update(SHOWN, true);
    void vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#${WALKTHROUGH}`, vscode.window.activeTextEditor !== undefined);
  };
  const sub = vscode.window.onDidChangeActiveTextEditor((e) => e && setTimeout(open, 300));
  const timer = setTimeout(open, 2000);
  return {
    dispose: () => {
      clearTimeout(timer);
      sub.dispose();
    },
  };
}
