// The generate tool: a parameter file of the project, or provider/model/prompt/inputs, turned
// into a submission request and sent down the one submission path (src/engine/submission.ts,
// origin 'tool'): the same checks, queue, budgets and progress as ▶ Generate. It waits for the
// results (bounded) and answers with project-relative paths the agent can put in code.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { imageFieldsOf, paramFileImageRefs } from '../engine/imageInputs.ts';
import { countJobs, expandJobs, LIMITS, parseParamFile, problemClause, type ParamFileEnvelope, type ParsedParamFile } from '../engine/paramFile.ts';
import type { Batch, Plan, SubmissionRequest } from '../engine/submission.ts';
import { providerDisplayName } from '../providers/errors.ts';
import { TERMINAL_STATES } from '../providers/types.ts';
import type { JobRecord } from '../storage/types.ts';
import type { GenerateInput } from './definitions.ts';
import { insideProject, resolveProject, ToolError, type AgentHost, type AgentProject } from './host.ts';
import { productSummary, type ProductSummary } from './library.ts';

type Args = z.infer<typeof GenerateInput>;

export const DEFAULT_WAIT_SECONDS = 300;

/** What a generation will do, before anything is spent (VS Code's confirmation shows it). */
export interface GeneratePreview {
  project: AgentProject;
  title: string;
  /** The parameter file run, project-relative (undefined: provider, model and inputs given). */
  file?: string;
  jobs: number;
  /** "Sample (sample/gradient)", one per model. */
  models: string[];
  providers: string[];
  /** Image inputs outside the project, as the call named them (the user sees them first). */
  outsideImages: string[];
  /** The estimated cost, once budgets give one (issue 11); undefined: not known. */
  estimate?: string;
}

interface Prepared {
  preview: GeneratePreview;
  request: SubmissionRequest;
}

/** The parameter file a call names: a *.art.json inside the project, read within the limits. */
async function readParamFile(project: AgentProject, file: string): Promise<{ abs: string; rel: string; parsed: ParsedParamFile }> {
  const abs = path.resolve(project.dir, file);
  const real = await fs.realpath(abs).catch(() => undefined);
  const rel = real ? insideProject(await fs.realpath(project.dir), real) : undefined;
  if (!real) throw new ToolError(`There is no parameter file "${file}" in the project "${project.name}". Paths are project-relative.`);
  if (!rel) throw new ToolError(`"${file}" is outside the project "${project.name}"; the tools run only parameter files inside it.`);
  if (!rel.endsWith('.art.json')) throw new ToolError(`"${file}" is not a parameter file (*.art.json).`);
  const st = await fs.stat(real);
  if (!st.isFile()) throw new ToolError(`"${file}" is not a file.`);
  if (st.size > LIMITS.maxBytes) throw new ToolError(`"${file}" is ${Math.round(st.size / 1024)} KB; parameter files are limited to ${LIMITS.maxBytes / 1024} KB.`);
  return { abs: real, rel, parsed: parseParamFile(await fs.readFile(real, 'utf8')) };
}

/** The envelope a call describes, checked as a parameter file holding it would be. */
function envelopeOf(host: AgentHost, args: Args): ParsedParamFile {
  if (!args.provider || !args.model) throw new ToolError('Give either "file" (a parameter file in the project) or "provider" and "model" (see artfactory_list_models).');
  const info = host.registry.models().find((m) => m.provider === args.provider && m.id === args.model);
  const input: Record<string, unknown> = { ...(args.input ?? {}) };
  if (args.prompt !== undefined) {
    const field = info?.promptField ?? 'prompt';
    if (field in input) throw new ToolError(`Give the prompt once: as "prompt" or as input.${field}, not both.`);
    input[field] = args.prompt;
  }
  const envelope: ParamFileEnvelope = { provider: args.provider, model: args.model, input, count: args.count, seeds: args.seeds, sweep: args.sweep };
  return parseParamFile(JSON.stringify(envelope, null, 2));
}

/** Problems of a parsed envelope, as one sentence, or undefined. */
function envelopeProblems(parsed: ParsedParamFile): string | undefined {
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0 && parsed.value) return undefined;
  return `Nothing was sent: ${errors.map((d) => problemClause(d, false)).join('; ') || 'the request is not valid'}.`;
}

/** Where an image path points (a file: URI that is not a usable path points nowhere inside). */
function pathOf(value: string, baseDir: string): string {
  try {
    return /^file:/i.test(value) ? fileURLToPath(value) : path.resolve(baseDir, value);
  } catch {
    return value;
  }
}

/** Turn the call into a submission request and what it will do; throws ToolError. */
export async function prepareGenerate(host: AgentHost, args: Args): Promise<Prepared> {
  const project = await resolveProject(host, args.project);
  if (args.file !== undefined && (args.provider || args.model || args.prompt !== undefined || args.input || args.count || args.seeds || args.sweep)) {
    throw new ToolError('Give either "file" or provider, model and inputs, not both (edit the parameter file to change it).');
  }
  let parsed: ParsedParamFile;
  let file: { abs: string; rel: string } | undefined;
  if (args.file !== undefined) {
    const read = await readParamFile(project, args.file);
    parsed = read.parsed;
    file = read;
  } else parsed = envelopeOf(host, args);
  const bad = envelopeProblems(parsed);
  if (bad) throw new ToolError(file ? bad.replace('Nothing was sent: ', `Nothing was sent: ${file.rel} has problems: `) : bad);
  const value = parsed.value!;
  const info = host.registry.models().find((m) => m.provider === value.provider && m.id === value.model);
  const title = file ? path.basename(file.rel) : (args.prompt ?? value.model).slice(0, 60);
  const baseDir = file ? path.dirname(file.abs) : project.dir;
  // The image fields the submission will read files for: the model's, and those its schema shows
  // (a custom model's), so every file from outside the project is listed before it is sent.
  const schema = await host.registry.inputSchema(value.provider, value.model).catch(() => undefined);
  const outsideImages = paramFileImageRefs(value, imageFieldsOf(info, schema))
    .filter((r) => r.kind === 'path' && !insideProject(project.dir, pathOf(r.value, baseDir)))
    .map((r) => r.value);
  const request: SubmissionRequest = {
    title,
    origin: 'tool',
    parts: [
      file
        ? { projectDir: project.dir, source: { kind: 'file', parsed, file: file.abs } }
        : { projectDir: project.dir, source: { kind: 'jobs', specs: expandJobs(value, info?.seedField) } },
    ],
  };
  const preview: GeneratePreview = {
    project,
    title,
    file: file?.rel,
    jobs: countJobs(value),
    models: [`${info?.title ?? value.model} (${value.model})`],
    providers: [providerDisplayName(value.provider)],
    outsideImages,
    // Budgets (issue 11) give the estimate here once the engine exposes it.
    estimate: undefined,
  };
  return { preview, request };
}

/** One sentence per distinct problem of a refused plan (a sweep repeats them per job). */
function refusedMessage(host: AgentHost, plan: Plan, file: string | undefined): string {
  const key = plan.problems.find((p) => p.kind === 'key');
  if (key?.provider) return `${key.message}: ${host.keyHint(key.provider)}. Nothing was sent.`;
  const messages = [...new Set(plan.problems.map((p) => p.message))];
  const shown = messages.slice(0, 10).join('; ');
  return `Nothing was sent: ${file ? `${file} has problems: ` : ''}${shown}${messages.length > 10 ? `; and ${messages.length - 10} more` : ''}.`;
}

export interface GenerateResult {
  project: string;
  projectDir: string;
  batch: string;
  jobs: number;
  /** The estimated cost, once budgets give one (issue 11). */
  estimate?: string;
  products: ProductSummary[];
  failed: { job: string; state: string; error?: string }[];
  /** Jobs still running when the wait ended: they go on, their products appear in searches. */
  running: { job: string; state: string; progress?: number }[];
  warnings?: string[];
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Called as jobs end: (ended, total, "1 of 4 done · 3 running"). */
  progress?(ended: number, total: number, message: string): void;
}

function waitFor(batch: Batch, seconds: number, signal: AbortSignal | undefined): Promise<'done' | 'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('aborted');
    const timer = setTimeout(() => finish('timeout'), seconds * 1000);
    const onAbort = () => finish('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (how: 'done' | 'timeout' | 'aborted') => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(how);
    };
    batch.done.then(
      () => finish('done'),
      () => finish('done'),
    );
  });
}

export async function runGenerate(host: AgentHost, args: Args, opts: CallOptions = {}): Promise<GenerateResult> {
  const refused = host.refusal();
  if (refused) throw new ToolError(refused);
  const { preview, request } = await prepareGenerate(host, args);
  const { project } = preview;
  const outcome = await host.submitter.submit(request, {
    refused: () => undefined,
    confirm: async (plan) => host.approve(plan),
    starting: (batch, plan) => host.starting?.(batch, plan),
    started: (batch) => {
      if (opts.progress) {
        const report = () => opts.progress!(batch.ended(), batch.size, batch.summary());
        const sub = batch.onDidChange(report);
        void batch.done.finally(() => sub.dispose()).catch(() => undefined);
      }
    },
  });
  if (outcome.status === 'refused') throw new ToolError(refusedMessage(host, outcome.plan, preview.file));
  if (outcome.status === 'declined') throw new ToolError(host.declined(outcome.plan));
  const { batch, plan } = outcome;
  const how = await waitFor(batch, args.waitSeconds ?? DEFAULT_WAIT_SECONDS, opts.signal);
  if (how === 'aborted') {
    // The agent's request was stopped: so is what it started.
    await batch.cancel().catch((e: unknown) => host.log.warn(`tool: cancel of batch ${batch.id}: ${e instanceof Error ? e.message : String(e)}`));
    throw new ToolError(`Canceled: the ${batch.size} job${batch.size === 1 ? '' : 's'} of this call were canceled.`);
  }
  const jobs: JobRecord[] = how === 'done' ? await batch.done.catch(() => batch.jobs()) : batch.jobs();
  const db = await project.db();
  const products: ProductSummary[] = [];
  for (const j of jobs) {
    for (const id of j.productIds) {
      const p = await db.getProduct(id);
      const summary = p && productSummary(p);
      if (summary) products.push(summary);
    }
  }
  return {
    project: project.name,
    projectDir: project.dir,
    batch: batch.id,
    jobs: jobs.length,
    estimate: preview.estimate,
    products,
    failed: jobs.filter((j) => j.state === 'failed' || j.state === 'canceled').map((j) => ({ job: j.id, state: j.state, error: j.error?.message })),
    running: jobs.filter((j) => !TERMINAL_STATES.includes(j.state)).map((j) => ({ job: j.id, state: j.state, progress: j.progress })),
    warnings: plan.warnings.length ? [...new Set(plan.warnings.map((w) => w.message))] : undefined,
  };
}
