import * as vscode from 'vscode';
import { describeProviderError } from './generate.ts';
import type { OutputLog } from './log.ts';
import { explainRestricted, isTrusted, TRUSTED_ONLY_COMMANDS } from './trust.ts';

/** Register a command whose failures become an actionable message with the buttons that fit
 * ("Set API Key", "Retry", "Show Log"), never a silent failure. `describe` may word an error
 * better for this command. */
export function registerSafeCommand(
  id: string,
  log: OutputLog,
  body: (...args: unknown[]) => Promise<unknown>,
  describe: (e: unknown) => { message: string; actions: string[] } = describeProviderError,
): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    const restricted = TRUSTED_ONLY_COMMANDS.get(id);
    if (restricted && !isTrusted()) {
      await explainRestricted(restricted);
      return;
    }
    try {
      await body(...args);
    } catch (e) {
      log.error(`${id}: ${e instanceof Error ? e.message : String(e)}`);
      const { message: text, actions } = describe(e);
      const choice = await vscode.window.showErrorMessage(`Art Factory: ${log.scrub(text)}`, ...actions, ...(actions.includes('Show Log') ? [] : ['Show Log']));
      if (choice === 'Set API Key') await vscode.commands.executeCommand('artFactory.setApiKey');
      if (choice === 'Show Log') log.show();
      if (choice === 'Retry') await vscode.commands.executeCommand(id, ...args);
    }
  });
}
