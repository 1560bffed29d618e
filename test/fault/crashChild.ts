// The process the crash test kills: it opens a real project on disk, resumes what the last
// (killed) process left, and keeps generating batches with the Sample provider and the fal fake
// (real @fal-ai/client, real clock) until it is killed. Every line it prints is written
// synchronously (stdout is a pipe), so the parent never believes more than was done:
//   open                      the database opened (after a restart: it survived the kill)
//   resumed N                 N unfinished jobs picked up
//   log …                     the engine's log (where the kill landed: queued, submitted, stored, …)
//   SUBMITTED {"batch", "jobs"} a batch was stored (durably) and started: each job's id, provider
//                             and the images it asks for
//   DONE {"job", "products"}  a job succeeded: its products (id, file, sha256) and the job's
//                             succeeded state were flushed to disk before this line
//   FAILED {"job", "error"}   a job failed (never expected here)
//   EDITING {"id", "patch"}   a rating, tag list or note is about to be written to a product
//   EDITED {"id", "patch"}    that edit's call resolved: it is acknowledged, and must survive
//   ALLDONE                   (final mode) every job is terminal
// Edits run alongside the generation, one at a time, a few milliseconds apart, on products
// earlier rounds (or this one) stored; each sets one field to a value no other edit uses.
// Usage: crashChild.ts DIR FAL_BASE_URL ROUND [final]
import { Engine } from '../../src/engine/engine.ts';
import { createBuiltinRegistry } from '../../src/providers/index.ts';
import type { JobSpec } from '../../src/engine/paramFile.ts';
import { openProjectDb } from '../../src/storage/index.ts';
import type { ProductPatch, ProjectDb } from '../../src/storage/types.ts';

export const CRASH_FAL_KEY = 'fal-crash-key-0123456789abcdef';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Edit products until killed: rating, tags and notes in turn, each value unique to this edit. */
async function editLoop(db: ProjectDb, round: number): Promise<void> {
  for (let n = 0; ; n++) {
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 10));
    const { items } = await db.queryProducts({ limit: 40, sort: n % 2 ? 'oldest' : 'newest' });
    const target = items[Math.floor(Math.random() * items.length)];
    if (!target) continue;
    const patch: ProductPatch = n % 3 === 0 ? { rating: 1 + ((round * 7 + n) % 5) } : n % 3 === 1 ? { tags: [`r${round}e${n}`, 'crash'] } : { notes: `round ${round}, edit ${n}` };
    out(`EDITING ${JSON.stringify({ id: target.id, patch })}`);
    if (await db.updateProduct(target.id, patch)) out(`EDITED ${JSON.stringify({ id: target.id, patch })}`);
  }
}

async function main(): Promise<void> {
  const [dir, falBaseUrl, roundText, mode] = process.argv.slice(2);
  const round = Number(roundText);
  // A small journal threshold: the database file is written whole every few dozen writes, so
  // kills land in compactions too, not only in appends.
  const db = await openProjectDb(dir, { saveDelayMs: 5, compactAtBytes: 64 * 1024 });
  out('open');
  const registry = createBuiltinRegistry((id) => (id === 'fal' ? { getKey: async () => CRASH_FAL_KEY, baseUrl: falBaseUrl } : { getKey: async () => undefined }));
  const log = { info: (m: string) => out(`log ${m}`), warn: (m: string) => out(`log warn ${m}`), error: (m: string) => out(`log error ${m}`) };
  const engine = new Engine({ projectDir: dir, db, providers: registry, log, pollIntervalMs: 20, allowLoopbackHttp: true, makeThumbnails: true });
  engine.on('job', (j) => {
    if (j.state === 'succeeded') {
      // The event comes after the succeeded state (and the products before it) were flushed.
      void Promise.all(j.productIds.map((id) => db.getProduct(id))).then((ps) =>
        out(`DONE ${JSON.stringify({ job: j.id, products: ps.map((p) => (p ? { id: p.id, file: p.file, sha256: p.sha256 } : null)) })}`),
      );
    } else if (j.state === 'failed' || j.state === 'canceled') {
      out(`FAILED ${JSON.stringify({ job: j.id, state: j.state, error: j.error })}`);
    }
  });
  const resumed = await engine.resume();
  out(`resumed ${resumed}`);

  if (mode === 'final') {
    const open = await db.listJobs({ states: ['queued', 'submitted', 'running'] });
    await engine.waitFor(open.map((j) => j.id));
    await engine.idle();
    out('ALLDONE');
    await db.close();
    return;
  }
  void editLoop(db, round).catch((e: unknown) => out(`CHILD-ERROR edit: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
  for (let batch = 0; ; batch++) {
    const tag = `r${round}b${batch}`;
    const specs: JobSpec[] = [
      { provider: 'sample', model: 'sample/gradient', input: { prompt: `crash ${tag} sample`, seed: round * 100 + batch, width: 256, height: 256, duration_ms: 120 + ((round * 37 + batch * 11) % 200), num_images: 1 + ((round + batch) % 2) } },
      { provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: `crash ${tag} fal`, seed: round * 100 + batch, num_images: 1 + (batch % 2) } },
      { provider: 'sample', model: 'sample/gradient', input: { prompt: `crash ${tag} quick`, seed: round, width: 256, height: 256, duration_ms: 40 } },
    ];
    const jobs = await engine.submit(specs);
    out(`SUBMITTED ${JSON.stringify({ batch: tag, jobs: jobs.map((j) => ({ id: j.id, provider: j.provider, images: Number(j.input.num_images ?? 1) })) })}`);
    await engine.waitFor(jobs.map((j) => j.id));
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    out(`CHILD-ERROR ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 3;
  });
}
