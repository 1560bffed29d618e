// Generate… and ▶ Generate: what the user picks or wrote, handed to the one submission path
// (./submit.ts); and the model quick pick every flow that asks for a model uses.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { expandJobs, parseParamFile, type ParamFileEnvelope } from '../engine/paramFile.ts';
import type { SubmissionProblem } from '../engine/submission.ts';
import type { ModelInfo } from '../providers/types.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { runCommand } from './commands/register.ts';
import type { ParamFiles } from './paramFiles.ts';
import type { ProjectSession } from './projects.ts';
import { settings } from './settings.ts';
import type { Submissions } from './submit.ts';

const RECENT_KEY = 'artFactory.recentModels';

/** Turns a parameter file or the palette's questions into a submission. */
export class Generator {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly paramFiles: ParamFiles,
    private readonly memento: vscode.Memento,
    private readonly submissions: Submissions,
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
      await runCommand('addCustomModel');
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
    await this.submissions.submit({ title: prompt.trim().slice(0, 40), origin: 'palette', parts: [{ projectDir: project.dir, source: { kind: 'jobs', specs: expandJobs(envelope, model.seedField) } }] });
  }

  /** ▶ Generate: the file's checks (its problems go to Problems; nothing is sent while it has
   * one, ours or another checker's), then its jobs under one batch. */
  async generateFromFile(project: ProjectSession, uri: vscode.Uri): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    if (doc.isDirty) await doc.save();
    const parsed = parseParamFile(doc.getText());
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Art Factory: checking parameter file' }, () =>
      this.submissions.submit(
        { title: path.basename(uri.fsPath), origin: 'file', parts: [{ projectDir: project.dir, source: { kind: 'file', parsed, file: uri.fsPath } }] },
        {
          moreProblems: (plan) => {
            // What the plan found is what Problems lists for the file (the live check agrees).
            this.paramFiles.publish(doc, plan.parts[0]?.diagnostics ?? []);
            if (plan.problems.length > 0) return [];
            // Errors another checker lists for the file (the JSON language service) stop it too.
            return vscode.languages
              .getDiagnostics(uri)
              .filter((d) => d.severity === vscode.DiagnosticSeverity.Error && d.source !== 'Art Factory')
              .map((d): SubmissionProblem => ({ part: 0, kind: 'file', message: `${d.message.replace(/[.\s]+$/, '')} (line ${d.range.start.line + 1})` }));
          },
        },
      ),
    );
    const info = parsed.value && this.registry.models().find((m) => m.provider === parsed.value!.provider && m.id === parsed.value!.model);
    if (outcome.status === 'started' && info) await this.rememberModel(info);
  }
}
