// Templates: Save as Template (a parameter file, or a gallery product's recipe) and New from
// Template (its {{variables}} asked, the model's $schema named).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseParamFile } from '../../engine/paramFile.ts';
import { withSchemaRef } from '../../engine/schemas.ts';
import { instantiateTemplate, listTemplates, safeFileName, saveTemplate, templateVariables } from '../../engine/templates.ts';
import { freshPath } from '../paramFileWriter.ts';
import type { ProjectSession } from '../projects.ts';
import { settings } from '../settings.ts';
import * as args from './args.ts';
import type { CommandContext } from './context.ts';
import type { CommandTable } from './register.ts';

type TemplateCommands = Pick<CommandTable, 'saveAsTemplate' | 'newFromTemplate'>;

/** Where global templates live: the setting, else the extension's global storage. */
function globalTemplates(ctx: CommandContext): string {
  return settings.globalTemplatesFolder() || path.join(ctx.context.globalStorageUri.fsPath, 'templates');
}

/** Ask a name and a place (the project's templates/ or the global folder), and save `text`. */
export async function saveAsTemplate(ctx: CommandContext, text: string, project: ProjectSession | undefined): Promise<void> {
  const name = await vscode.window.showInputBox({ title: 'Save as Template', prompt: 'Template name. Use {{name}} in the file for values to fill in later.', validateInput: (v) => (v.trim() ? undefined : 'A template needs a name.') });
  if (!name) return;
  const scope = await vscode.window.showQuickPick(
    [...(project ? [{ label: `Project: ${project.name}`, dir: path.join(project.dir, 'templates') }] : []), { label: 'Global (all projects)', dir: globalTemplates(ctx) }],
    { title: 'Where to keep the template?' },
  );
  if (!scope) return;
  const file = await saveTemplate(scope.dir, name.trim(), text);
  void vscode.window.showInformationMessage(`Art Factory: template "${name.trim()}" saved.`, 'Open').then((b) => b && vscode.window.showTextDocument(vscode.Uri.file(file)));
}

export function templateCommands(ctx: CommandContext): TemplateCommands {
  const { projects } = ctx;
  return {
    saveAsTemplate: {
      args: args.uri,
      run: async (file) => {
        const uri = file ?? vscode.window.activeTextEditor?.document.uri;
        if (!uri?.path.endsWith('.art.json')) {
          void vscode.window.showWarningMessage('Art Factory: open a parameter file (or pick a product in the gallery) to save as a template.');
          return;
        }
        const text = (await vscode.workspace.openTextDocument(uri)).getText();
        await saveAsTemplate(ctx, text, projects.forUri(uri));
      },
    },

    newFromTemplate: {
      args: args.none,
      run: async () => {
        const project = await projects.pick('Project for the new parameter file');
        if (!project) return;
        const templates = await listTemplates([path.join(project.dir, 'templates'), globalTemplates(ctx)]);
        if (templates.length === 0) {
          void vscode.window.showInformationMessage('Art Factory: no templates yet. Open a parameter file and run Save as Template.');
          return;
        }
        const pick = await vscode.window.showQuickPick(
          templates.map((t) => ({ label: t.name, description: `${t.provider} · ${t.model}`, detail: t.file, t })),
          { title: 'New from Template', matchOnDescription: true },
        );
        if (!pick) return;
        const text = await fs.readFile(pick.t.file, 'utf8');
        // A Map: a variable named __proto__ is stored like any other (an object would drop it).
        const values = new Map<string, string>();
        for (const v of templateVariables(text)) {
          const value = await vscode.window.showInputBox({ title: `${pick.t.name}: ${v}`, prompt: `Value for {{${v}}}`, ignoreFocusOut: true });
          if (value === undefined) return;
          values.set(v, value);
        }
        const paramsDir = path.join(project.dir, 'params');
        await fs.mkdir(paramsDir, { recursive: true });
        const file = await freshPath(paramsDir, safeFileName(pick.t.name), '.art.json');
        // The new file names its model's schema (a template may have none, or one relative to elsewhere).
        const made = instantiateTemplate(text, values);
        const value = parseParamFile(made).value;
        await fs.writeFile(file, value ? withSchemaRef(made, await ctx.schemaRef(project.dir, value.provider, value.model, paramsDir)) : made, { flag: 'wx' });
        await vscode.window.showTextDocument(vscode.Uri.file(file));
      },
    },
  };
}
