// Projects: new, open, add a folder, rename, remove, select, refresh.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { safeFileName } from '../../engine/templates.ts';
import { createProject, isProject, renameProject } from '../../storage/index.ts';
import * as args from './args.ts';
import type { CommandContext } from './context.ts';
import type { CommandTable } from './register.ts';

/** Add a folder to the workspace (a new or restored project). */
export function addToWorkspace(dir: string): void {
  const uri = vscode.Uri.file(dir);
  if (vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath === dir) return;
  const at = vscode.workspace.workspaceFolders?.length ?? 0;
  if (!vscode.workspace.updateWorkspaceFolders(at, 0, { uri })) throw new Error(`VS Code refused to add ${dir} to the workspace.`);
}

type ProjectCommands = Pick<CommandTable, 'newProject' | 'openProject' | 'addFolderAsProject' | 'renameProject' | 'removeProject' | 'selectProject' | 'refreshProjects'>;

export function projectCommands({ projects, projectsView, log }: CommandContext): ProjectCommands {
  return {
    newProject: {
      args: args.none,
      run: async () => {
        const name = await vscode.window.showInputBox({ title: 'New Art Factory Project', prompt: 'Project name', placeHolder: 'Moodboards', validateInput: (v) => (v.trim() ? undefined : 'A project needs a name.') });
        if (!name) return;
        const first = vscode.workspace.workspaceFolders?.[0]?.uri;
        const parent = await vscode.window.showOpenDialog({
          title: `Where should "${name.trim()}" live?`,
          canSelectFolders: true,
          canSelectFiles: false,
          openLabel: 'Create Project Here',
          defaultUri: first ? vscode.Uri.joinPath(first, '..') : vscode.Uri.file(os.homedir()),
        });
        if (!parent?.[0]) return;
        const dir = path.join(parent[0].fsPath, safeFileName(name));
        await createProject(dir, name.trim());
        log.info(`created project ${dir}`);
        addToWorkspace(dir);
        await projects.rescan();
        const s = projects.get(dir);
        if (s) projects.setActive(s);
      },
    },

    openProject: {
      args: args.none,
      run: async () => {
        const picked = await vscode.window.showOpenDialog({ title: 'Open Art Factory Project', canSelectFolders: true, canSelectFiles: false, canSelectMany: true, openLabel: 'Open Project' });
        for (const uri of picked ?? []) {
          if (!(await isProject(uri.fsPath))) {
            const make = await vscode.window.showWarningMessage(`${uri.fsPath} has no artfactory.json, so it is not an Art Factory project yet.`, 'Make It a Project');
            if (!make) continue;
            await createProject(uri.fsPath, path.basename(uri.fsPath));
          }
          addToWorkspace(uri.fsPath);
        }
        await projects.rescan();
      },
    },

    addFolderAsProject: {
      args: args.uri,
      run: async (folder) => {
        await projects.ready();
        let dir = folder?.fsPath;
        if (!dir) {
          const candidates = (vscode.workspace.workspaceFolders ?? []).filter((f) => !projects.get(f.uri.fsPath));
          if (candidates.length === 0) {
            void vscode.window.showInformationMessage('Every workspace folder is already an Art Factory project. Use New Project to make another.');
            return;
          }
          const f = candidates.length === 1 ? candidates[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder to turn into an Art Factory project' });
          dir = f?.uri.fsPath;
        }
        if (!dir) return;
        if (await isProject(dir)) {
          void vscode.window.showInformationMessage(`${path.basename(dir)} is already an Art Factory project.`);
        } else {
          await createProject(dir, path.basename(dir));
        }
        addToWorkspace(dir);
        await projects.rescan();
      },
    },

    renameProject: {
      args: args.project,
      run: async (project) => {
        const s = project ?? (await projects.pick('Project to rename'));
        if (!s) return;
        const name = await vscode.window.showInputBox({ title: 'Rename Project', value: s.name, validateInput: (v) => (v.trim() ? undefined : 'A project needs a name.') });
        if (!name || name.trim() === s.name) return;
        await renameProject(s.dir, name.trim());
        await projects.rescan();
      },
    },

    removeProject: {
      args: args.project,
      run: async (project) => {
        const s = project ?? (await projects.pick('Project to remove from the workspace'));
        if (!s) return;
        const ok = await vscode.window.showWarningMessage(`Remove "${s.name}" from this workspace?`, { modal: true, detail: 'Its files stay where they are; Open Project brings it back.' }, 'Remove');
        if (!ok) return;
        await s.close();
        const index = vscode.workspace.workspaceFolders?.findIndex((f) => f.uri.fsPath === s.dir) ?? -1;
        if (index >= 0) vscode.workspace.updateWorkspaceFolders(index, 1);
      },
    },

    selectProject: {
      args: args.none,
      run: async () => {
        await projects.ready();
        const item = await vscode.window.showQuickPick(
          projects.all().map((s) => ({ label: s.name, description: s.dir, s })),
          { placeHolder: 'Active Art Factory project' },
        );
        if (item) projects.setActive(item.s);
      },
    },

    refreshProjects: {
      args: args.none,
      run: async () => {
        await projects.rescan();
        projectsView.refresh();
      },
    },
  };
}
