import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkSpec, expandJobs, problemClause, type JobSpec, type ParamFileEnvelope } from '../engine/paramFile.ts';
import type { JobRecord } from '../storage/types.ts';
import { jobsSummary } from '../providers/jobStatus.ts';
import { TERMINAL_STATES, type ModelInfo } from '../providers/types.ts';
import { isProviderError, type ProviderError } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { OutputLog } from './log.ts';
import type { ParamFiles } from './paramFiles.ts';
import type { ProjectSession } from './projects.ts';
import { settings } from './settings.ts';
import type { Costs } from './costs.ts';
import { describeConfirm, planCost, type Plan } from '../engine/submission.ts';
import { describeEstimate } from '../engine/cost/index.ts';

const RECENT_KEY = 'artFactory.recentModels';

/** Turns a parameter file or a quick palette flow into jobs, with a progress notification
 * that follows the provider's status and cancels at the provider. */
export class Generator {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly paramFiles: ParamFiles,
    private readonly memento: vscode.Memento,
    private readonly log: OutputLog,
    /** Prices and budgets (issue 11): the estimate in the confirmation, and each job's reservation. */
    private readonly costs?: Costs,
  ) {}

  /** Model quick pick: recently used first, then every provider's catalog, searchable; `only`
   * narrows the catalog (e.g. to models that take an image). */
  async pickModel(title = 'Pick a model', only: (m: ModelInfo) => boolean = () => true): Promise<ModelInfo | undefined> {
    const recent = this.memento.get<string[]>(RECENT_KEY, []);
    const models = this.registry.models().filter((m) => (m.provider !== 'sample' || settings.sampleEnabled()) && only(m));
    const key = (m: ModelInfo): string => `${m.provider}:${m.id}`;
    const rank = (m: ModelInfo): number => {
      const i = recent.indexOf(key(m));
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    models.sort((a, b) => rank(a) - rank(b) || a.provider.localeCompare(b.provider) || a.title.localeCompare(b.title));
    type Item = vscode.QuickPickItem & { model?: ModelInfo; custom?: boolean };
    const items: Item[] = [];
    let section = '';
    for (const m of models) {
      const s = rank(m) < Number.MAX_SAFE_INTEGER ? 'Recently used' : this.registry.get(m.provider)?.displayName ?? m.provider;
      if (s !== section) items.push({ label: s, kind: vscode.QuickPickItemKind.Separator });
      section = s;
      items.push({ label: m.title, description: `${m.provider} · ${m.id}`, detail: [m.capabilities.join(', '), m.description].filter(Boolean).join(' — '), model: m });
    }
    items.push({ label: '', kind: vscode.QuickPickItemKind.Separator }, { label: '$(add) Add a custom model…', description: 'any fal endpoint id, Replicate owner/name[:version] or Civitai AIR', custom: true });
    const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Type to search models by name, provider or id', matchOnDescription: true, matchOnDetail: true });
    if (picked?.custom) {
      await vscode.commands.executeCommand('artFactory.addCustomModel');
      return undefined;
    }
    if (picked?.model) await this.rememberModel(picked.model);
    return picked?.model;
  }

  async rememberModel(m: ModelInfo): Promise<void> {
    const k = `${m.provider}:${m.id}`;
    const recent = this.memento.get<string[]>(RECENT_KEY, []).filter((r) => r !== k);
    await this.memento.update(RECENT_KEY, [k, ...recent].slice(0, 10));
  }

  /** "Generate…" from the palette: model, prompt, count. */
  async generateInteractive(project: ProjectSession): Promise<void> {
    const model = await this.pickModel('Generate: pick a model');
    if (!model) return;
    const prompt = await vscode.window.showInputBox({
      title: `Generate with ${model.title}`,
      prompt: 'Describe the image',
      placeHolder: 'a lighthouse at dusk, oil painting',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'Type a prompt, or press Escape to cancel.'),
    });
    if (!prompt) return;
    const count = await vscode.window.showQuickPick(['1', '2', '4', '8'], { title: 'How many?', placeHolder: 'Number of jobs' });
    if (!count) return;
    const envelope: ParamFileEnvelope = {
      provider: model.provider,
      model: model.id,
      input: { [model.promptField ?? 'prompt']: prompt.trim() },
      count: Number(count),
    };
    await this.run(project, expandJobs(envelope), { title: prompt.trim().slice(0, 40) });
  }

  /** ▶ Generate: validate the file (nothing is sent when it has problems), expand, run. */
  async generateFromFile(project: ProjectSession, uri: vscode.Uri): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.isDirty) await doc.save();
    const { parsed, problems } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Art Factory: checking parameter file' },
      () => this.paramFiles.check(doc, true),
    );
    const { count, first } = this.paramFiles.errorsShown(uri, problems);
    if (!parsed.value || count > 0) {
      const choice = await vscode.window.showErrorMessage(
        `Art Factory: ${path.basename(uri.fsPath)} has ${count} problem${count === 1 ? '' : 's'}${first ? `; the first: ${first}` : ''}. Nothing was sent.`,
        'Show Problems',
      );
      if (choice) await vscode.commands.executeCommand('workbench.actions.view.problems');
      return;
    }
    const specs = expandJobs(parsed.value);
    const info = this.registry.models().find((m) => m.provider === parsed.value!.provider && m.id === parsed.value!.model);
    if (info) await this.rememberModel(info);
    await this.run(project, specs, { title: path.basename(uri.fsPath), sourceFile: path.relative(project.dir, uri.fsPath).split(path.sep).join('/') });
  }

  /** A parameter file's checks for jobs made elsewhere (a gallery Re-run), with the model's
   * schema fetched if the project has none yet: the first problem of each job that has one. */
  async checkSpecs(specs: JobSpec[]): Promise<{ index: number; problem: string }[]> {
    const out: { index: number; problem: string }[] = [];
    for (const [index, spec] of specs.entries()) {
      const schema = await this.registry.inputSchema(spec.provider, spec.model).catch((e: unknown) => {
        this.log.warn(`no schema for ${spec.provider} ${spec.model} to check against: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      });
      const [first] = checkSpec(spec, schema);
      if (first) out.push({ index, problem: problemClause(first, false) });
    }
    return out;
  }

  /** Submit and follow a batch of jobs in one cancellable notification. */
  async run(project: ProjectSession, specs: JobSpec[], opts: { title: string; sourceFile?: string }): Promise<JobRecord[]> {
    if (specs.length === 0) return [];
    const provider = this.registry.get(specs[0].provider);
    if (!provider) {
      void vscode.window.showErrorMessage(`Art Factory: unknown provider "${specs[0].provider}". Use one of: ${this.registry.list().map((p) => p.id).join(', ')}.`);
      return [];
    }
    // What it will cost, and whether that asks first (the engine's plan: src/engine/submission.ts).
    const plan: Plan = {
      request: { title: opts.title, origin: 'palette', parts: [{ projectDir: project.dir, sourceFile: opts.sourceFile, source: { kind: 'jobs', specs } }] },
      parts: [{ projectDir: project.dir, sourceFile: opts.sourceFile, specs, diagnostics: [] }],
      jobCount: specs.length,
      providers: [...new Set(specs.map((s) => s.provider))],
      problems: [],
      warnings: [],
      confirm: specs.length > settings.confirmAbove() ? [{ kind: 'jobs', jobs: specs.length, limit: settings.confirmAbove() }] : [],
    };
    if (this.costs) {
      await planCost(plan, { pricing: this.costs.pricing, budgets: (dir) => this.costs!.spending(dir).scopes(), confirmAboveCost: () => settings.confirmAboveCost() }).catch((e: unknown) =>
        this.log.warn(`no estimate for ${opts.title}: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    if (plan.confirm.length > 0) {
      const cost = plan.estimate ? ` (${describeEstimate(plan.estimate)})` : '';
      const go = await vscode.window.showWarningMessage(`This makes ${specs.length} job${specs.length === 1 ? '' : 's'} on ${provider.displayName}${cost}. Start ${specs.length === 1 ? 'it' : 'them all'}?`, { modal: true, detail: describeConfirm(plan.confirm).join('\n') }, `Start ${specs.length} Job${specs.length === 1 ? '' : 's'}`);
      if (!go) return [];
    }
    const estimates = plan.parts[0].estimates;
    const engine = await project.engine();
    const batchId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Art Factory: ${opts.title}`, cancellable: true },
      async (progress, token) => {
        progress.report({ message: `submitting ${specs.length} job${specs.length === 1 ? '' : 's'} to ${provider.displayName}…` });
        const jobs = await engine.submit(specs, { batchId, sourceFile: opts.sourceFile, estimates });
        const ids = new Set(jobs.map((j) => j.id));
        const latest = new Map(jobs.map((j) => [j.id, j]));
        let reported = 0;
        const sub = engine.on('job', (j) => {
          if (!ids.has(j.id)) return;
          latest.set(j.id, j);
          const all = [...latest.values()];
          const done = all.filter((x) => TERMINAL_STATES.includes(x.state)).length;
          const increment = ((done - reported) / all.length) * 100;
          reported = done;
          progress.report({ increment, message: `${jobsSummary(all)}${j.error ? ` · ${j.error.message}` : ''}` });
        });
        const cancel = token.onCancellationRequested(() => {
          for (const id of ids) void engine.cancel(id).catch((e: unknown) => this.log.warn(`cancel ${id}: ${String(e)}`));
        });
        try {
          const finished = await engine.waitFor([...ids]);
          this.report(project, finished);
          return finished;
        } finally {
          sub.dispose();
          cancel.dispose();
        }
      },
    );
  }

  private report(project: ProjectSession, jobs: JobRecord[]): void {
    const ok = jobs.filter((j) => j.state === 'succeeded');
    const failed = jobs.filter((j) => j.state === 'failed');
    const products = ok.reduce((n, j) => n + j.productIds.length, 0);
    if (failed.length === 0) {
      if (ok.length === 0) return; // all canceled: the user knows
      void vscode.window.showInformationMessage(`Art Factory: ${products} product${products === 1 ? '' : 's'} in ${project.name}.`, 'Open Gallery').then((b) => {
        if (b) void vscode.commands.executeCommand('artFactory.openGallery', project);
      });
      return;
    }
    const first = failed[0].error;
    const buttons = first?.kind === 'auth' ? ['Set API Key', 'Show Log'] : failed.some((j) => j.error?.kind === 'budget') ? ['Raise Budget…', 'Show Log'] : ['Retry Failed', 'Show Log'];
    void vscode.window
      .showErrorMessage(`Art Factory: ${failed.length} of ${jobs.length} job${jobs.length === 1 ? '' : 's'} failed: ${first?.message ?? 'unknown error'}`, ...buttons)
      .then(async (b) => {
        if (b === 'Set API Key') await vscode.commands.executeCommand('artFactory.setApiKey', failed[0].provider);
        if (b === 'Show Log') this.log.show();
        if (b === 'Raise Budget…') await vscode.commands.executeCommand('artFactory.raiseBudget', { project: project.dir });
        if (b === 'Retry Failed') for (const j of failed) await vscode.commands.executeCommand('artFactory.retryJob', { project: project.dir, job: j });
      });
  }
}

/** A user-facing sentence and buttons for a provider error. */
export function describeProviderError(e: unknown): { message: string; actions: string[] } {
  if (!isProviderError(e)) return { message: e instanceof Error ? e.message : String(e), actions: ['Show Log'] };
  const pe: ProviderError = e;
  const actions = pe.action === 'set-key' ? ['Set API Key'] : pe.action === 'retry' ? ['Retry'] : ['Show Log'];
  return { message: pe.message, actions };
}
