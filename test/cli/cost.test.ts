// The command line and cost (issue 11): the estimate before a run, each product's cost in --json,
// a budget that stops jobs (exit 3, failed entries of kind budget), --allow-unpriced, and
// `art-factory cost`.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createProject, setProjectBudgets } from '../../src/storage/index.ts';
import { startFalFake } from '../fakes/fal.ts';
import { runCli as run } from './run.ts';

const KEY = 'fal-cli-key-abcdef0123456789';

async function project(): Promise<string> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-cli-cost-')), 'p');
  await createProject(dir, 'CLI cost');
  return dir;
}

test('generate says the estimate first, records each cost, stops at a budget with exit 3, and cost sums the ledger', async () => {
  const fake = await startFalFake({ key: KEY });
  try {
    const dir = await project();
    const userDir = await fs.mkdtemp(path.join(os.tmpdir(), 'af-cli-user-'));
    const env = { FAL_KEY: KEY, ARTFACTORY_FAL_BASE_URL: fake.baseUrl, ARTFACTORY_USER_DIR: userDir };
    const file = path.join(dir, 'params', 'ultra.art.json');
    // Three jobs at $0.06 each (fal-ai/flux-pro/v1.1-ultra is priced per image by the fake).
    await fs.writeFile(file, JSON.stringify({ provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: 'a harbour' }, count: 3 }));
    const first = await run(['generate', file, '--project', dir, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /^3 jobs · ≈ \$0\.18$/m);
    const out = JSON.parse(first.stdout) as { estimate: { totals: unknown[]; unknown: number }; cost: unknown[]; products: { cost: unknown }[] };
    assert.deepEqual(out.estimate, { totals: [{ amount: 0.18, currency: 'USD', estimated: true }], unknown: 0 });
    assert.deepEqual(out.cost, [{ amount: 0.18, currency: 'USD', estimated: false }]);
    assert.deepEqual(
      out.products.map((p) => p.cost),
      [0, 1, 2].map(() => ({ amount: 0.06, currency: 'USD', estimated: false })),
    );
    // The price was cached in the user folder, not the project.
    assert.ok((await fs.stat(path.join(userDir, 'prices.json'))).isFile());
    await assert.rejects(fs.stat(path.join(dir, 'prices.json')));

    // A daily budget of $0.30: $0.18 spent, so two more fit and the third is not sent.
    await setProjectBudgets(dir, [{ currency: 'USD', per: 'day', limit: 0.3 }]);
    const before = fake.jobs.size;
    const second = await run(['generate', file, '--project', dir, '--json'], env);
    assert.equal(second.code, 3, second.stderr);
    assert.match(second.stderr, /warning: the estimate \(≈ \$0\.18\) is more than the project's daily USD budget of \$0\.30 has left \(\$0\.12\)/);
    const res = JSON.parse(second.stdout) as { products: unknown[]; failed: { error: { kind: string; message: string } }[] };
    assert.equal(res.products.length, 2);
    assert.equal(res.failed.length, 1);
    assert.equal(res.failed[0].error.kind, 'budget');
    assert.equal(fake.jobs.size - before, 2, 'the provider saw only what the budget allowed');

    // A model without a price under a budget: refused unless --allow-unpriced.
    const unpriced = path.join(dir, 'params', 'recraft.art.json');
    await fs.writeFile(unpriced, JSON.stringify({ provider: 'fal', model: 'fal-ai/recraft-v3', input: { prompt: 'a poster' } }));
    await setProjectBudgets(dir, [{ currency: 'USD', per: 'month', limit: 100 }]);
    const refused = await run(['generate', unpriced, '--project', dir], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /1 job's cost cannot be estimated \(fal\.ai publishes no price for fal-ai\/recraft-v3\) while the project's monthly USD budget of \$100\.00 applies; run with --allow-unpriced to send it anyway/);
    const allowed = await run(['generate', unpriced, '--project', dir, '--allow-unpriced'], env);
    assert.equal(allowed.code, 0, allowed.stderr);

    const sum = await run(['cost', '--project', dir, '--json'], env);
    assert.equal(sum.code, 0, sum.stderr);
    const report = JSON.parse(sum.stdout) as { totals: { amount: number; currency: string }[]; rows: { model: string; jobs: number; amount: number }[]; open: number; budgets: { spent: number; left: number }[] };
    // 5 ultra jobs at $0.06 and one recraft job of unknown cost (the fake bills 1 unit, unpriced).
    assert.deepEqual(
      report.rows.map((r) => [r.model, r.jobs, r.amount]),
      [['fal-ai/flux-pro/v1.1-ultra', 5, 0.3]],
    );
    assert.equal(report.totals[0].amount, 0.3);
    assert.equal(report.open, 0);
    assert.deepEqual(report.budgets.map((b) => [b.spent, b.left]), [[0.3, 99.7]]);
    const text = await run(['cost', '--project', dir], env);
    assert.match(text.stdout, /^fal\tfal-ai\/flux-pro\/v1\.1-ultra\t5 jobs\t\$0\.30$/m);
    assert.match(text.stdout, /^the project's monthly USD budget of \$100\.00: \$0\.30 spent, \$99\.70 left$/m);
    const future = await run(['cost', '--project', dir, '--since', '2999-01-01', '--json'], env);
    assert.deepEqual(JSON.parse(future.stdout).totals, []);
    const bad = await run(['cost', '--project', dir, '--since', 'yesterday'], env);
    assert.equal(bad.code, 2);
  } finally {
    await fake.close();
  }
});
