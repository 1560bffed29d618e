// Workspace Trust. A project folder may come from anywhere (a cloned repository, a colleague's
// drive), so in Restricted Mode Art Factory only shows it: the gallery is read-only, and
// nothing is generated, imported, deleted, rebuilt or restored. package.json declares this
// (`capabilities.untrustedWorkspaces`: limited); the commands marked `trustedOnly`
// (commands/*.ts) refuse with a message that says why and how to trust the folder.
import * as vscode from 'vscode';

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

/** Why the gallery is read-only, or undefined when the workspace is trusted. */
export function restrictedReason(): string | undefined {
  return isTrusted() ? undefined : 'the gallery of an untrusted folder is read-only. Trust the folder (Manage Workspace Trust) to rate, tag, delete or generate.';
}

/** Say that `what` is off in Restricted Mode, with the way to trust the folder. */
export async function explainRestricted(what: string): Promise<void> {
  const choice = await vscode.window.showWarningMessage(
    `Art Factory: ${what} is off in Restricted Mode. Art Factory only shows an untrusted folder: it does not generate, import, delete, rebuild or restore there. Trust the folder to do that.`,
    'Manage Workspace Trust',
  );
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
}
