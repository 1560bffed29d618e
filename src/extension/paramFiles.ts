import * as vscode from 'vscode';
import { countJobs, parseParamFile, problemClause, type Diagnostic as ParamDiagnostic, type ParsedParamFile } from '../engine/paramFile.ts';
import type { JsonSchema } from '../providers/types.ts';
import { COMMANDS } from './commands/ids.ts';
import { Disposable } from './disposable.ts';

const SELECTOR: vscode.DocumentSelector = [{ pattern: '**/*.art.json' }];

export function isParamFile(doc: vscode.TextDocument): boolean {
  return doc.uri.path.endsWith('.art.json');
}

function toVsDiagnostic(d: ParamDiagnostic): vscode.Diagnostic {
  const range = new vscode.Range(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character);
  const diag = new vscode.Diagnostic(range, d.message, d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error);
  diag.source = 'Art Factory';
  return diag;
}

export interface CheckedParamFile {
  parsed: ParsedParamFile;
  problems: ParamDiagnostic[];
}

/** Parameter files: live problems in the Problems panel and the "▶ Generate" CodeLens.
 * Live checks use only the schema cached in the project (no network while typing); the
 * check before a generation may fetch the model's schema.
 *
 * One owner per problem, so none is listed twice: JSON syntax errors are the JSON language
 * service's (VS Code's own wording, as in every JSON file, and as you type); everything else
 * (the envelope, the model's fields, sweeps, limits) is ours. The `$schema` files we write give
 * completion only (engine/schemas.ts). With `json.validate.enable` off we report syntax too.
 * The CodeLens counts what Problems lists as errors for the file, whoever reported them. */
export class ParamFiles extends Disposable implements vscode.CodeLensProvider {
  readonly diagnostics = this.register(vscode.languages.createDiagnosticCollection('artFactory'));
  private readonly lensChanged = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.lensChanged.event;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The CodeLens's estimate per file version ("≈ $0.30"), made in the background. */
  private readonly estimates = new Map<string, { version: number; text?: string }>();
  private estimator?: (value: NonNullable<ParsedParamFile['value']>) => Promise<string | undefined>;

  /** What a file's jobs will cost, for the CodeLens (issue 11). Never asks a provider for a quote. */
  setEstimator(estimate: (value: NonNullable<ParsedParamFile['value']>) => Promise<string | undefined>): void {
    this.estimator = estimate;
    this.lensChanged.fire();
  }

  /** The estimate of this version of the file, or undefined while it is being made. */
  private estimateOf(doc: vscode.TextDocument, value: NonNullable<ParsedParamFile['value']>): string | undefined {
    if (!this.estimator) return undefined;
    const key = doc.uri.toString();
    const known = this.estimates.get(key);
    if (known?.version === doc.version) return known.text;
    const entry: { version: number; text?: string } = { version: doc.version };
    this.estimates.set(key, entry);
    void this.estimator(value)
      .then((text) => {
        entry.text = text;
        if (this.estimates.get(key) === entry) this.lensChanged.fire();
      })
      .catch(() => undefined);
    return known?.text;
  }

  constructor(
    private readonly schemaFor: (doc: vscode.TextDocument, provider: string, model: string, allowFetch: boolean) => Promise<JsonSchema | undefined>,
    /** All of a parsed file's problems against its schema, image inputs included (the check a
     * submission makes, engine/submission.ts `checkParamFile`). */
    private readonly checkFile: (doc: vscode.TextDocument, parsed: ParsedParamFile, schema: JsonSchema | undefined) => Promise<ParamDiagnostic[]>,
    /** Makes the model's schema file a `$schema` names when the project has none yet. */
    private readonly ensureSchema?: (file: string, text: string) => Promise<void>,
  ) {
    super();
    this.register(vscode.languages.registerCodeLensProvider(SELECTOR, this));
    // The JSON language service's syntax errors come and go on their own: the count follows.
    this.register(vscode.languages.onDidChangeDiagnostics((e) => e.uris.some((u) => u.path.endsWith('.art.json')) && this.lensChanged.fire()));
    this.register(vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d)));
    this.register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document)));
    this.register(
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.diagnostics.delete(d.uri);
        this.estimates.delete(d.uri.toString());
      }),
    );
    this.register({ dispose: () => this.timers.forEach((t) => clearTimeout(t)) });
    // An image that appears, changes or goes may fix or break an image field of an open file.
    const images = this.register(vscode.workspace.createFileSystemWatcher('**/*.{png,jpg,jpeg,webp,gif,avif,PNG,JPG,JPEG,WEBP,GIF,AVIF}'));
    const recheck = () => vscode.workspace.textDocuments.forEach((d) => this.schedule(d));
    this.register(images.onDidCreate(recheck));
    this.register(images.onDidChange(recheck));
    this.register(images.onDidDelete(recheck));
    for (const d of vscode.workspace.textDocuments) this.schedule(d);
  }

  private schedule(doc: vscode.TextDocument): void {
    if (!isParamFile(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.check(doc, false).catch(() => undefined);
      }, 300),
    );
  }

  /** Parse and validate; publishes the problems (syntax aside, see above) and returns all. */
  async check(doc: vscode.TextDocument, allowFetch: boolean): Promise<CheckedParamFile> {
    const parsed = parseParamFile(doc.getText());
    if (this.ensureSchema && !this.ensured.has(doc.uri.toString())) {
      // In the background: it may ask the provider, and the check must not wait for that.
      this.ensured.add(doc.uri.toString());
      void this.ensureSchema(doc.uri.fsPath, doc.getText()).catch(() => undefined);
    }
    const valid = parsed.value && !parsed.diagnostics.some((p) => p.severity === 'error');
    const schema = valid && parsed.value ? await this.schemaFor(doc, parsed.value.provider, parsed.value.model, allowFetch) : undefined;
    const problems = await this.checkFile(doc, parsed, schema);
    this.publish(doc, problems);
    return { parsed, problems };
  }

  /** List a file's problems in Problems (syntax aside, see above); the CodeLens follows. */
  publish(doc: vscode.TextDocument, problems: ParamDiagnostic[]): void {
    const jsonReportsSyntax = vscode.workspace.getConfiguration('json', doc.uri).get<boolean>('validate.enable', true);
    this.diagnostics.set(doc.uri, problems.filter((p) => !(p.syntax && jsonReportsSyntax)).map(toVsDiagnostic));
    this.lensChanged.fire();
  }
  private readonly ensured = new Set<string>();

  /** The file's errors as Problems lists them (ours and the JSON language service's), and at
   * least as many as our own checks found: what the CodeLens counts and stops a Generate. */
  errorsShown(uri: vscode.Uri, ours: ParamDiagnostic[]): { count: number; first?: string } {
    const shown = vscode.languages.getDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
    const own = ours.filter((p) => p.severity === 'error');
    const first = own[0] ? problemClause(own[0]) : shown[0] ? `${shown[0].message.replace(/[.\s]+$/, '')} (line ${shown[0].range.start.line + 1})` : undefined;
    return { count: Math.max(shown.length, own.length), first };
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const parsed = parseParamFile(doc.getText());
    const { count: n } = this.errorsShown(doc.uri, parsed.diagnostics);
    if (!parsed.value || n > 0) {
      return [new vscode.CodeLens(top, { title: `$(warning) ${n} problem${n === 1 ? '' : 's'} to fix before generating`, command: 'workbench.actions.view.problems' })];
    }
    const jobs = countJobs(parsed.value);
    const cost = this.estimateOf(doc, parsed.value);
    return [
      new vscode.CodeLens(top, { title: `▶ Generate (${jobs} job${jobs === 1 ? '' : 's'}${cost ? ` · ${cost}` : ''})`, command: COMMANDS.generateFromFile, arguments: [doc.uri], tooltip: 'Run this parameter file (Ctrl+Alt+G)' }),
      new vscode.CodeLens(top, { title: 'Save as Template', command: COMMANDS.saveAsTemplate, arguments: [doc.uri] }),
    ];
  }
}
