// Activation: wire the core (providers, storage, engine) to VS Code. Nothing heavy happens
// here: the database (sql.js, in a worker) and sharp load when a project is first used.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { createBuiltinRegistry } from '../providers/index.ts';
import type { Provider, ProviderContext, ProviderFactory } from '../providers/types.ts';
import { isProject, openProjectDb, readManifest, StorageError, writtenElsewhere } from '../storage/index.ts';
import type { ProductRecord, ProjectDb } from '../storage/types.ts';
import { Engine } from '../engine/engine.ts';
import { exactModel, sameSeedInput, translateInput } from '../engine/reuse.ts';
import type { SheetItem } from '../archive/contactSheet.ts';
import { expandJobs, LIMITS, parseParamFile } from '../engine/paramFile.ts';
import { createSchemaCache, ensureModelSchema, hasModelSchema, modelSchemaPath, schemaRefOf } from '../engine/schemas.ts';
import { contactSheetOf, diskFull, EXPORT_STOPPED, exportItems, SHEET_STOPPED } from './commands/archive.ts';
import type { CommandContext } from './commands/context.ts';
import { registerCommands } from './commands/index.ts';
import { runCommand, showFailure } from './commands/register.ts';
import { saveAsTemplate } from './commands/templates.ts';
import { Generator } from './generate.ts';
import { JobsView } from './jobsView.ts';
import { OutputLog } from './log.ts';
import { ParamFiles } from './paramFiles.ts';
import { ProjectManager, type ProjectSession } from './projects.ts';
import { ProjectsView } from './projectsView.ts';
import { KeyStore } from './secrets.ts';
import { providerBaseUrl, providerLimits, settings } from './settings.ts';
import { registerGallery } from './galleryPanel.ts';
import { isTrusted } from './trust.ts';
import { offerVerifyIfElsewhere, runVerify, type VerifyDeps } from './verify.ts';
import { Submissions } from './submit.ts';
import { registerAgentTools } from './agentTools.ts';
import { ImageInputAssist, INPUT_LIMIT_SETTING } from './imageInputAssist.ts';
import { useAsInput } from './useAsInput.ts';
import { warnWhenSharpIsMissing } from './sharpWarning.ts';
import { showWalkthroughOnce } from './walkthrough.ts';
import { Costs } from './costs.ts';
import { SpendingPanel } from './spendingPanel.ts';
import { TERMINAL_STATES } from '../providers/types.ts';

/** What other extensions get from `vscode.extensions.getExtension('art-factory.art-factory').activate()`. */
export interface ArtFactoryApi {
  readonly version: 1;
  /** Add a provider; its models appear in Generate… and New Parameter File. */
  registerProvider(provider: Provider | ProviderFactory): vscode.Disposable;
}

export async function activate(context: vscode.ExtensionContext): Promise<ArtFactoryApi> {
  const log = new OutputLog();
  context.subscriptions.push(log, warnWhenSharpIsMissing(log));
  const keys = new KeyStore(context.secrets, log);

  // Settings are read at call time (getters), so a changed base URL or limit applies without a reload.
  const ctxFor = (id: string): ProviderContext => ({
    getKey: () => keys.get(id),
    get baseUrl() {
      return providerBaseUrl(id);
    },
    get limits() {
      return providerLimits(id);
    },
    get allowMatureContent() {
      return id === 'civitai' && settings.civitaiAllowMatureContent();
    },
    log,
  });
  const registry = createBuiltinRegistry(ctxFor);
  // Prices, ledgers and budgets (issue 11); `projectsRef` is set once the projects exist.
  const projectsRef: { current?: ProjectManager } = {};
  const costs = new Costs({
    registry,
    log,
    globalDir: context.globalStorageUri.fsPath,
    projects: () => projectsRef.current?.all().map((p) => ({ dir: p.dir, name: p.name })) ?? [],
    activeProject: () => projectsRef.current?.active()?.dir,
  });
  context.subscriptions.push(costs);
  // Custom models are remembered across sessions; their schemas live in each project.
  registry.loadCustomModels(context.globalState.get('artFactory.customModels', []));
  context.subscriptions.push(registry.onDidChange(() => void context.globalState.update('artFactory.customModels', registry.customModels())));

  const openDb = async (dir: string) => {
    let db;
    try {
      db = await openProjectDb(dir, {
        workerPath: path.join(context.extensionPath, 'dist', 'db-worker.js'),
        wasmPath: path.join(context.extensionPath, 'dist', 'sql-wasm.wasm'),
        backups: settings.backupCount(),
        // A damaged change journal: what was kept and how to get the rest back.
        onWarning: (message) => {
          log.warn(message);
          void vscode.window.showWarningMessage(`Art Factory: ${message}`, 'Rebuild Index', 'Show Log').then((b) => {
            if (b === 'Rebuild Index') void runCommand('rebuildIndex');
            else if (b === 'Show Log') log.show();
          });
        },
      });
    } catch (e) {
      offerRecovery(dir, e, log);
      throw e;
    }
    // A database from another folder or machine: offer Verify Project (not awaited: opening goes on).
    void offerVerifyIfElsewhere(dir, db, verifyDeps).catch((e: unknown) => log.warn(`${dir}: ${e instanceof Error ? e.message : String(e)}`));
    return db;
  };

  const createEngine = async (session: ProjectSession, db: Awaited<ReturnType<typeof openDb>>): Promise<Engine> => {
    const engine = new Engine({
      projectDir: session.dir,
      db,
      providers: registry,
      log,
      downloadLimitBytes: settings.downloadLimitBytes(),
      pollIntervalMs: settings.pollIntervalMs(),
      jobTimeoutMs: settings.jobTimeoutMs(),
      allowLoopbackHttp: settings.allowLoopbackHttp(),
      inputLimitBytes: settings.inputLimitBytes(),
      inputLimitHint: INPUT_LIMIT_SETTING,
      pricing: costs.pricing,
      spending: costs.spending(session.dir).guard,
    });
    // Its events reach the Jobs view, the gallery and the counts through the project events.
    projects.follow(session, engine);
    await jobsView.load(session.dir);
    // In Restricted Mode nothing is generated: unfinished jobs wait until the folder is trusted.
    const resumed = (await mayResume(session.dir, db, log)) ? await engine.resume() : 0;
    if (resumed > 0) log.info(`${session.name}: resumed ${resumed} unfinished job${resumed === 1 ? '' : 's'}`);
    return engine;
  };

  const projects: ProjectManager = new ProjectManager(context.workspaceState, log, { isProject, readManifest }, { openDb, createEngine });
  // Used by openDb, which runs only once a project is first used (after activation).
  const verifyDeps: VerifyDeps = { projects, log, refreshGallery: async () => gallery.refresh(), trusted: () => resumeUnfinished(projects, log) };
  current = projects;
  projectsRef.current = projects;
  // A job that ended changed what was spent: the status bar and the Spending panel look again.
  context.subscriptions.push(
    projects,
    projects.onDidChange(() => costs.refresh()),
    projects.onDidChangeJob(({ job }) => TERMINAL_STATES.includes(job.state) && costs.refresh()),
  );
  const spending = new SpendingPanel(
    context,
    costs,
    () => projects.all().map((p) => ({ dir: p.dir, name: p.name })),
    () => projects.active()?.dir,
  );
  context.subscriptions.push(spending);
  const projectsView = new ProjectsView(projects);
  const jobsView = new JobsView(projects);
  context.subscriptions.push(projectsView, jobsView);

  // Schemas fetched from the providers are kept in global storage, keyed by model, and read
  // before one a project folder holds (which is data from elsewhere; see engine/safeRegex.ts).
  const schemaCacheOptions = { globalDir: context.globalStorageUri.fsPath };
  /** A parameter file's `$schema` reference for a model, its schema file made in the project
   * first when it has none (every file we write or ship names one). */
  const schemaRef = (dir: string, providerId: string, model: string, fromDir: string): Promise<string> =>
    ensureModelSchema(dir, providerId, model, fromDir, () => registry.inputSchema(providerId, model, undefined, createSchemaCache(dir, schemaCacheOptions)));
  /** A file whose `$schema` names the project's schema of its model, which is not there yet (the
   * demo, a copied project, a file from git): make it, so completion works. Not in Restricted
   * Mode: nothing is written into an untrusted folder, nor asked of a provider for it. */
  const ensureSchemaOf = async (file: string, text: string): Promise<void> => {
    if (!isTrusted()) return;
    const project = projects.forUri(vscode.Uri.file(file));
    const ref = schemaRefOf(text);
    const value = ref ? parseParamFile(text).value : undefined;
    if (!project || !ref || !value) return;
    const named = path.resolve(path.dirname(file), ref) === path.join(project.dir, modelSchemaPath(value.provider, value.model));
    if (named && !(await hasModelSchema(project.dir, value.provider, value.model))) await schemaRef(project.dir, value.provider, value.model, path.dirname(file));
  };

  // Live checks use the schema already cached; ▶ Generate may fetch it.
  const schemaFor = async (doc: vscode.TextDocument, providerId: string, model: string, allowFetch: boolean) => {
    const project = projects.forUri(doc.uri);
    const cache = project ? createSchemaCache(project.dir, schemaCacheOptions) : undefined;
    const cached = await cache?.get(providerId, model);
    if (cached || !allowFetch) return cached;
    const provider = registry.get(providerId);
    if (!provider) return undefined;
    const schema = await provider.getInputSchema(model);
    await cache?.set(providerId, model, schema);
    return schema;
  };
  const imageInputs = new ImageInputAssist({ projects, registry, log, cachedSchema: (doc, p, m) => schemaFor(doc, p, m, false) });
  const paramFiles = new ParamFiles(schemaFor, (doc, parsed, schema) => imageInputs.check(doc, parsed, schema), ensureSchemaOf);
  context.subscriptions.push(imageInputs, paramFiles);
  const submissions = new Submissions({ registry, projects, keys, log, schemaCacheOptions, images: (dir) => imageInputs.sourceFor(dir), costs });
  // The CodeLens's "≈ $0.30": prices from the day's cache (or one request), no Civitai quotes while typing.
  paramFiles.setEstimator(async (value) => {
    const specs = expandJobs(value);
    return specs.length > 1000 ? undefined : submissions.estimate(specs);
  });
  const generator = new Generator(registry, paramFiles, context.globalState, submissions);
  const followActiveProject = () => {
    const active = projects.active();
    registry.setSchemaCache(active ? createSchemaCache(active.dir, schemaCacheOptions) : undefined);
  };
  context.subscriptions.push(projects.onDidChange(followActiveProject), vscode.window.onDidChangeActiveTextEditor(followActiveProject));
  const gallery = registerGallery(context, {
    projects: () => projects.all().map((s) => ({ dir: s.dir, name: s.name, db: () => s.db() })),
    activeProject: () => projects.active()?.dir,
    log,
    events: projects,
    tileSize: () => vscode.workspace.getConfiguration('artFactory').get<number>('gallery.tileSize', 180),
    recipesFor: async (products, opts) => {
      // Re-run runs the exact version the product recorded (Replicate: owner/name:version).
      const modelOf = (p: ProductRecord) => (opts?.exact ? exactModel(p, registry.get(p.provider)) : p.model);
      // Re-run keeps the seed the product was made with, also when the provider picked it.
      const inputOf = (p: ProductRecord) => (opts?.sameSeed ? sameSeedInput(p, registry.models().find((m) => m.provider === p.provider && m.id === p.model)) : p.input);
      const foreign = products.find((p) => !registry.get(p.provider));
      if (!foreign) return products.map((p) => ({ provider: p.provider, model: modelOf(p), input: inputOf(p) }));
      const tool = typeof foreign.input.tool === 'string' ? foreign.input.tool : foreign.provider;
      const model = await generator.pickModel(`Made by ${tool}: pick a model to make it again with its parameters`);
      if (!model) return undefined;
      const schema = await registry.inputSchema(model.provider, model.id);
      return products.map((p) =>
        registry.get(p.provider) ? { provider: p.provider, model: modelOf(p), input: inputOf(p) } : { provider: model.provider, model: model.id, input: translateInput(p.input, model, schema) },
      );
    },
    schemaRef,
    submissions,
    // As the commands do: a failure is said with its way out (a full disk as such).
    exportItems: (items: SheetItem[]) => exportItems(commandContext, items).catch(async (e: unknown) => void (await showFailure(e, log, diskFull(EXPORT_STOPPED)))),
    contactSheet: (items: SheetItem[]) => contactSheetOf({ items }).catch(async (e: unknown) => void (await showFailure(e, log, diskFull(SHEET_STOPPED)))),
    saveTemplate: (text, dir) => saveAsTemplate(commandContext, text, projects.get(dir)),
    showLog: () => log.show(),
    showFailure: async (e) => void (await showFailure(e, log)),
    verifyProject: async (dir) => {
      const s = projects.get(dir);
      await (s ? runVerify(s, verifyDeps) : runCommand('verifyProject'));
    },
    useAsInput: (items) => useAsInput({ registry, generator }, items),
  });
  context.subscriptions.push(gallery);

  const commandContext: CommandContext = { context, projects, projectsView, jobsView, registry, keys, generator, log, gallery, verify: verifyDeps, schemaRef, costs, spending };
  context.subscriptions.push(...registerCommands(commandContext));
  try {
    // The agent tools generate through the same submission path (origin 'tool').
    context.subscriptions.push(...registerAgentTools({ context, projects, registry, keys, submissions, log }));
  } catch (e) {
    // The rest of the extension works without them.
    log.error(`the agent tools could not be registered: ${e instanceof Error ? e.message : String(e)}`);
  }

  // Pick up unfinished jobs from before a restart, after the window has settled; in Restricted
  // Mode only once the folder is trusted (then the gallery leaves its read-only mode too).
  const resumeTimer = setTimeout(() => void (isTrusted() && resumeUnfinished(projects, log)), 1500);
  context.subscriptions.push(
    { dispose: () => clearTimeout(resumeTimer) },
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void resumeUnfinished(projects, log);
      void gallery.refresh();
      void ensureProjectSchemas(projects, ensureSchemaOf, log);
    }),
  );
  // Schemas the projects' parameter files name but do not have yet, made before they are opened.
  void projects
    .rescan()
    .then(() => ensureProjectSchemas(projects, ensureSchemaOf, log))
    .catch((e: unknown) => log.warn(`could not make the schemas parameter files name: ${e instanceof Error ? e.message : String(e)}`));
  context.subscriptions.push(showWalkthroughOnce(context));

  return {
    version: 1,
    registerProvider: (p) => {
      const d = registry.register(p);
      return new vscode.Disposable(() => d.dispose());
    },
  };
}

/** Every parameter file of every project: its named schema made if missing (in the background). */
async function ensureProjectSchemas(projects: ProjectManager, ensure: (file: string, text: string) => Promise<void>, log: OutputLog): Promise<void> {
  if (!isTrusted()) return;
  for (const s of projects.all()) {
    const files = await vscode.workspace.findFiles(new vscode.RelativePattern(s.folder, '**/*.art.json'), '**/{node_modules,.artfactory}/**', 500);
    for (const f of files) {
      await fs
        .stat(f.fsPath)
        .then(async (st) => (st.size <= LIMITS.maxBytes ? ensure(f.fsPath, await fs.readFile(f.fsPath, 'utf8')) : undefined))
        .catch((e: unknown) => log.warn(`${f.fsPath}: could not make the schema it names: ${e instanceof Error ? e.message : String(e)}`));
    }
  }
}

/** Unfinished jobs run again only in a trusted folder whose database was written here (or has
 * been verified or trusted since): a job row from elsewhere could name any image on this
 * machine as an input, to be sent to a provider with the user's key. */
async function mayResume(dir: string, db: ProjectDb, log: OutputLog): Promise<boolean> {
  if (!isTrusted()) return false;
  if (!(await writtenElsewhere(db, dir))) return true;
  log.info(`${path.basename(dir)}: unfinished jobs wait: the database was written elsewhere (run Verify Project, or Trust as Is)`);
  return false;
}

/** Open the engine of every project with unfinished jobs; the engine resumes them. */
async function resumeUnfinished(projects: ProjectManager, log: OutputLog): Promise<void> {
  await projects.ready();
  for (const s of projects.all()) {
    try {
      const db = await s.db();
      const open = await db.listJobs({ states: ['queued', 'submitted', 'running'], limit: 1 });
      const needsDownload = (await db.listJobs({ states: ['succeeded'], limit: 50 })).some((j) => j.productIds.length === 0);
      // An engine made before it could resume did not; resume() again is harmless (running jobs are skipped).
      if ((open.length > 0 || needsDownload) && (await mayResume(s.dir, db, log))) await (await s.engine()).resume();
    } catch (e) {
      log.error(`${s.name}: could not resume jobs: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** A corrupt database never silently starts empty: offer the ways back. */
function offerRecovery(dir: string, e: unknown, log: OutputLog): void {
  if (!(e instanceof StorageError)) return;
  log.error(`${dir}: ${e.message}`);
  const name = path.basename(dir);
  if (e.kind === 'corrupt-db') {
    void vscode.window
      .showErrorMessage(`Art Factory: the index of "${name}" is damaged (${e.message}). Your products and sidecars are untouched.`, 'Restore Latest Backup', 'Rebuild from Sidecars', 'Show Log')
      .then((b) => {
        if (b === 'Restore Latest Backup') void runCommand('restoreBackup');
        if (b === 'Rebuild from Sidecars') void runCommand('rebuildIndex');
        if (b === 'Show Log') log.show();
      });
  } else {
    void vscode.window.showErrorMessage(`Art Factory: ${name}: ${e.message}`, 'Show Log').then((b) => b && log.show());
  }
}

let current: ProjectManager | undefined;

/** Flush and close every open project database before the extension host goes away. */
export async function deactivate(): Promise<void> {
  await Promise.all((current?.all() ?? []).map((s) => s.close()));
  current = undefined;
}
