// Issue 11: estimates before spending, what each product cost, the ledger, and budgets that stop
// the queue — against the fakes of fal (pricing API, x-fal-billable-units), Replicate
// (metrics.predict_time) and Civitai (whatif quotes, transactions).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { Pricing, projectSpending, userSpending, type ProjectSpending } from '../../src/engine/cost/index.ts';
import { Submitter, type SubmissionRequest } from '../../src/engine/submission.ts';
import { ImageSource } from '../../src/engine/imageInputs.ts';
import type { JobSpec } from '../../src/engine/paramFile.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { createProject, readManifest, setProjectBudgets } from '../../src/storage/index.ts';
import { startCivitaiFake } from '../fakes/civitai.ts';
import { startFalFake } from '../fakes/fal.ts';
import { startReplicateFake } from '../fakes/replicate.ts';
import { FAL_KEY, CIVITAI_KEY, REPLICATE_KEY, lines, log, rig, type Rig, type RigOptions } from './helpers.ts';

const SDXL_AIR = 'urn:air:sdxl:checkpoint:civitai:101055@128078';

/** A rig whose engine prices and records costs, with the project's ledger and budgets. */
async function costRig(opts: RigOptions & { cacheDir?: string; userDir?: string; userBudgets?: unknown } = {}): Promise<Rig & { pricing: Pricing; spending: ProjectSpending }> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-cost-')), 'project');
  await createProject(dir, 'Cost test');
  const user = opts.userDir ? userSpending(opts.userDir, () => opts.userBudgets, log) : undefined;
  const spending = projectSpending(dir, { user, log });
  let pricing: Pricing | undefined;
  const r = await rig({
    ...opts,
    dir,
    engineFor: (registry) => {
      pricing = new Pricing({ registry, cacheDir: opts.cacheDir, log });
      return { pricing, spending: spending.guard };
    },
  });
  return { ...r, pricing: pricing!, spending };
}

async function ledgerLines(dir: string): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(path.join(dir, '.artfactory', 'ledger.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('fal: prices come from the pricing API once a day (global cache), the estimate follows the unit, and the cost is billable units × unit price', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'af-prices-'));
  const r = await costRig({ falBaseUrl: fake.baseUrl, cacheDir });
  try {
    const specs: JobSpec[] = [
      { provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'a', image_size: 'landscape_4_3', num_images: 2 } },
      { provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'b', image_size: { width: 512, height: 512 } } },
      { provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'no size' } },
      { provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: 'c', num_images: 3 } },
      { provider: 'fal', model: 'fal-ai/recraft-v3', input: { prompt: 'not priced' } },
    ];
    const e = await r.pricing.estimateJobs(specs);
    // 1024×768 = 0.786432 MP × 2 × $0.025; 512×512 × $0.025; ultra: 3 images × $0.06.
    assert.deepEqual(e.jobs[0], { cost: { amount: 0.039322, currency: 'USD', estimated: true } });
    assert.deepEqual(e.jobs[1], { cost: { amount: 0.006554, currency: 'USD', estimated: true } });
    assert.match((e.jobs[2] as { unknown: string }).unknown, /per megapixel and its input does not say the output size/);
    assert.deepEqual(e.jobs[3], { cost: { amount: 0.18, currency: 'USD', estimated: true } });
    assert.match((e.jobs[4] as { unknown: string }).unknown, /publishes no price for fal-ai\/recraft-v3/);
    assert.equal(e.unknown, 2);
    assert.deepEqual(e.totals, [{ amount: 0.225876, currency: 'USD', estimated: true }]);
    const asked = () => fake.captured.filter((c) => c.url.includes('/v1/models/pricing'));
    assert.equal(asked().length, 1, 'one request for the three models');
    assert.match(asked()[0].url, /endpoint_id=fal-ai%2Fflux%2Fdev%2Cfal-ai%2Fflux-pro%2Fv1\.1-ultra%2Cfal-ai%2Frecraft-v3/);
    assert.equal(asked()[0].headers.authorization, `Key ${FAL_KEY}`);
    // A second session (a new window, the CLI) reads the day's cache instead of asking again.
    const again = new Pricing({ registry: r.registry, cacheDir, log });
    await again.estimateJobs(specs);
    assert.equal(asked().length, 1);
    // A day later the prices are asked again.
    const later = new Pricing({ registry: r.registry, cacheDir, log, now: () => Date.now() + 25 * 3600_000 });
    await later.estimateJobs(specs.slice(0, 1));
    assert.equal(asked().length, 2);

    // What it cost: the fake bills the megapixels made (2 × 64×64) per x-fal-billable-units.
    const [job] = await r.engine.submit([specs[0]], { estimates: [{ amount: 0.039322, currency: 'USD', estimated: true }] });
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.cost, { amount: 0.000205, currency: 'USD', estimated: false });
    const products = await Promise.all(done.productIds.map((id) => r.db.getProduct(id)));
    assert.deepEqual(
      products.map((p) => p!.cost),
      [
        { amount: 0.0001025, currency: 'USD', estimated: false },
        { amount: 0.0001025, currency: 'USD', estimated: false },
      ],
    );
    const sidecar = JSON.parse(await fs.readFile(path.join(r.dir, products[0]!.file.replace(/\.png$/, '.json')), 'utf8'));
    assert.deepEqual(sidecar.cost, products[0]!.cost);
    const ledger = await ledgerLines(r.dir);
    assert.deepEqual(
      ledger.map((l) => [l.type, l.job, l.provider, l.model]),
      [
        ['estimate', job.id, 'fal', 'fal-ai/flux/dev'],
        ['cost', job.id, 'fal', 'fal-ai/flux/dev'],
      ],
    );
    assert.deepEqual(ledger[0].estimate, { amount: 0.039322, currency: 'USD', estimated: true });
    assert.deepEqual(ledger[1].cost, done.cost);
    assert.equal(ledger[1].state, 'succeeded');
  } finally {
    await r.close();
    await fake.close();
  }
});

test('fal: a refused input that fal billed is recorded; a result without the header is unknown, never guessed', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await costRig({ falBaseUrl: fake.baseUrl });
  try {
    fake.nextJob({ fail: { status: 422, body: { detail: [{ loc: ['body', 'prompt'], msg: 'Content policy violation', type: 'content_policy_violation' }] }, headers: { 'x-fal-billable-units': '1' } } });
    const [billed] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: 'refused' } }]);
    const [b] = await r.engine.waitFor([billed.id]);
    assert.equal(b.state, 'failed');
    assert.deepEqual(b.cost, { amount: 0.06, currency: 'USD', estimated: false });
    fake.nextJob({ billableUnits: null });
    const [silent] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: 'no header' } }]);
    const [s] = await r.engine.waitFor([silent.id]);
    assert.equal(s.state, 'succeeded', JSON.stringify(s.error));
    assert.equal(s.cost, undefined);
    assert.equal((await r.db.getProduct(s.productIds[0]))!.cost, undefined);
    const ledger = await ledgerLines(r.dir);
    const end = ledger.find((l) => l.type === 'cost' && l.job === silent.id)!;
    assert.equal(end.cost, null);
    // Spent counts the unknown one at its estimate, so a budget does not forget it.
    assert.equal(r.spending.ledger.spent('USD'), 0.12);
  } finally {
    await r.close();
    await fake.close();
  }
});

test("Replicate: official models cost per output from the dated table, others predict_time × the hardware's price, both marked estimated; settings override", async () => {
  const fake = await startReplicateFake({ key: REPLICATE_KEY });
  const r = await costRig({ replicateBaseUrl: fake.baseUrl });
  try {
    const e = await r.pricing.estimateJobs([
      { provider: 'replicate', model: 'black-forest-labs/flux-schnell', input: { prompt: 'a', num_outputs: 4 } },
      { provider: 'replicate', model: 'stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc', input: { prompt: 'b' } },
      { provider: 'replicate', model: 'someone/unknown-model', input: { prompt: 'c' } },
    ]);
    assert.deepEqual(e.jobs[0], { cost: { amount: 0.012, currency: 'USD', estimated: true } });
    assert.deepEqual(e.jobs[1], { cost: { amount: 0.0039, currency: 'USD', estimated: true } });
    assert.match((e.jobs[2] as { unknown: string }).unknown, /not in Replicate's price table \(as of \d{4}-\d\d-\d\d\); add it to artFactory\.costs\.replicatePrices/);
    const [job] = await r.engine.submit([{ provider: 'replicate', model: 'stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc', input: { prompt: 'b' } }]);
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    // The fake reports metrics.predict_time 1.5 s; SDXL runs on an L40S at $0.000975/s.
    assert.deepEqual(done.cost, { amount: 0.001462, currency: 'USD', estimated: true });
    const overridden = new Pricing({ registry: r.registry, log, replicateOverrides: () => ({ models: { 'someone/unknown-model': { hardware: 'gpu-a100-large', typicalSeconds: 10 } } }) });
    assert.deepEqual((await overridden.estimateJobs([{ provider: 'replicate', model: 'someone/unknown-model', input: {} }])).jobs[0], { cost: { amount: 0.014, currency: 'USD', estimated: true } });
  } finally {
    await r.close();
    await fake.close();
  }
});

test('Civitai: a whatif quote per input (seeds aside) in Buzz, and the cost from the workflow transactions', async () => {
  const fake = await startCivitaiFake({ key: CIVITAI_KEY });
  const r = await costRig({ civitaiBaseUrl: fake.baseUrl });
  try {
    const specs: JobSpec[] = [1, 2, 3].map((seed) => ({ provider: 'civitai', model: SDXL_AIR, input: { prompt: 'a fox', seed, quantity: 2 } }));
    const e = await r.pricing.estimateJobs(specs);
    assert.deepEqual(e.totals, [{ amount: 48, currency: 'buzz', estimated: true }]);
    assert.equal(fake.quotes.length, 1, 'one quote for three jobs that differ only in seed');
    assert.equal(fake.workflows.size, 0, 'a quote runs nothing');
    const [job] = await r.engine.submit(specs.slice(0, 1));
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.cost, { amount: 16, currency: 'buzz', estimated: false });
  } finally {
    await r.close();
    await fake.close();
  }
});

test('a budget stops the queue: 20 jobs in parallel under a $0.42 daily budget send exactly 7 ($0.06 each), the rest end with kind budget', async () => {
  const fake = await startFalFake({ key: FAL_KEY, plan: { queueSteps: 2, progressSteps: 2 } });
  const r = await costRig({ falBaseUrl: fake.baseUrl, limits: { concurrency: 20, createsPerMinute: 1000, callsPerMinute: 100000 } });
  try {
    await setProjectBudgets(r.dir, [{ currency: 'USD', per: 'day', limit: 0.42 }]);
    const specs: JobSpec[] = Array.from({ length: 20 }, (_, i) => ({ provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: `job ${i}` } }));
    const est = await r.pricing.estimateJobs(specs);
    const jobs = await r.engine.submit(specs, { estimates: est.jobs.map((j) => ('cost' in j ? j.cost : null)) });
    const done = await r.engine.waitFor(jobs.map((j) => j.id));
    const sent = done.filter((j) => j.requestId);
    const refused = done.filter((j) => j.error?.kind === 'budget');
    assert.equal(fake.jobs.size, 7, 'the provider saw exactly what the budget allows');
    assert.equal(sent.length, 7);
    assert.equal(refused.length, 13);
    assert.ok(refused.every((j) => j.state === 'failed' && !j.requestId));
    assert.match(refused[0].error!.message, /^Not sent to fal\.ai: this job \(≈ \$0\.06\) would take the project's daily USD budget of \$0\.42 past its limit — \$0\.42 spent or held today\./);
    assert.equal(r.spending.ledger.spent('USD'), 0.42);
    // The manifest kept everything else.
    assert.equal((await readManifest(r.dir)).name, 'Cost test');
  } finally {
    await r.close();
    await fake.close();
  }
});

test("the user's budget counts every project's spending together", async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const userDir = await fs.mkdtemp(path.join(os.tmpdir(), 'af-user-'));
  const budgets = [{ currency: 'USD', per: 'month', limit: 0.1 }];
  const a = await costRig({ falBaseUrl: fake.baseUrl, userDir, userBudgets: budgets });
  const b = await costRig({ falBaseUrl: fake.baseUrl, userDir, userBudgets: budgets });
  try {
    const spec = (p: string): JobSpec => ({ provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: p } });
    const one = { estimates: [{ amount: 0.06, currency: 'USD', estimated: true }] };
    const [ja] = await a.engine.submit([spec('a')], one);
    assert.equal((await a.engine.waitFor([ja.id]))[0].state, 'succeeded');
    const [jb] = await b.engine.submit([spec('b')], one);
    const [doneB] = await b.engine.waitFor([jb.id]);
    assert.equal(doneB.error?.kind, 'budget');
    assert.match(doneB.error!.message, /your monthly USD budget of \$0\.10 past its limit — \$0\.06 spent or held this month/);
    assert.equal(fake.jobs.size, 1);
  } finally {
    await a.close();
    await b.close();
    await fake.close();
  }
});

test('the plan asks above the cost setting, for unpriced jobs under a budget (the command line refuses them), and when the batch is more than a budget has left', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await costRig({ falBaseUrl: fake.baseUrl });
  try {
    await setProjectBudgets(r.dir, [{ currency: 'USD', per: 'day', limit: 0.1 }]);
    const submitter = (origin: SubmissionRequest['origin'], unpriced?: 'allow') =>
      new Submitter({
        registry: r.registry,
        log,
        images: () => new ImageSource({ projectDir: r.dir, db: async () => r.db }),
        schema: async () => undefined,
        confirmAbove: () => 100,
        engine: async () => r.engine as Engine,
        pricing: r.pricing,
        budgets: () => r.spending.scopes(),
        confirmAboveCost: () => 0.05,
        ...(unpriced ? { unpriced: () => unpriced } : {}),
      });
    const request = (origin: SubmissionRequest['origin']): SubmissionRequest => ({
      title: 't',
      origin,
      parts: [
        {
          projectDir: r.dir,
          source: {
            kind: 'jobs',
            specs: [
              { provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: 'x', num_images: 2 } },
              { provider: 'fal', model: 'fal-ai/recraft-v3', input: { prompt: 'y' } },
            ],
          },
        },
      ],
    });
    const plan = await submitter('palette').plan(request('palette'));
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(
      plan.confirm.map((c) => c.kind),
      ['cost', 'unpriced', 'over-budget'],
    );
    assert.deepEqual(plan.parts[0].estimates, [{ amount: 0.12, currency: 'USD', estimated: true }, null]);
    const over = plan.confirm.find((c) => c.kind === 'over-budget')!;
    assert.deepEqual(over, { kind: 'over-budget', budget: "the project's daily USD budget of $0.10", left: { amount: 0.1, currency: 'USD', estimated: false }, total: { amount: 0.12, currency: 'USD', estimated: true } });
    const cli = await submitter('cli').plan(request('cli'));
    assert.equal(cli.problems.length, 1);
    assert.equal(cli.problems[0].kind, 'budget');
    assert.match(cli.problems[0].message, /^1 job's cost cannot be estimated \(fal\.ai publishes no price for fal-ai\/recraft-v3\) while the project's daily USD budget of \$0\.10 applies; run with --allow-unpriced to send it anyway$/);
    assert.deepEqual((await submitter('cli', 'allow').plan(request('cli'))).problems, []);
    assert.equal(fake.jobs.size, 0, 'planning sends nothing');
  } finally {
    await r.close();
    await fake.close();
  }
});

test('budgets as written are checked: a bad one is said, the good ones apply', async () => {
  const { parseBudgets } = await import('../../src/engine/cost/index.ts');
  const r = parseBudgets([{ currency: 'usd', per: 'day', limit: 5 }, { currency: 'Buzz', per: 'month', limit: 1000 }, { currency: 'USD', per: 'week', limit: 1 }, 'x'], 'p/artfactory.json');
  assert.deepEqual(r.budgets, [
    { currency: 'USD', per: 'day', limit: 5 },
    { currency: 'buzz', per: 'month', limit: 1000 },
  ]);
  assert.equal(r.problems.length, 2);
  assert.match(r.problems[0], /budget 3 needs "currency" \("USD" or "buzz"\), "per" \("day", "month" or "total"\)/);
  assert.deepEqual(parseBudgets({ limit: 5 }, 'x').problems, ['x: "budgets" must be a list like [{"currency": "USD", "per": "day", "limit": 5}]']);
  void lines;
});
