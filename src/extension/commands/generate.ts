// Generating: Generate… from the palette and ▶ Generate of a parameter file. Both submit
// through the one submission path (../submit.ts over src/engine/submission.ts).
import * as vscode from 'vscode';
import * as args from './args.ts';
import type { CommandContext } from './context.ts';
import type { CommandTable } from './register.ts';

type GenerateCommands = Pick<CommandTable, 'generate' | 'generateFromFile'>;

export function generateCommands({ projects, generator }: CommandContext): GenerateCommands {
  return {
    generate: {
      args: args.none,
      trustedOnly: 'Generating',
      run: async () => {
        const project = await projects.pick('Generate in which project?');
        if (project) await generator.generateInteractive(project);
      },
    },

    generateFromFile: {
      args: args.uri,
      trustedOnly: 'Generating',
      run: async (file) => {
        const uri = file ?? vscode.window.activeTextEditor?.document.uri;
        if (!uri || !uri.path.endsWith('.art.json')) {
          void vscode.window.showWarningMessage('Art Factory: open a *.art.json parameter file first, or use Generate… from the palette.');
          return;
        }
        await projects.ready();
        const project = projects.forUri(uri) ?? (await projects.pick('This file is outside any project. Generate into which project?'));
        if (project) await generator.generateFromFile(project, uri);
      },
    },
  };
}
