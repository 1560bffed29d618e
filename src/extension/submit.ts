// Submitting work from VS Code: the engine's one submission path (src/engine/submission.ts)
// with the editor's way of showing it. ▶ Generate, Generate…, the gallery's Re-run (and the
// parameter files Use as Input… opens) all come here:
//   refused   an error message naming the first problem, with the way to fix it;
//   confirm   a modal above `artFactory.generate.confirmAbove` jobs or `confirmAboveCost`, with
//             the estimate, and when a budget is involved (issue 11);
//   started   a progress notification that follows the batch and cancels at the provider;
//   finished  a toast: the products made (Open Gallery), or what failed (Retry Failed, Set API Key,
//             Raise Budget… when a budget stopped a job).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImageSource } from '../engine/imageInputs.ts';
import type { JobSpec } from '../engine/paramFile.ts';
import { createSchemaCache } from '../engine/schemas.ts';
import { describeConfirm, Submitter, type Batch, type Plan, type SubmissionHooks, type SubmissionOutcome, type SubmissionRequest } from '../engine/submission.ts';
import { providerDisplayName } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { JobRecord } from '../storage/types.ts';
import { runCommand } from './commands/register.ts';
import type { Costs } from './costs.ts';
import { describeEstimate } from '../engine/cost/index.ts';
import type { OutputLog } from './log.ts';
import type { ProjectManager } from './projects.ts';
import type { KeyStore } from './secrets.ts';
import { PROVIDERS_WITH_KEYS, settings } from './settings.ts';

export interface SubmissionsDeps {
  registry: ProviderRegistry;
  projects: ProjectManager;
  keys: KeyStore;
  log: OutputLog;
  /** Where schemas fetched from providers are kept across projects (global storage). */
  schemaCacheOptions: { globalDir: string };
  /** The image checker of a project, the one the editor's live checks use. */
  images(projectDir: string): ImageSource;
  /** Prices and budgets (issue 11): the plan's estimate, its questions, each job's reservation. */
  costs?: Costs;
}

/** What a caller may show its own way (the gallery's Re-run words a refusal for its products). */
export type HookOverrides = Partial<Pick<SubmissionHooks, 'refused' | 'moreProblems'>>;

export class Submissions {
  readonly submitter: Submitter;

  constructor(private readonly d: SubmissionsDeps) {
    this.submitter = new Submitter({
      registry: d.registry,
      log: d.log,
      engine: async (dir) => {
        const session = d.projects.get(dir);
        if (!session) throw new Error(`${path.basename(dir)} is no longer open as a project.`);
        return session.engine();
      },
      images: (dir) => d.images(dir),
      schema: (dir, provider, model) => d.registry.inputSchema(provider, model, undefined, createSchemaCache(dir, d.schemaCacheOptions)),
      hasKey: async (provider) => ((PROVIDERS_WITH_KEYS as readonly string[]).includes(provider) ? (await d.keys.get(provider)) !== undefined : undefined),
      confirmAbove: () => settings.confirmAbove(),
      pricing: d.costs?.pricing,
      budgets: d.costs ? (dir) => d.costs!.spending(dir).scopes() : undefined,
      confirmAboveCost: () => settings.confirmAboveCost(),
    });
  }

  /** What these jobs would cost, as a pick shows it ("≈ $0.24"); undefined when nothing can be
   * said. Never asks Civitai for a quote (a pick is not a submission). */
  async estimate(specs: JobSpec[]): Promise<string | undefined> {
    const e = await this.submitter.estimate(specs, { quotes: false }).catch(() => undefined);
    return e && (e.totals.length || e.unknown < specs.length) ? describeEstimate(e) : undefined;
  }

  /** Plan, ask, start and follow, shown the VS Code way. Resolves once the jobs are started. */
  submit(request: SubmissionRequest, overrides: HookOverrides = {}): Promise<SubmissionOutcome> {
    return this.submitter.submit(request, {
      moreProblems: overrides.moreProblems,
      // A missing key is said the one way, with Set API Key, whoever asked.
      refused: (plan) => (overrides.refused && !plan.problems.some((p) => p.kind === 'key') ? overrides.refused(plan) : this.refused(plan)),
      confirm: (plan) => confirm(plan),
      // The notification opens as the jobs are being stored, so it is there from the start.
      starting: (batch, plan) => this.follow(batch, plan),
      finished: (batch, jobs) => this.report(batch, jobs),
    });
  }

  /** Nothing was sent: say why once, with the button that fixes the first problem. */
  private async refused(plan: Plan): Promise<void> {
    const first = plan.problems[0];
    const key = plan.problems.find((p) => p.kind === 'key');
    if (key) {
      const b = await vscode.window.showErrorMessage(`Art Factory: ${key.message.replace(/[.\s]+$/, '')}. Nothing was sent.`, 'Set API Key');
      if (b) await runCommand('setApiKey', key.provider);
      return;
    }
    const n = plan.problems.length;
    const file = plan.request.parts.find((p) => p.source.kind === 'file');
    const b = await vscode.window.showErrorMessage(
      `Art Factory: ${plan.request.title} has ${n} problem${n === 1 ? '' : 's'}; the first: ${first.message}. Nothing was sent.`,
      ...(file ? ['Show Problems'] : ['Show Log']),
    );
    if (b === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
    if (b === 'Show Log') this.d.log.show();
  }

  /** Retry Failed: the failed jobs run again under their batch, with progress and a report as
   * a Generate has. */
  private async retry(batch: Batch, failed: JobRecord[]): Promise<void> {
    try {
      const again = await batch.retry(failed.map((j) => j.id));
      this.follow(again, { jobCount: again.size, providers: [...new Set(failed.map((j) => j.provider))] });
      void again.done.then((jobs) => this.report(again, jobs), () => undefined);
    } catch (e) {
      void vscode.window.showErrorMessage(`Art Factory: the failed jobs could not be run again: ${this.d.log.scrub(e instanceof Error ? e.message : String(e))}`, 'Show Log').then((b) => b && this.d.log.show());
    }
  }

  /** A cancellable notification for the batch, until every job has ended (the agent tools show
   * theirs with it too). */
  follow(batch: Batch, plan: Pick<Plan, 'jobCount' | 'providers'>): void {
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: ${batch.title}`, cancellable: true }, async (progress, token) => {
      let reported = 0;
      progress.report({ message: `submitting ${plan.jobCount} job${plan.jobCount === 1 ? '' : 's'} to ${plan.providers.map(providerDisplayName).join(', ')}…` });
      const sub = batch.onDidChange((j) => {
        const ended = batch.ended();
        progress.report({ increment: ((ended - reported) / Math.max(1, plan.jobCount)) * 100, message: `${batch.summary()}${j.error ? ` · ${this.d.log.scrub(j.error.message)}` : ''}` });
        reported = ended;
      });
      const cancel = token.onCancellationRequested(() => void batch.cancel().catch((e: unknown) => this.d.log.warn(`cancel batch ${batch.id}: ${e instanceof Error ? e.message : String(e)}`)));
      try {
        await batch.done.catch(() => undefined);
      } finally {
        sub.dispose();
        cancel.dispose();
      }
    });
  }

  private report(batch: Batch, jobs: JobRecord[]): void {
    const ok = jobs.filter((j) => j.state === 'succeeded');
    const failed = jobs.filter((j) => j.state === 'failed');
    const products = ok.reduce((n, j) => n + j.productIds.length, 0);
    const sessions = batch.projects.map((dir) => this.d.projects.get(dir)).filter((s) => s !== undefined);
    const session = sessions.length === 1 ? sessions[0] : undefined;
    const where = sessions.length ? ` in ${sessions.map((s) => s.name).join(', ')}` : '';
    if (failed.length === 0) {
      if (ok.length === 0) return; // all canceled: the user knows
      void vscode.window.showInformationMessage(`Art Factory: ${products} product${products === 1 ? '' : 's'}${where}.`, 'Open Gallery').then((b) => {
        if (b) void (session ? runCommand('openGallery', session) : runCommand('openGalleryAll'));
      });
      return;
    }
    const first = failed[0].error;
    const stopped = failed.find((j) => j.error?.kind === 'budget');
    // A failure that names one of our settings as the fix (Civitai's withheld mature images, the
    // job timeout) offers to open it.
    const setting = /"(artFactory\.[\w.]+)"/.exec(first?.message ?? '')?.[1];
    const buttons = first?.kind === 'auth' ? ['Set API Key', 'Show Log'] : stopped ? ['Raise Budget…', 'Open Spending'] : [...(setting ? ['Open Settings'] : []), 'Retry Failed', 'Show Log'];
    void vscode.window
      .showErrorMessage(`Art Factory: ${failed.length} of ${jobs.length} job${jobs.length === 1 ? '' : 's'} failed: ${this.d.log.scrub(first?.message ?? 'unknown error')}`, ...buttons)
      .then(async (b) => {
        if (b === 'Set API Key') await runCommand('setApiKey', failed[0].provider);
        if (b === 'Show Log') this.d.log.show();
        if (b === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', setting);
        if (b === 'Retry Failed') await this.retry(batch, failed);
        if (b === 'Raise Budget…') await runCommand('raiseBudget', session?.dir, stopped?.estimate?.currency);
        if (b === 'Open Spending') await runCommand('openSpending', session?.dir);
      });
  }
}

/** Ask before a large or costly plan starts: what it makes, where, what it will cost, and why
 * it asks (more jobs than confirmAbove, more than confirmAboveCost, an unknown price under a
 * budget, more than a budget has left). */
async function confirm(plan: Plan): Promise<boolean> {
  const on = plan.providers.map(providerDisplayName).join(', ');
  const cost = plan.estimate ? ` (${describeEstimate(plan.estimate)})` : '';
  const n = plan.jobCount;
  const go = await vscode.window.showWarningMessage(`This makes ${n} job${n === 1 ? '' : 's'} on ${on}${cost}. Start ${n === 1 ? 'it' : 'them all'}?`, { modal: true, detail: describeConfirm(plan.confirm).join('\n') }, `Start ${n} Job${n === 1 ? '' : 's'}`);
  return go !== undefined;
}
