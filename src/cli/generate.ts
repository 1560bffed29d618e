// `art-factory generate FILE --project DIR`: a parameter file run through the same submission
// path as ▶ Generate (src/engine/submission.ts): the same checks, each problem printed at its
// line and column, one batch, and the products printed once every job has ended.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseParamFile, type Diagnostic } from '../engine/paramFile.ts';
import type { Plan } from '../engine/submission.ts';
import { ENV_KEY_NAMES } from '../providers/index.ts';
import type { Logger } from '../providers/types.ts';
import { openCliSession } from './session.ts';

export interface GenerateIo {
  /** A line for stderr (scrubbed of keys by the caller). */
  err(line: string): void;
  out(text: string): void;
}

/** Thrown for what the user must fix before anything runs (exit 2 with the usage). */
export class GenerateUsageError extends Error {}

function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message}`;
}

/** Print a refused plan: each problem at its place, then that nothing was sent. A missing key
 * is said by the caller, as a usage error naming the variable to set. */
function printRefused(plan: Plan, file: string, io: GenerateIo): void {
  if (plan.problems.some((p) => p.kind === 'key')) return;
  const errors = plan.problems.length;
  for (const p of plan.problems) io.err(p.diagnostic ? formatDiagnostic(file, p.diagnostic) : `${file}: error: ${p.message}.`);
  io.err(`${errors} problem${errors === 1 ? '' : 's'}; nothing was sent.`);
}

/** Run a parameter file; the exit code: 0 all succeeded, 1 some failed, 2 nothing was sent. */
export async function generate(file: string, dir: string, opts: { json?: boolean; verbose?: boolean }, io: GenerateIo): Promise<number> {
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new GenerateUsageError(`Cannot read ${file}.`);
  });
  const log: Logger = opts.verbose
    ? { info: (m) => io.err(m), warn: (m) => io.err(`warning: ${m}`), error: (m) => io.err(`error: ${m}`) }
    : { info: () => undefined, warn: (m) => io.err(`warning: ${m}`), error: () => undefined };
  // The command line is the user's consent to what the file says.
  const session = openCliSession(dir, { log, confirmAbove: () => Number.POSITIVE_INFINITY });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    const outcome = await session.submitter.submit(
      { title: path.basename(file), origin: 'cli', parts: [{ projectDir: dir, source: { kind: 'file', parsed: parseParamFile(text), file: path.resolve(file) } }] },
      {
        moreProblems: (plan) => {
          // Warnings (a schema note, a schema that could not be read) are printed; they do not stop a run.
          for (const w of plan.warnings) io.err(w.diagnostic ? formatDiagnostic(file, w.diagnostic) : `warning: ${w.message}.`);
          return [];
        },
        refused: (plan) => printRefused(plan, file, io),
        confirm: async () => true,
        started: (batch) => stop.signal.addEventListener('abort', () => void batch.cancel()),
      },
    );
    if (outcome.status === 'refused') {
      const key = outcome.plan.problems.find((p) => p.kind === 'key');
      if (key?.provider) throw new GenerateUsageError(`${key.message}: set ${ENV_KEY_NAMES[key.provider] ?? 'its key in the environment'}.`);
      return 2;
    }
    if (outcome.status !== 'started') return 2;
    const done = await outcome.batch.done;
    const db = await session.db();
    const results = [];
    for (const j of done) {
      for (const id of j.productIds) {
        const p = await db.getProduct(id);
        if (p) results.push({ id: p.id, path: path.join(dir, p.file), job: j.id, seed: p.seed, inputs: p.inputs ?? [] });
      }
    }
    const failed = done.filter((j) => j.state !== 'succeeded');
    if (opts.json) {
      io.out(`${JSON.stringify({ batch: outcome.batch.id, products: results, failed: failed.map((j) => ({ job: j.id, state: j.state, error: j.error })) }, null, 2)}\n`);
    } else {
      for (const r of results) io.out(`${r.id}\t${r.path}\n`);
    }
    for (const j of failed) io.err(`job ${j.id} ${j.state}: ${j.error?.message ?? ''}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    await session.close();
  }
}
