// The one submission path (src/engine/submission.ts), with the real engine, the real Sample
// provider and a real project database: what a plan refuses sends nothing, a large plan asks
// first, one batch id covers every job of every project, progress follows the batch, cancel
// reaches every job, and nothing but the Submitter calls Engine.submit (read from the source
// with the TypeScript compiler, so a new caller anywhere fails this test).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ImageSource } from '../../src/engine/imageInputs.ts';
import { parseParamFile, type JobSpec } from '../../src/engine/paramFile.ts';
import { Submitter, type Batch, type Plan, type SubmissionHooks, type SubmissionRequest, type SubmitterDeps } from '../../src/engine/submission.ts';
import type { JobRecord } from '../../src/storage/types.ts';
import { pngBytes } from '../fakes/common.ts';
import { walkFiles } from '../files.ts';
import { log, rig, type Rig } from './helpers.ts';

const ROOT = path.resolve(__dirname, '../..');

/** A Submitter over rigs (one per project), counting what it opens and asks. */
function submitter(rigs: Rig[], o: { confirmAbove?: number; hasKey?: SubmitterDeps['hasKey']; schema?: SubmitterDeps['schema'] } = {}) {
  const opened: string[] = [];
  const byDir = new Map(rigs.map((r) => [r.dir, r]));
  const s = new Submitter({
    registry: rigs[0].registry,
    log,
    engine: async (dir) => {
      opened.push(dir);
      return byDir.get(dir)!.engine;
    },
    images: (dir) => new ImageSource({ projectDir: dir, db: async () => byDir.get(dir)!.db }),
    schema: o.schema ?? ((_dir, provider, model) => rigs[0].registry.inputSchema(provider, model)),
    hasKey: o.hasKey,
    confirmAbove: () => o.confirmAbove ?? 8,
  });
  return { s, opened };
}

/** Hooks that record what the caller would show. */
function recorder(answer = true) {
  const seen = { refused: [] as Plan[], confirmed: [] as Plan[], started: 0, finished: [] as JobRecord[][], progress: [] as string[] };
  const hooks: SubmissionHooks = {
    refused: (plan) => void seen.refused.push(plan),
    confirm: async (plan) => {
      seen.confirmed.push(plan);
      return answer;
    },
    started: (batch) => {
      seen.started++;
      batch.onDidChange(() => seen.progress.push(batch.summary()));
    },
    finished: (_batch, jobs) => void seen.finished.push(jobs),
  };
  return { seen, hooks };
}

const sample = (prompt: string, extra: Record<string, unknown> = {}): JobSpec => ({ provider: 'sample', model: 'sample/gradient', input: { prompt, duration_ms: 30, width: 256, height: 256, ...extra } });

const jobsRequest = (dir: string, specs: JobSpec[], origin: SubmissionRequest['origin'] = 'palette'): SubmissionRequest => ({ title: 'test', origin, parts: [{ projectDir: dir, source: { kind: 'jobs', specs } }] });

test('a parameter file with problems is refused at their places: no engine is opened, nothing is stored or sent', async () => {
  const r = await rig({ engine: { makeThumbnails: false } });
  try {
    const { s, opened } = submitter([r]);
    const { seen, hooks } = recorder();
    const file = path.join(r.dir, 'params', 'bad.art.json');
    const text = JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'x', num_images: 9, image_url: './missing.png' } }, null, 2);
    const outcome = await s.submit({ title: 'bad.art.json', origin: 'file', parts: [{ projectDir: r.dir, source: { kind: 'file', parsed: parseParamFile(text), file } }] }, hooks);
    assert.equal(outcome.status, 'refused');
    assert.equal(seen.refused.length, 1);
    assert.deepEqual(opened, [], 'no engine opened');
    assert.deepEqual(await r.db.listJobs({ limit: 10 }), [], 'no job stored');
    const numImages = outcome.plan.problems.find((p) => /num_images/.test(p.message));
    assert.ok(numImages?.diagnostic, `the schema problem is at its place: ${outcome.plan.problems.map((p) => p.message).join(' | ')}`);
    assert.equal(numImages.diagnostic.range.start.line, text.split('\n').findIndex((l) => l.includes('num_images')));
    assert.equal(outcome.plan.parts[0].sourceFile, 'params/bad.art.json');
  } finally {
    await r.close();
  }
});

test('jobs made elsewhere (Re-run, Generate…, a tool) are checked like the file that would hold them: each problem names its job; a missing key is said once per provider', async () => {
  const r = await rig({ engine: { makeThumbnails: false } });
  try {
    const { s, opened } = submitter([r], { hasKey: async (p) => (p === 'fal' ? false : undefined) });
    const { seen, hooks } = recorder();
    const specs: JobSpec[] = [
      sample('fine'),
      { provider: 'sample', model: 'sample/gradient', input: { duration_ms: 30 } },
      { provider: 'fal', model: 'fal-ai/flux/schnell', input: { prompt: 'a' } },
      { provider: 'fal', model: 'fal-ai/flux/schnell', input: { prompt: 'b' } },
      { provider: 'sample', model: 'sample/image-to-image', input: { prompt: 'no such image', image_url: 'product:NOPE123', duration_ms: 30 } },
    ];
    const outcome = await s.submit(jobsRequest(r.dir, specs, 'rerun'), hooks);
    assert.equal(outcome.status, 'refused');
    const byJob = outcome.plan.problems.map((p) => `${p.job}:${p.kind}`);
    assert.deepEqual(byJob, ['1:input', '2:key', '4:image'], 'the missing prompt of job 1; fal\'s key once, for the first of its two jobs; the unknown product of job 4');
    assert.match(outcome.plan.problems[0].message, /prompt/);
    assert.match(outcome.plan.problems[2].message, /^"image_url": There is no product "NOPE123"/);
    assert.equal(seen.refused.length, 1);
    assert.deepEqual(opened, []);
  } finally {
    await r.close();
  }
});

test('above confirmAbove the plan asks first: declined sends nothing; accepted starts every job under one batch id, follows it and reports once', async () => {
  const r = await rig({ engine: { makeThumbnails: false } });
  try {
    const { s } = submitter([r], { confirmAbove: 2 });
    const specs = [sample('a', { seed: 1 }), sample('b', { seed: 2 }), sample('c', { seed: 3 })];
    const no = recorder(false);
    const declined = await s.submit(jobsRequest(r.dir, specs), no.hooks);
    assert.equal(declined.status, 'declined');
    assert.deepEqual(declined.plan.confirm, [{ kind: 'jobs', jobs: 3, limit: 2 }]);
    assert.equal(no.seen.confirmed.length, 1);
    assert.deepEqual(await r.db.listJobs({ limit: 10 }), [], 'declined: nothing stored');

    const yes = recorder(true);
    const started = await s.submit(jobsRequest(r.dir, specs), yes.hooks);
    assert.equal(started.status, 'started');
    assert.ok(started.status === 'started');
    const done = await started.batch.done;
    assert.equal(done.length, 3);
    assert.deepEqual(done.map((j) => j.state), ['succeeded', 'succeeded', 'succeeded']);
    assert.deepEqual(new Set(done.map((j) => j.batchId)), new Set([started.batch.id]), 'one batch id for all');
    const stored = await r.db.listJobs({ limit: 10 });
    assert.equal(stored.length, 3, 'exactly three jobs stored');
    assert.equal(yes.seen.started, 1);
    assert.equal(yes.seen.finished.length, 1, 'reported once');
    assert.equal(yes.seen.progress.at(-1), '3 of 3 done');
    assert.equal(started.batch.ended(), 3);
  } finally {
    await r.close();
  }
});

test('one request over two projects: one batch id, each job in its own project, relative images resolved against each part\'s parameter file', async () => {
  const a = await rig({ engine: { makeThumbnails: false } });
  const b = await rig({ engine: { makeThumbnails: false } });
  try {
    const { s, opened } = submitter([a, b]);
    const { seen, hooks } = recorder();
    await fs.mkdir(path.join(b.dir, 'params', 'deep'), { recursive: true });
    await fs.writeFile(path.join(b.dir, 'params', 'deep', 'in.png'), await pngBytes(32, 32, [9, 9, 9]));
    const outcome = await s.submit(
      {
        title: 'two projects',
        origin: 'rerun',
        parts: [
          { projectDir: a.dir, source: { kind: 'jobs', specs: [sample('in a')] } },
          { projectDir: b.dir, sourceFile: 'params/deep/x.art.json', source: { kind: 'jobs', specs: [sample('in b'), { provider: 'sample', model: 'sample/image-to-image', input: { prompt: 'from ./in.png', image_url: './in.png', duration_ms: 30 } }] } },
        ],
      },
      hooks,
    );
    assert.equal(outcome.status, 'started');
    assert.ok(outcome.status === 'started');
    const done = await outcome.batch.done;
    assert.deepEqual(opened, [a.dir, b.dir]);
    assert.deepEqual(outcome.batch.projects, [a.dir, b.dir]);
    assert.equal((await a.db.listJobs({ limit: 10 })).length, 1);
    const inB = await b.db.listJobs({ limit: 10 });
    assert.equal(inB.length, 2);
    assert.ok(inB.every((j) => j.sourceFile === 'params/deep/x.art.json'));
    assert.deepEqual(done.map((j) => j.state), ['succeeded', 'succeeded', 'succeeded'], JSON.stringify(done.map((j) => j.error?.message)));
    assert.equal(new Set(done.map((j) => j.batchId)).size, 1);
    assert.equal(seen.finished.length, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a schema that cannot be read is a warning, said once: the jobs are sent and the provider checks them', async () => {
  const r = await rig({ engine: { makeThumbnails: false } });
  try {
    let asked = 0;
    const { s } = submitter([r], {
      schema: async () => {
        asked++;
        throw new Error('HTTP 503');
      },
    });
    const { hooks } = recorder();
    const outcome = await s.submit(jobsRequest(r.dir, [sample('a'), sample('b')]), hooks);
    assert.equal(outcome.status, 'started');
    assert.equal(asked, 1, 'the schema is asked once per model, not per job');
    assert.equal(outcome.plan.warnings.length, 2);
    assert.match(outcome.plan.warnings[0].message, /could not be read \(HTTP 503\)/);
    if (outcome.status === 'started') await outcome.batch.done;
  } finally {
    await r.close();
  }
});

test('cancel reaches every job of the batch that has not ended', async () => {
  const r = await rig({ engine: { makeThumbnails: false } });
  try {
    const { s } = submitter([r]);
    const { hooks } = recorder();
    const outcome = await s.submit(jobsRequest(r.dir, [sample('slow 1', { duration_ms: 60_000 }), sample('slow 2', { duration_ms: 60_000 })]), hooks);
    assert.ok(outcome.status === 'started');
    await outcome.batch.cancel();
    const done = await outcome.batch.done;
    assert.deepEqual(done.map((j) => j.state), ['canceled', 'canceled']);
  } finally {
    await r.close();
  }
});

test('Retry Failed runs the failed jobs again under their batch id; the batch it returns follows them and is done when they have ended again', async () => {
  const r = await rig({ engine: { makeThumbnails: false } });
  try {
    const { s } = submitter([r]);
    const { hooks } = recorder();
    const outcome = await s.submit(jobsRequest(r.dir, [sample('fine'), sample('[fail] once more', { duration_ms: 300 })]), hooks);
    assert.ok(outcome.status === 'started');
    const first = await outcome.batch.done;
    const failed = first.filter((j) => j.state === 'failed');
    assert.equal(failed.length, 1);
    const again = await outcome.batch.retry(failed.map((j) => j.id));
    const states: string[] = [];
    again.onDidChange((j) => states.push(j.state));
    assert.deepEqual([again.id, again.size], [outcome.batch.id, 1], 'the same batch id, only the failed job');
    const ended = await again.done;
    assert.deepEqual(ended.map((j) => [j.id, j.state, j.batchId]), [[failed[0].id, 'failed', outcome.batch.id]]);
    assert.ok(states.includes('failed'), `the retried job's states were followed: ${states.join(', ')}`);
    assert.ok(ended[0].finishedAt! >= failed[0].finishedAt!, 'it ended a second time');
    assert.equal((await r.db.listJobs()).length, 2, 'no new job was made');
  } finally {
    await r.close();
  }
});

/** Every call in src/ whose callee is Engine's `submit` method, as "file:line". */
async function engineSubmitCallers(): Promise<string[]> {
  const files = (await walkFiles(path.join(ROOT, 'src'))).filter((f) => /\.tsx?$/.test(f)).map((f) => path.join(ROOT, 'src', f));
  const program = ts.createProgram(files, { allowImportingTsExtensions: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, jsx: ts.JsxEmit.ReactJSX, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const engineFile = path.join(ROOT, 'src', 'engine', 'engine.ts');
  const callers: string[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(path.join(ROOT, 'src'))) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'submit') {
        const decl = checker.getSymbolAtLocation(node.expression.name)?.declarations?.[0];
        if (decl && path.resolve(decl.getSourceFile().fileName) === engineFile && ts.isMethodDeclaration(decl) && ts.isClassDeclaration(decl.parent) && decl.parent.name?.text === 'Engine') {
          callers.push(`${path.relative(ROOT, sf.fileName)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return callers;
}

test('nothing but the Submitter calls Engine.submit: ▶ Generate, Generate…, Re-run, the CLI (and tools) all go through src/engine/submission.ts', async () => {
  const callers = await engineSubmitCallers();
  assert.equal(callers.length, 1, `exactly one caller: ${callers.join(', ')}`);
  assert.match(callers[0], /^src\/engine\/submission\.ts:\d+$/);
  // And the callers of the path are the ones this file's header names.
  const src = async (f: string) => fs.readFile(path.join(ROOT, f), 'utf8');
  // The command line's Submitter is its project session's, shared by generate and mcp.
  assert.match(await src('src/cli/session.ts'), /new Submitter\(/);
  assert.match(await src('src/cli/generate.ts'), /openCliSession\(/);
  // The agent tools submit a request of origin 'tool' through their host's Submitter.
  assert.match(await src('src/agent/generate.ts'), /host\.submitter\.submit\(/);
  assert.match(await src('src/agent/generate.ts'), /origin: 'tool'/);
  assert.match(await src('src/extension/submit.ts'), /new Submitter\(/);
  assert.match(await src('src/extension/generate.ts'), /origin: 'file'/);
  assert.match(await src('src/extension/generate.ts'), /origin: 'palette'/);
  assert.match(await src('src/extension/galleryPanel.ts'), /origin: 'rerun'/);
});

test('progress may open as the jobs are stored (starting); when storing fails the submission rejects with why and the batch\'s done rejects, so no notification waits forever', async () => {
  const r = await rig({ engine: { makeThumbnails: false } });
  try {
    const failing = new Submitter({
      registry: r.registry,
      log,
      engine: async () => {
        throw new Error('the disk is full');
      },
      images: (dir) => new ImageSource({ projectDir: dir, db: async () => r.db }),
      schema: (_dir, provider, model) => r.registry.inputSchema(provider, model),
      confirmAbove: () => 8,
    });
    let batch: Batch | undefined;
    let startingJobs = -1;
    const { hooks } = recorder();
    await assert.rejects(
      failing.submit(jobsRequest(r.dir, [sample('a')]), {
        ...hooks,
        starting: (b, plan) => {
          batch = b;
          startingJobs = plan.jobCount;
        },
      }),
      /the disk is full/,
    );
    assert.equal(startingJobs, 1, 'starting had the plan');
    assert.ok(batch);
    await assert.rejects(batch.done, /the disk is full/);
  } finally {
    await r.close();
  }
});
