// How a command runs: its raw arguments parsed into its types, refused in Restricted Mode when
// it makes or changes anything, and its failure said as an actionable message with the buttons
// that fit ("Set API Key", "Retry", "Show Log"), never a silent failure.
import * as vscode from 'vscode';
import { describeProviderError } from '../errors.ts';
import type { OutputLog } from '../log.ts';
import { explainRestricted, isTrusted } from '../trust.ts';
import { COMMANDS, type CommandArgs, type CommandName } from './ids.ts';

export interface Command<K extends CommandName> {
  /** The raw arguments VS Code passed, as this command's types (what is not, dropped). */
  args(raw: unknown[]): CommandArgs[K];
  run(...args: CommandArgs[K]): Promise<unknown>;
  /** Off in Restricted Mode: what it does, for the message ("Generating"). */
  trustedOnly?: string;
  /** A better wording of a failure for this command (a full disk for an export). */
  describe?(e: unknown): { message: string; actions: string[] };
}

/** One entry per command: the compiler says when one is missing. */
export type CommandTable = { [K in CommandName]: Command<K> };

/** Run one of our commands from our own code, its arguments checked by the compiler. */
export function runCommand<K extends CommandName>(name: K, ...args: CommandArgs[K]): Thenable<unknown> {
  return vscode.commands.executeCommand(COMMANDS[name], ...args);
}

export function registerTable(table: CommandTable, log: OutputLog): vscode.Disposable[] {
  return (Object.keys(table) as CommandName[]).map((name) => register(name, table[name] as Command<CommandName>, log));
}

function register<K extends CommandName>(name: K, c: Command<K>, log: OutputLog): vscode.Disposable {
  const id = COMMANDS[name];
  return vscode.commands.registerCommand(id, async (...raw: unknown[]) => {
    if (c.trustedOnly && !isTrusted()) {
      await explainRestricted(c.trustedOnly);
      return;
    }
    try {
      await c.run(...c.args(raw));
    } catch (e) {
      log.error(`${id}: ${e instanceof Error ? e.message : String(e)}`);
      if ((await showFailure(e, log, c.describe)) === 'Retry') await vscode.commands.executeCommand(id, ...raw);
    }
  });
}

/** Say a failure with the buttons that fit; returns the button when it is the caller's to act
 * on ("Retry"). Also for flows that commands share with the gallery. */
export async function showFailure(e: unknown, log: OutputLog, describe: (e: unknown) => { message: string; actions: string[] } = describeProviderError): Promise<string | undefined> {
  const { message: text, actions } = describe(e);
  const choice = await vscode.window.showErrorMessage(`Art Factory: ${log.scrub(text)}`, ...actions, ...(actions.includes('Show Log') ? [] : ['Show Log']));
  if (choice === 'Set API Key') await runCommand('setApiKey');
  if (choice === 'Show Log') log.show();
  return choice;
}
