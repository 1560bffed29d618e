// The commands, one table (rust-analyzer's createCommands()): each area's file gives its
// entries, and the table's type wants every id of ./ids.ts, so none is left unregistered.
import type * as vscode from 'vscode';
import { archiveCommands } from './archive.ts';
import { backupCommands } from './backup.ts';
import type { CommandContext } from './context.ts';
import { galleryCommands } from './gallery.ts';
import { generateCommands } from './generate.ts';
import { projectCommands } from './projects.ts';
import { providerCommands } from './providers.ts';
import { registerTable, type CommandTable } from './register.ts';
import { templateCommands } from './templates.ts';

export function createCommands(ctx: CommandContext): CommandTable {
  return {
    ...projectCommands(ctx),
    ...providerCommands(ctx),
    ...generateCommands(ctx),
    ...templateCommands(ctx),
    ...galleryCommands(ctx),
    ...backupCommands(ctx),
    ...archiveCommands(ctx),
  };
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return registerTable(createCommands(ctx), ctx.log);
}
