import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { backupProject, restoreProject } from '../archive/backup.ts';
import { describeVerify } from '../archive/verify.ts';
import { createProject, isProject, renameProject, rebuildIndex, restoreLatestBackup, StorageError } from '../storage/index.ts';
import { listTemplates, safeFileName, saveTemplate, templateVariables, instantiateTemplate } from '../engine/templates.ts';
import { parseParamFile } from '../engine/paramFile.ts';
import { withSchemaRef } from '../engine/schemas.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { AIR_EXAMPLE, civitaiAirProblem } from './civitaiBrowse.ts';
import { registerArchiveCommands, type ArchiveCommandDeps } from './archiveCommands.ts';
import { registerSafeCommand } from './command.ts';
import { createParamFile, freshPath } from './paramFileWriter.ts';
import { describeProviderError, type Generator } from './generate.ts';
import { isJobEntry, type JobEntry, type JobsView } from './jobsView.ts';
import type { OutputLog } from './log.ts';
import type { ProjectManager, ProjectSession } from './projects.ts';
import type { ProjectsView } from './projectsView.ts';
import type { KeyStore } from './secrets.ts';
import { PROVIDERS_WITH_KEYS, settings } from './settings.ts';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  projects: ProjectManager;
  projectsView: ProjectsView;
  jobsView: JobsView;
  registry: ProviderRegistry;
  keys: KeyStore;
  generator: Generator;
  log: OutputLog;
  openGallery(project: ProjectSession | 'all' | undefined): Promise<void>;
  gallery?: ArchiveCommandDeps['gallery'];
  /** A `$schema` reference for a parameter file in `fromDir`, the model's schema made first. */
  schemaRef(dir: string, provider: string, model: string, fromDir: string): Promise<string>;
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { projects, registry, keys, log } = d;
  const globalTemplates = (): string => settings.globalTemplatesFolder() || path.join(d.context.globalStorageUri.fsPath, 'templates');

  const cmd = (id: string, body: (...args: unknown[]) => Promise<unknown>): vscode.Disposable => registerSafeCommand(id, log, body);

  const sessionArg = (arg: unknown): ProjectSession | undefined =>
    arg && typeof arg === 'object' && 'dir' in arg && 'folder' in arg ? (arg as ProjectSession) : undefined;

  const addToWorkspace = (dir: string): void => {
    const uri = vscode.Uri.file(dir);
    if (vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath === dir) return;
    const at = vscode.workspace.workspaceFolders?.length ?? 0;
    if (!vscode.workspace.updateWorkspaceFolders(at, 0, { uri })) throw new Error(`VS Code refused to add ${dir} to the workspace.`);
  };

  const pickProvider = async (title: string, preselect?: unknown): Promise<string | undefined> => {
    if (typeof preselect === 'string' && (PROVIDERS_WITH_KEYS as readonly string[]).includes(preselect)) return preselect;
    const items = await Promise.all(
      PROVIDERS_WITH_KEYS.filter((id) => registry.get(id)).map(async (id) => {
        const source = await keys.source(id);
        return { label: registry.get(id)?.displayName ?? id, description: source === 'secret-storage' ? 'key set' : source === 'environment' ? 'key from environment' : 'no key', id };
      }),
    );
    return (await vscode.window.showQuickPick(items, { title }))?.id;
  };

  const testConnection = async (providerId: string): Promise<boolean> => {
    const provider = registry.get(providerId);
    if (!provider) throw new Error(`Unknown provider ${providerId}.`);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: testing ${provider.displayName}…`, cancellable: true }, async (_p, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        await provider.testConnection(ac.signal);
      });
      log.info(`${providerId}: connection test passed`);
      void vscode.window.showInformationMessage(`Art Factory: ${provider.displayName} is connected.`);
      return true;
    } catch (e) {
      const { message: text } = describeProviderError(e);
      log.warn(`${providerId}: connection test failed: ${text}`);
      const auth = e instanceof Error && 'kind' in e && (e as { kind: string }).kind === 'auth';
      const choice = await vscode.window.showErrorMessage(`Art Factory: ${provider.displayName} connection failed: ${log.scrub(text)}`, ...(auth ? ['Set Key Again'] : ['Retry']), 'Show Log');
      if (choice === 'Set Key Again') await vscode.commands.executeCommand('artFactory.setApiKey', providerId);
      if (choice === 'Retry') return testConnection(providerId);
      if (choice === 'Show Log') log.show();
      return false;
    }
  };

  const newParamFileFor = async (project: ProjectSession, modelArg?: unknown): Promise<void> => {
    const model =
      modelArg && typeof modelArg === 'object' && 'provider' in modelArg && 'id' in modelArg
        ? registry.models().find((m) => m.provider === (modelArg as { provider: string }).provider && m.id === (modelArg as { id: string }).id)
        : await d.generator.pickModel('New Parameter File: pick a model');
    if (!model) return;
    const provider = registry.get(model.provider);
    if (!provider) throw new Error(`Unknown provider ${model.provider}.`);
    await createParamFile(project.dir, provider, model);
  };

  return [
    ...registerArchiveCommands({ context: d.context, projects, projectsView: d.projectsView, log, gallery: d.gallery }),
    cmd('artFactory.newProject', async () => {
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
    }),

    cmd('artFactory.openProject', async () => {
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
    }),

    cmd('artFactory.addFolderAsProject', async (arg) => {
      await projects.ready();
      let dir = arg instanceof vscode.Uri ? arg.fsPath : undefined;
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
    }),

    cmd('artFactory.renameProject', async (arg) => {
      const s = sessionArg(arg) ?? (await projects.pick('Project to rename'));
      if (!s) return;
      const name = await vscode.window.showInputBox({ title: 'Rename Project', value: s.name, validateInput: (v) => (v.trim() ? undefined : 'A project needs a name.') });
      if (!name || name.trim() === s.name) return;
      await renameProject(s.dir, name.trim());
      await projects.rescan();
    }),

    cmd('artFactory.removeProject', async (arg) => {
      const s = sessionArg(arg) ?? (await projects.pick('Project to remove from the workspace'));
      if (!s) return;
      const ok = await vscode.window.showWarningMessage(`Remove "${s.name}" from this workspace?`, { modal: true, detail: 'Its files stay where they are; Open Project brings it back.' }, 'Remove');
      if (!ok) return;
      await s.close();
      const index = vscode.workspace.workspaceFolders?.findIndex((f) => f.uri.fsPath === s.dir) ?? -1;
      if (index >= 0) vscode.workspace.updateWorkspaceFolders(index, 1);
    }),

    cmd('artFactory.selectProject', async () => {
      await projects.ready();
      const item = await vscode.window.showQuickPick(
        projects.all().map((s) => ({ label: s.name, description: s.dir, s })),
        { placeHolder: 'Active Art Factory project' },
      );
      if (item) projects.setActive(item.s);
    }),

    cmd('artFactory.refreshProjects', async () => {
      await projects.rescan();
      d.projectsView.refresh();
    }),

    cmd('artFactory.setApiKey', async (arg) => {
      const id = await pickProvider('Set API Key for…', arg);
      if (!id) return;
      const name = registry.get(id)?.displayName ?? id;
      const key = await vscode.window.showInputBox({
        title: `${name} API key`,
        prompt: `Stored in VS Code's secret storage and sent only to ${name}.`,
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim().length >= 8 ? undefined : 'That is too short to be a key.'),
      });
      if (!key) return;
      await keys.set(id, key.trim());
      log.info(`${id}: API key stored in secret storage`);
      await testConnection(id);
    }),

    cmd('artFactory.clearApiKey', async (arg) => {
      const id = await pickProvider('Clear API Key of…', arg);
      if (!id) return;
      await keys.clear(id);
      void vscode.window.showInformationMessage(`Art Factory: the ${registry.get(id)?.displayName ?? id} key was removed from secret storage.`);
    }),

    cmd('artFactory.testConnection', async (arg) => {
      const id = await pickProvider('Test Connection to…', arg);
      if (id) await testConnection(id);
    }),

    cmd('artFactory.addCustomModel', async () => {
      const provider = (
        await vscode.window.showQuickPick(
          [
            { label: 'fal.ai', description: 'an endpoint id, e.g. fal-ai/recraft-v3', id: 'fal' },
            { label: 'Replicate', description: 'owner/name or owner/name:version', id: 'replicate' },
            { label: 'Civitai', description: 'a checkpoint AIR, e.g. urn:air:sdxl:checkpoint:civitai:101055@128078', id: 'civitai' },
          ],
          { title: 'Add Custom Model' },
        )
      )?.id;
      if (!provider) return;
      const id = await vscode.window.showInputBox({
        title: `Custom ${provider} model`,
        placeHolder: provider === 'fal' ? 'fal-ai/recraft-v3' : provider === 'civitai' ? AIR_EXAMPLE : 'stability-ai/sdxl',
        prompt: provider === 'civitai' ? 'Paste a checkpoint AIR, or use "Browse Civitai Models…" to find one.' : undefined,
        validateInput: (v) => (provider === 'civitai' ? civitaiAirProblem(v.trim()) : /^[\w.-]+\/[\w./-]+(:[\w]+)?$/.test(v.trim()) ? undefined : 'Use owner/name (with a sub-path for fal, or :version for Replicate).'),
      });
      if (!id) return;
      const model = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: reading ${id}…` }, () => registry.addCustomModel(provider, id.trim()));
      const next = await vscode.window.showInformationMessage(`Art Factory: ${model.title} added.`, 'New Parameter File');
      const project = next ? await projects.pick() : undefined;
      if (project) await newParamFileFor(project, model);
    }),

    cmd('artFactory.newParamFile', async (arg) => {
      const project = await projects.pick('Project for the new parameter file');
      if (project) await newParamFileFor(project, arg);
    }),

    cmd('artFactory.generate', async () => {
      const project = await projects.pick('Generate in which project?');
      if (project) await d.generator.generateInteractive(project);
    }),

    cmd('artFactory.generateFromFile', async (arg) => {
      const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
      if (!uri || !uri.path.endsWith('.art.json')) {
        void vscode.window.showWarningMessage('Art Factory: open a *.art.json parameter file first, or use Generate… from the palette.');
        return;
      }
      await projects.ready();
      const project = projects.forUri(uri) ?? (await projects.pick('This file is outside any project. Generate into which project?'));
      if (project) await d.generator.generateFromFile(project, uri);
    }),

    cmd('artFactory.saveAsTemplate', async (arg) => {
      const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
      let text: string | undefined;
      if (uri?.path.endsWith('.art.json')) text = (await vscode.workspace.openTextDocument(uri)).getText();
      else if (arg && typeof arg === 'object' && 'text' in arg && typeof (arg as { text: unknown }).text === 'string') text = (arg as { text: string }).text;
      if (!text) {
        void vscode.window.showWarningMessage('Art Factory: open a parameter file (or pick a product in the gallery) to save as a template.');
        return;
      }
      const name = await vscode.window.showInputBox({ title: 'Save as Template', prompt: 'Template name. Use {{name}} in the file for values to fill in later.', validateInput: (v) => (v.trim() ? undefined : 'A template needs a name.') });
      if (!name) return;
      const project = uri ? projects.forUri(uri) : projects.active();
      const scope = await vscode.window.showQuickPick(
        [
          ...(project ? [{ label: `Project: ${project.name}`, dir: path.join(project.dir, 'templates') }] : []),
          { label: 'Global (all projects)', dir: globalTemplates() },
        ],
        { title: 'Where to keep the template?' },
      );
      if (!scope) return;
      const file = await saveTemplate(scope.dir, name.trim(), text);
      void vscode.window.showInformationMessage(`Art Factory: template "${name.trim()}" saved.`, 'Open').then((b) => b && vscode.window.showTextDocument(vscode.Uri.file(file)));
    }),

    cmd('artFactory.newFromTemplate', async () => {
      const project = await projects.pick('Project for the new parameter file');
      if (!project) return;
      const templates = await listTemplates([path.join(project.dir, 'templates'), globalTemplates()]);
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
      await fs.writeFile(file, value ? withSchemaRef(made, await d.schemaRef(project.dir, value.provider, value.model, paramsDir)) : made, { flag: 'wx' });
      await vscode.window.showTextDocument(vscode.Uri.file(file));
    }),

    cmd('artFactory.openGallery', async (arg) => {
      const s = sessionArg(arg) ?? (await projects.pick('Open the gallery of…'));
      if (!s) return;
      projects.setActive(s);
      await d.openGallery(s);
    }),

    cmd('artFactory.openGalleryAll', async () => {
      await projects.ready();
      await d.openGallery('all');
    }),

    cmd('artFactory.showJobs', async () => {
      await vscode.commands.executeCommand('artFactory.jobs.focus');
    }),

    cmd('artFactory.cancelJob', async (arg) => {
      const entry = isJobEntry(arg) ? arg : undefined;
      if (!entry) return;
      const engine = await projects.get(entry.project)?.engine();
      await engine?.cancel(entry.job.id);
    }),

    cmd('artFactory.retryJob', async (arg) => {
      const entry: JobEntry | undefined = isJobEntry(arg) ? arg : undefined;
      if (!entry) return;
      const engine = await projects.get(entry.project)?.engine();
      await engine?.retry(entry.job.id);
    }),

    cmd('artFactory.showLog', async () => log.show()),

    cmd('artFactory.backupProject', async (arg) => {
      const s = sessionArg(arg) ?? (await projects.pick('Back up which project?'));
      if (!s) return;
      const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
      const target = await vscode.window.showSaveDialog({
        title: `Back up "${s.name}"`,
        defaultUri: vscode.Uri.file(path.join(path.dirname(s.dir), `${safeFileName(s.name)}-${stamp}.zip`)),
        filters: { 'Zip archive': ['zip'] },
      });
      if (!target) return;
      // The database goes into the zip as one file, its change journal folded in.
      await (await s.db()).compact();
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Art Factory: backing up ${s.name}`, cancellable: true },
        (progress, token) => {
          const ac = new AbortController();
          token.onCancellationRequested(() => ac.abort());
          let last = 0;
          return backupProject(s.dir, target.fsPath, {
            signal: ac.signal,
            onProgress: (done, total) => {
              const pct = (done / total) * 100;
              progress.report({ increment: pct - last, message: `${done}/${total} files` });
              last = pct;
            },
          });
        },
      );
      const mb = (report.bytes / 1024 / 1024).toFixed(1);
      void vscode.window.showInformationMessage(`Art Factory: ${s.name} backed up (${report.files} files, ${mb} MB).`, 'Reveal').then((b) => b && vscode.commands.executeCommand('revealFileInOS', target));
    }),

    cmd('artFactory.restoreProject', async () => {
      const zip = await vscode.window.showOpenDialog({ title: 'Restore Project from Backup', canSelectFiles: true, filters: { 'Zip archive': ['zip'] }, openLabel: 'Restore' });
      if (!zip?.[0]) return;
      const parent = await vscode.window.showOpenDialog({ title: 'Restore into a new folder inside…', canSelectFolders: true, canSelectFiles: false, openLabel: 'Restore Here' });
      if (!parent?.[0]) return;
      const dir = await freshPath(parent[0].fsPath, safeFileName(path.basename(zip[0].fsPath, '.zip')), '');
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Art Factory: restoring…' }, () => restoreProject(zip[0].fsPath, dir));
      const { verify } = result;
      for (const line of describeVerify(verify)) log[verify.ok ? 'info' : 'warn'](`restore ${dir}: ${line}`);
      if (!verify.ok) {
        void vscode.window.showWarningMessage(`Art Factory: restored into ${dir}, but it has ${verify.problems.length} problem${verify.problems.length === 1 ? '' : 's'} (${verify.quarantined.length} product${verify.quarantined.length === 1 ? '' : 's'} quarantined: not shown, never opened, exported or deleted).`, 'Show Log').then((b) => b && log.show());
      } else {
        void vscode.window.showInformationMessage(`Art Factory: restored into ${dir}; all ${verify.verified} products verified.`);
      }
      addToWorkspace(dir);
      await projects.rescan();
    }),

    cmd('artFactory.rebuildIndex', async (arg) => {
      const s = sessionArg(arg) ?? (await projects.pick('Rebuild the index of…'));
      if (!s) return;
      const ok = await vscode.window.showWarningMessage(
        `Rebuild the index of "${s.name}" from its sidecar files?`,
        { modal: true, detail: 'The current database is kept in .artfactory/backups/. Products, ratings, tags and notes come back from the sidecars; job history does not.' },
        'Rebuild',
      );
      if (!ok) return;
      await s.close();
      let skipped = 0;
      const n = await vscode.window
        .withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: rebuilding ${s.name}`, cancellable: true }, (progress, token) => {
          const ac = new AbortController();
          token.onCancellationRequested(() => ac.abort());
          let last = 0;
          return rebuildIndex(s.dir, {
            signal: ac.signal,
            onSkip: (file, why) => {
              skipped++;
              log.warn(`rebuild ${s.dir}: skipped ${file}: ${why}`);
            },
            onProgress: ({ done, total }) => {
              const pct = total ? (done / total) * 100 : 100;
              progress.report({ increment: pct - last, message: `${done.toLocaleString()}/${total.toLocaleString()} sidecars` });
              last = pct;
            },
          });
        })
        .then(
          (count) => count,
          (e: unknown) => {
            // Canceled: the database is as it was (the rebuild is installed only at its end).
            if (e instanceof StorageError && e.kind === 'canceled') return undefined;
            throw e;
          },
        );
      d.projectsView.recount(s.dir);
      if (n === undefined) {
        void vscode.window.showInformationMessage(`Art Factory: rebuilding ${s.name} was canceled; its index is as it was.`);
        return;
      }
      const note = skipped ? ` ${skipped} unreadable sidecar${skipped === 1 ? ' was' : 's were'} skipped (see the log).` : '';
      void vscode.window.showInformationMessage(`Art Factory: ${s.name} rebuilt from sidecars (${n} products).${note}`, ...(skipped ? ['Show Log'] : [])).then((b) => b && log.show());
    }),

    cmd('artFactory.restoreBackup', async (arg) => {
      const s = sessionArg(arg) ?? (await projects.pick('Restore the database of…'));
      if (!s) return;
      const ok = await vscode.window.showWarningMessage(`Restore the latest database backup of "${s.name}"?`, { modal: true, detail: 'The current database is moved aside first, not deleted.' }, 'Restore');
      if (!ok) return;
      await s.close();
      await restoreLatestBackup(s.dir);
      d.projectsView.recount(s.dir);
      void vscode.window.showInformationMessage(`Art Factory: ${s.name} restored from its latest backup.`);
    }),
  ];
}
