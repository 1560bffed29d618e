// Submitting work: the one path every generation takes, whoever asks (▶ Generate, Generate…,
// the gallery's Re-run, the command line, and agent tools next):
//
//   plan     expand the request into jobs and check them as a parameter file is checked: the
//            envelope, the provider, its key, the input against the model's schema, and every
//            image input (a file or product that is missing, not an image or too large);
//   confirm  ask first when the plan is large (more jobs than `confirmAbove`), costs more than
//            `confirmAboveCost`, has jobs of unknown cost under a budget, or is more than a
//            budget has left (issue 11: the estimate is made here);
//   submit   one batch id for all its jobs, stored durably and started by each project's engine;
//   follow   progress as the jobs change, cancel, and a report when every job has ended.
//
// What is shown, and how, is the caller's (SubmissionHooks): the extension shows a modal, a
// progress notification and a toast; the command line prints. Nothing else calls
// `Engine.submit` (test/engine/submission.test.ts holds every caller to that).
import * as path from 'node:path';
import { jobsSummary } from '../providers/jobStatus.ts';
import { providerDisplayName } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { TERMINAL_STATES, type JsonSchema, type Logger } from '../providers/types.ts';
import type { Cost } from '../providers/types.ts';
import type { JobRecord } from '../storage/types.ts';
import { budgetStatus, describeBudget, type BudgetScope } from './cost/budgets.ts';
import { formatCost, providerCurrency, type Estimate, type Pricing } from './cost/pricing.ts';
import type { Engine } from './engine.ts';
import { ImageInputError, imageFieldsOf, imageRefsOf, type ImageSource } from './imageInputs.ts';
import { checkSpec, diagnosticAt, expandJobs, problemClause, validateInput, type Diagnostic, type JobSpec, type ParsedParamFile } from './paramFile.ts';

/** Who asked: for the log now, and for what budgets allow each (a tool may not ask the user). */
export type SubmissionOrigin = 'file' | 'palette' | 'rerun' | 'cli' | 'tool';

export type SubmissionSource =
  /** A parameter file (▶ Generate, the CLI): checked with each problem at its place in `file`. */
  | { kind: 'file'; parsed: ParsedParamFile; file: string }
  /** Jobs made elsewhere (Generate…, Re-run, a tool), checked as the same file would be. */
  | { kind: 'jobs'; specs: JobSpec[] };

/** Jobs for one project. */
export interface SubmissionPart {
  projectDir: string;
  /** The project-relative parameter file the jobs come from: relative image paths resolve
   * against its folder (a Re-run gives the product's). A file source sets it from its path. */
  sourceFile?: string;
  source: SubmissionSource;
}

export interface SubmissionRequest {
  /** What the user calls it: the file's name, "Re-run of 3 products", the prompt. */
  title: string;
  origin: SubmissionOrigin;
  parts: SubmissionPart[];
}

export interface PlannedPart {
  projectDir: string;
  sourceFile?: string;
  specs: JobSpec[];
  /** A file source's problems and warnings at their places (the editor lists them); empty for jobs. */
  diagnostics: Diagnostic[];
  /** Each job's estimate (null: unknown), once the plan has no problems and prices are known. */
  estimates?: (Cost | null)[];
}

export interface SubmissionProblem {
  /** Index of the part in the request. */
  part: number;
  /** Index of the job in the part's specs, when the problem is that job's (jobs sources). */
  job?: number;
  kind: 'file' | 'provider' | 'key' | 'input' | 'image' | 'schema' | 'budget';
  provider?: string;
  /** One clause, without a full stop, for a sentence: `"width" must be <= 1536 (line 6)`. */
  message: string;
  /** Where it is in the parameter file (file sources). */
  diagnostic?: Diagnostic;
}

/** Why a plan asks before it starts. */
export type ConfirmReason =
  | { kind: 'jobs'; jobs: number; limit: number }
  /** The estimate passes `artFactory.generate.confirmAboveCost`. */
  | { kind: 'cost'; total: Cost; limit: number }
  /** Jobs whose cost is unknown while a budget of their currency applies. */
  | { kind: 'unpriced'; jobs: number; budgets: string[]; reasons: string[] }
  /** The estimate is more than a budget has left: the jobs past it will not be sent. */
  | { kind: 'over-budget'; budget: string; left: Cost; total: Cost };

export interface Plan {
  request: SubmissionRequest;
  parts: PlannedPart[];
  jobCount: number;
  /** Provider ids, in order of first use. */
  providers: string[];
  /** Errors: nothing is sent while there is one. */
  problems: SubmissionProblem[];
  /** Sent anyway, said once (a model schema that could not be read or used). */
  warnings: SubmissionProblem[];
  /** Empty: it starts without asking. */
  confirm: ConfirmReason[];
  /** What the jobs are expected to cost (issue 11), when the plan has no problems. */
  estimate?: Estimate;
}

/** What the caller shows. Every hook may be asynchronous; a hook that throws is logged. */
export interface SubmissionHooks {
  /** Problems the caller knows of besides the plan's (the editor: what Problems lists for the
   * file). Called for every plan, so the caller can also show the plan's own. */
  moreProblems?(plan: Plan): SubmissionProblem[] | Promise<SubmissionProblem[]>;
  /** The plan has problems: nothing was sent. Say so. */
  refused(plan: Plan): void | Promise<void>;
  /** The plan asks first (`plan.confirm` says why): true starts it. */
  confirm(plan: Plan): Promise<boolean>;
  /** The plan passed (and was confirmed) and its jobs are being stored: a caller may show
   * progress from now (`batch.size` is 0 until they are; `batch.done` rejects if storing fails). */
  starting?(batch: Batch, plan: Plan): void;
  /** The jobs are stored and started: follow the batch (progress, cancel). */
  started?(batch: Batch): void;
  /** Every job has ended; `batch.done` resolves after this. */
  finished?(batch: Batch, jobs: JobRecord[]): void | Promise<void>;
}

export type SubmissionOutcome =
  | { status: 'refused'; plan: Plan }
  | { status: 'declined'; plan: Plan }
  | { status: 'started'; plan: Plan; batch: Batch };

export interface SubmitterDeps {
  registry: ProviderRegistry;
  log: Logger;
  /** The engine of a project (opened only once a plan passes its checks). */
  engine(projectDir: string): Promise<Engine>;
  /** Reads and checks image inputs of a project (opens its database only for `product:`). */
  images(projectDir: string): ImageSource;
  /** The model's input schema, fetched when the project's cache has none; a rejection is a warning. */
  schema(projectDir: string, provider: string, model: string): Promise<JsonSchema | undefined>;
  /** Whether the provider has a key; undefined when it is not one whose key we keep (a provider
   * another extension registered manages its own). */
  hasKey?(provider: string): Promise<boolean | undefined>;
  /** Ask first above this many jobs (a VS Code setting; the command line never asks). */
  confirmAbove(): number;
  /** Prices, for the plan's estimate and each job's reservation. None: no estimate. */
  pricing?: Pricing;
  /** The budgets that apply to a project's jobs: its own, then the user's. */
  budgets?(projectDir: string): Promise<BudgetScope[]>;
  /** Ask first when the estimate passes this amount in USD; undefined or 0: never for cost. */
  confirmAboveCost?(): number | undefined;
  /** Jobs whose cost is unknown under a budget of their currency: ask (VS Code), refuse (the
   * command line unless `--allow-unpriced`; tools, which cannot ask), or allow. Default: by
   * origin, 'refuse' for 'cli' and 'tool', else 'ask'. */
  unpriced?(origin: SubmissionOrigin): 'ask' | 'refuse' | 'allow';
}

/** A batch id: jobs submitted together (a contact sheet lays one out). */
export function newBatchId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Plans, checks, confirms and submits (see the top of this file). */
export class Submitter {
  constructor(private readonly d: SubmitterDeps) {}

  /** What jobs would cost, before anything is checked or sent (a tool's preview, a pick);
   * undefined where there are no prices. `quotes: false`: never ask a provider for a quote. */
  async estimate(specs: JobSpec[], o: { quotes?: boolean } = {}): Promise<Estimate | undefined> {
    return this.d.pricing?.estimateJobs(specs, undefined, o);
  }

  /** Expand and check a request. Opens no engine and sends nothing. */
  async plan(request: SubmissionRequest): Promise<Plan> {
    const plan: Plan = { request, parts: [], jobCount: 0, providers: [], problems: [], warnings: [], confirm: [] };
    const checks = new PlanChecks(this.d);
    for (const [i, part] of request.parts.entries()) {
      const planned: PlannedPart = { projectDir: part.projectDir, sourceFile: part.sourceFile, specs: [], diagnostics: [] };
      plan.parts.push(planned);
      if (part.source.kind === 'file') await this.planFile(plan, i, planned, part.source, checks);
      else await this.planJobs(plan, i, planned, part.source.specs, checks);
      for (const s of planned.specs) if (!plan.providers.includes(s.provider)) plan.providers.push(s.provider);
      plan.jobCount += planned.specs.length;
    }
    const limit = this.d.confirmAbove();
    if (plan.jobCount > limit) plan.confirm.push({ kind: 'jobs', jobs: plan.jobCount, limit });
    if (plan.problems.length === 0 && plan.jobCount > 0) await planCost(plan, this.d);
    return plan;
  }

  /** A parameter file: the checks the editor runs as you type, with the schema fetched if need be. */
  private async planFile(plan: Plan, i: number, planned: PlannedPart, source: Extract<SubmissionSource, { kind: 'file' }>, checks: PlanChecks): Promise<void> {
    const { parsed, file } = source;
    planned.sourceFile = path.relative(planned.projectDir, file).split(path.sep).join('/');
    const add = (p: SubmissionProblem): void => {
      if (p.diagnostic) planned.diagnostics.push(p.diagnostic);
      (p.diagnostic?.severity === 'warning' ? plan.warnings : plan.problems).push(p);
    };
    const fromFile = (d: Diagnostic): SubmissionProblem => ({ part: i, kind: 'file', provider: parsed.value?.provider, message: problemClause(d), diagnostic: d });
    const value = parsed.value;
    if (!value || parsed.diagnostics.some((d) => d.severity === 'error')) return parsed.diagnostics.forEach((d) => add(fromFile(d)));
    const bad = await checks.provider(i, value.provider, parsed);
    if (bad) {
      parsed.diagnostics.forEach((d) => add(fromFile(d)));
      return add(bad);
    }
    const { schema, warning } = await checks.schema(i, planned.projectDir, value.provider, value.model, parsed);
    if (warning) add(warning);
    const fields = imageFieldsOf(this.modelInfo(value.provider, value.model), schema);
    for (const d of await checkParamFile(parsed, { schema, fields, images: this.d.images(planned.projectDir), dir: path.dirname(file) })) add(fromFile(d));
    if (!plan.problems.some((p) => p.part === i)) planned.specs = expandJobs(value, this.modelInfo(value.provider, value.model)?.seedField);
  }

  /** Jobs made elsewhere: each checked as the parameter file holding it would be. */
  private async planJobs(plan: Plan, i: number, planned: PlannedPart, specs: JobSpec[], checks: PlanChecks): Promise<void> {
    planned.specs = specs;
    const images = this.d.images(planned.projectDir);
    const baseDir = planned.sourceFile ? path.resolve(planned.projectDir, path.dirname(planned.sourceFile)) : planned.projectDir;
    const said = new Set<string>();
    for (const [j, spec] of specs.entries()) {
      const bad = await checks.provider(i, spec.provider);
      if (bad) {
        // Said once per provider, not once per job.
        if (!said.has(spec.provider)) plan.problems.push({ ...bad, job: j });
        said.add(spec.provider);
        continue;
      }
      const { schema, warning } = await checks.schema(i, planned.projectDir, spec.provider, spec.model);
      if (warning) plan.warnings.push({ ...warning, job: j });
      for (const d of checkSpec(spec, schema)) plan.problems.push({ part: i, job: j, kind: 'input', provider: spec.provider, message: problemClause(d, false) });
      for (const ref of imageRefsOf(spec.input, imageFieldsOf(this.modelInfo(spec.provider, spec.model), schema))) {
        if (ref.kind !== 'path' && ref.kind !== 'product') continue;
        try {
          await images.check(ref, baseDir);
        } catch (e) {
          if (!(e instanceof ImageInputError)) throw e;
          plan.problems.push({ part: i, job: j, kind: 'image', provider: spec.provider, message: `"${ref.field}": ${e.message.replace(/[.\s]+$/, '')}` });
        }
      }
    }
  }

  private modelInfo(provider: string, model: string) {
    return this.d.registry.models().find((m) => m.provider === provider && m.id === model);
  }

  /** Plan, then refuse, ask or start, as the hooks show it. Resolves once the jobs are started
   * (or not); `batch.done` resolves when every job has ended and `finished` has run. */
  async submit(request: SubmissionRequest, hooks: SubmissionHooks): Promise<SubmissionOutcome> {
    const plan = await this.plan(request);
    if (hooks.moreProblems) plan.problems.push(...(await hooks.moreProblems(plan)));
    const name = `${request.origin} "${request.title}"`;
    if (plan.problems.length > 0) {
      this.d.log.info(`${name}: not sent, ${plan.problems.length} problem${plan.problems.length === 1 ? '' : 's'}; the first: ${plan.problems[0].message}`);
      await this.hook('refused', () => hooks.refused(plan));
      return { status: 'refused', plan };
    }
    if (plan.confirm.length > 0 && !(await hooks.confirm(plan))) {
      this.d.log.info(`${name}: ${plan.jobCount} jobs not started (declined)`);
      return { status: 'declined', plan };
    }
    const batch = await this.start(plan, hooks);
    this.d.log.info(`${name}: batch ${batch.id}, ${plan.jobCount} job${plan.jobCount === 1 ? '' : 's'} on ${plan.providers.map(providerDisplayName).join(', ')}`);
    return { status: 'started', plan, batch };
  }

  /** Store and start a checked plan's jobs under one batch id. */
  private async start(plan: Plan, hooks: SubmissionHooks): Promise<Batch> {
    const batch = new Batch(newBatchId(), plan.request.title);
    const engines: Engine[] = [];
    await this.hook('starting', () => hooks.starting?.(batch, plan));
    try {
      for (const part of plan.parts) {
        if (part.specs.length === 0) continue;
        const engine = await this.d.engine(part.projectDir);
        // Followed before anything is stored, so no state change is missed.
        if (!engines.includes(engine)) batch.follow(engine);
        engines.push(engine);
        if (!batch.projects.includes(part.projectDir)) batch.projects.push(part.projectDir);
        batch.add(engine, await engine.submit(part.specs, { batchId: batch.id, sourceFile: part.sourceFile, estimates: part.estimates }));
      }
    } catch (e) {
      // What was started runs on (it is in the Jobs view); say what could not be.
      batch.fail(e);
      throw e;
    }
    await this.hook('started', () => hooks.started?.(batch));
    batch.settle(async (jobs) => this.hook('finished', () => hooks.finished?.(batch, jobs)));
    return batch;
  }

  private async hook(name: string, run: () => unknown): Promise<void> {
    try {
      await run();
    } catch (e) {
      this.d.log.warn(`submission ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** The estimate, and what it asks: above the cost setting, unknown prices under a budget, more
 * than a budget has left. The engine still reserves each job before it is sent: this only
 * tells the user first. */
export async function planCost(plan: Plan, d: Pick<SubmitterDeps, 'pricing' | 'budgets' | 'confirmAboveCost' | 'unpriced'>): Promise<void> {
  if (!d.pricing) return;
  const all: JobSpec[] = plan.parts.flatMap((p) => p.specs);
  plan.estimate = await d.pricing.estimateJobs(all);
  let at = 0;
  for (const part of plan.parts) {
    part.estimates = plan.estimate.jobs.slice(at, at + part.specs.length).map((j) => ('cost' in j ? j.cost : null));
    at += part.specs.length;
  }
  const usd = plan.estimate.totals.find((t) => t.currency === 'USD');
  const above = d.confirmAboveCost?.();
  if (usd && above && usd.amount > above) plan.confirm.push({ kind: 'cost', total: usd, limit: above });
  if (!d.budgets) return;
  const unpriced = { jobs: 0, budgets: new Set<string>(), reasons: new Set<string>() };
  const totals = new Map<string, { scopes: BudgetScope[]; total: Map<string, number> }>();
  let first = 0;
  for (const part of plan.parts) {
    const scopes = await d.budgets(part.projectDir);
    await Promise.all(scopes.map((s) => s.ledger.refresh()));
    const t = totals.get(part.projectDir) ?? { scopes, total: new Map<string, number>() };
    totals.set(part.projectDir, t);
    part.specs.forEach((spec, j) => {
      const est = part.estimates?.[j];
      const currency = est?.currency ?? providerCurrency(spec.provider);
      const under = scopes.flatMap((s) => s.budgets.filter((b) => currency === undefined || b.currency === currency).map((b) => describeBudget(b, s.kind)));
      if (est) t.total.set(est.currency, (t.total.get(est.currency) ?? 0) + est.amount);
      else if (under.length) {
        unpriced.jobs++;
        under.forEach((u) => unpriced.budgets.add(u));
        const e = plan.estimate!.jobs[first + j];
        if ('unknown' in e) unpriced.reasons.add(e.unknown);
      }
    });
    first += part.specs.length;
  }
  if (unpriced.jobs) {
    const how = d.unpriced?.(plan.request.origin) ?? (plan.request.origin === 'cli' || plan.request.origin === 'tool' ? 'refuse' : 'ask');
    const reason = { kind: 'unpriced' as const, jobs: unpriced.jobs, budgets: [...unpriced.budgets], reasons: [...unpriced.reasons] };
    if (how === 'ask') plan.confirm.push(reason);
    else if (how === 'refuse') {
      const what = `${unpriced.jobs} job${unpriced.jobs === 1 ? "'s" : "s'"} cost cannot be estimated (${reason.reasons[0] ?? 'no price'}) while ${reason.budgets[0]} applies`;
      plan.problems.push({ part: 0, kind: 'budget', message: plan.request.origin === 'cli' ? `${what}; run with --allow-unpriced to send it anyway` : what });
    }
  }
  for (const { scopes, total } of totals.values()) {
    for (const st of budgetStatus(scopes)) {
      const want = total.get(st.budget.currency);
      if (want !== undefined && want > st.left + 1e-9) {
        plan.confirm.push({ kind: 'over-budget', budget: describeBudget(st.budget, st.scope), left: { amount: st.left, currency: st.budget.currency, estimated: false }, total: { amount: want, currency: st.budget.currency, estimated: true } });
      }
    }
  }
}


/** A confirmation's reasons as sentences for a modal's detail. */
export function describeConfirm(reasons: ConfirmReason[]): string[] {
  return reasons.map((c) => {
    switch (c.kind) {
      case 'jobs':
        return `It makes ${c.jobs} jobs (the limit for asking is the setting artFactory.generate.confirmAbove, ${c.limit}).`;
      case 'cost':
        return `It is estimated at ${formatCost(c.total, { approx: true })}, above the setting artFactory.generate.confirmAboveCost (${formatCost({ amount: c.limit, currency: 'USD' })}).`;
      case 'unpriced':
        return `The cost of ${c.jobs} job${c.jobs === 1 ? '' : 's'} cannot be estimated (${c.reasons[0] ?? 'no price'}) while ${c.budgets[0]} applies: ${c.jobs === 1 ? 'it counts' : 'they count'} against it only if ${c.jobs === 1 ? 'its' : 'their'} cost is known when ${c.jobs === 1 ? 'it ends' : 'they end'}.`;
      case 'over-budget':
        return `The estimate (${formatCost(c.total, { approx: true })}) is more than ${c.budget} has left (${formatCost(c.left)}): jobs past it will not be sent.`;
    }
  });
}

/** What one plan asks once: each provider's key, each model's schema. */
class PlanChecks {
  private readonly keys = new Map<string, Promise<boolean | undefined>>();
  private readonly schemas = new Map<string, Promise<{ schema?: JsonSchema; error?: string }>>();

  constructor(private readonly d: SubmitterDeps) {}

  /** The provider's problem, if any: unknown here, or its key missing. */
  async provider(part: number, provider: string, at?: ParsedParamFile): Promise<SubmissionProblem | undefined> {
    const p = this.d.registry.get(provider);
    if (!p) {
      const message = `Unknown provider "${provider}". Use one of: ${this.d.registry.list().map((x) => x.id).join(', ')}`;
      return { part, kind: 'provider', provider, message, diagnostic: at && diagnosticAt(at, ['provider'], `${message}.`) };
    }
    if (!p.needsKey || !this.d.hasKey) return undefined;
    let has = this.keys.get(provider);
    if (!has) this.keys.set(provider, (has = this.d.hasKey(provider)));
    return (await has) === false ? { part, kind: 'key', provider, message: `${p.displayName} needs an API key` } : undefined;
  }

  /** The model's schema; when it cannot be read, a warning (the input goes unchecked, as the
   * provider will check it). */
  async schema(part: number, projectDir: string, provider: string, model: string, at?: ParsedParamFile): Promise<{ schema?: JsonSchema; warning?: SubmissionProblem }> {
    const k = `${projectDir}\0${provider}\0${model}`;
    let got = this.schemas.get(k);
    if (!got) {
      got = this.d.schema(projectDir, provider, model).then(
        (schema) => ({ schema }),
        (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }),
      );
      this.schemas.set(k, got);
    }
    const { schema, error } = await got;
    if (error === undefined) return { schema };
    const message = `The schema of ${model} could not be read (${error.replace(/[.\s]+$/, '')}), so its input is not checked before sending`;
    this.d.log.warn(message);
    return { warning: { part, kind: 'schema', provider, message, diagnostic: at && diagnosticAt(at, ['model'], `${message}.`, 'warning') } };
  }
}

/** The checks of a parameter file once it parses: its own diagnostics, the input against the
 * model's schema (when there is one), and every image input at its field. The editor runs them
 * as you type (with the cached schema), a submission before sending. */
export async function checkParamFile(parsed: ParsedParamFile, o: { schema: JsonSchema | undefined; fields: string[]; images: ImageSource | undefined; dir: string }): Promise<Diagnostic[]> {
  let problems = [...parsed.diagnostics];
  if (!parsed.value || problems.some((p) => p.severity === 'error')) return problems;
  if (o.schema) problems = problems.concat(validateInput(parsed, o.schema));
  if (o.images) problems = problems.concat(await o.images.problems(parsed, o.fields, o.dir));
  return problems;
}

type Listener = (job: JobRecord) => void;

/** The jobs of one submission, across the projects' engines: their latest states, progress,
 * cancel, and `done` once every one has ended. */
export class Batch {
  private readonly latest = new Map<string, JobRecord>();
  private readonly owners = new Map<string, Engine>();
  private readonly listeners = new Set<Listener>();
  private readonly subscriptions: { dispose(): void }[] = [];
  /** The projects its jobs run in, in order. */
  readonly projects: string[] = [];
  private resolveDone!: (jobs: JobRecord[]) => void;
  private rejectDone!: (e: unknown) => void;
  /** Every job of the batch, once each has ended (and the `finished` hook has run). */
  readonly done: Promise<JobRecord[]> = new Promise((resolve, reject) => {
    this.resolveDone = resolve;
    this.rejectDone = reject;
  });

  constructor(
    readonly id: string,
    readonly title: string,
  ) {
    // Whoever waits on `done` sees a failure; nobody waiting is not an unhandled rejection.
    this.done.catch(() => undefined);
  }

  /** @internal Listen to an engine's job events for this batch's jobs. */
  follow(engine: Engine): void {
    this.subscriptions.push(
      engine.on('job', (j) => {
        if (j.batchId !== this.id) return;
        this.latest.set(j.id, j);
        this.owners.set(j.id, engine);
        for (const l of this.listeners) l(j);
      }),
    );
  }

  /** @internal The records `Engine.submit` returned (their events may have come first). */
  add(engine: Engine, jobs: JobRecord[]): void {
    for (const j of jobs) {
      if (!this.latest.has(j.id)) this.latest.set(j.id, j);
      this.owners.set(j.id, engine);
    }
  }

  /** @internal Resolve `done` when every job has ended, after `finished`. */
  settle(finished: (jobs: JobRecord[]) => Promise<void>): void {
    const byEngine = new Map<Engine, string[]>();
    for (const [id, engine] of this.owners) byEngine.set(engine, [...(byEngine.get(engine) ?? []), id]);
    void Promise.all([...byEngine].map(([engine, ids]) => engine.waitFor(ids)))
      .then(async (lists) => {
        for (const j of lists.flat()) this.latest.set(j.id, j);
        const jobs = this.jobs();
        this.close();
        await finished(jobs);
        this.resolveDone(jobs);
      })
      .catch((e: unknown) => {
        this.close();
        this.rejectDone(e);
      });
  }

  /** @internal Storing failed: stop following, and `done` rejects with why. */
  fail(e: unknown): void {
    this.close();
    this.rejectDone(e);
  }

  /** @internal */
  close(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }

  /** The jobs, in the order they were submitted, as last reported. */
  jobs(): JobRecord[] {
    return [...this.latest.values()];
  }

  get size(): number {
    return this.latest.size;
  }

  /** How many have ended (succeeded, failed or canceled). */
  ended(): number {
    return this.jobs().filter((j) => TERMINAL_STATES.includes(j.state)).length;
  }

  /** "1 of 4 done · 2 running · 1 queued". */
  summary(): string {
    return jobsSummary(this.jobs());
  }

  /** Called with each job of the batch that changed. */
  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Run ended jobs of the batch again (Retry Failed). They keep their batch id; the Batch
   * returned follows just them, so progress and the finished report work as for a submission
   * (this one's `done` has already resolved). */
  async retry(jobIds: string[]): Promise<Batch> {
    const again = new Batch(this.id, this.title);
    again.projects.push(...this.projects);
    const followed = new Set<Engine>();
    try {
      for (const id of jobIds) {
        const engine = this.owners.get(id);
        if (!engine) continue;
        // Followed before the job is reset, so no state change is missed.
        if (!followed.has(engine)) again.follow(engine);
        followed.add(engine);
        again.add(engine, [await engine.retry(id)]);
      }
    } catch (e) {
      again.fail(e);
      throw e;
    }
    again.settle(async () => undefined);
    return again;
  }

  /** Cancel every job that has not ended, here and at its provider. */
  async cancel(): Promise<void> {
    await Promise.all(
      this.jobs()
        .filter((j) => !TERMINAL_STATES.includes(j.state))
        .map((j) => this.owners.get(j.id)?.cancel(j.id)),
    );
  }
}
