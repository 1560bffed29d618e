// The one warning when sharp cannot load (a VSIX built for another platform): what is
// missing, what still works, how to fix it. Shown once per window, however many jobs run.
import * as vscode from 'vscode';
import { onSharpUnavailable } from '../media/sharp.ts';
import type { OutputLog } from './log.ts';

export function warnWhenSharpIsMissing(log: OutputLog): vscode.Disposable {
  const sub = onSharpUnavailable((p) => {
    log.warn(p.message);
    void vscode.window.showWarningMessage(p.message, 'Install from VSIX…', 'Show Log').then((choice) => {
      if (choice === 'Install from VSIX…') void vscode.commands.executeCommand('workbench.extensions.action.installVSIX');
      if (choice === 'Show Log') log.show();
    });
  });
  return new vscode.Disposable(() => sub.dispose());
}
