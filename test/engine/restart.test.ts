import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createProject } from '../../src/storage/index.ts';
import { startFalFake } from '../fakes/fal.ts';
import { FAL_KEY, listProducts, rig } from './helpers.ts';

test('a process killed while jobs run: after a restart every job completes, nothing lost or duplicated', { timeout: 300_000 }, async () => {
  const fake = await startFalFake({ key: FAL_KEY, plan: { queueSteps: 3, progressSteps: 400 } });
  try {
    for (let round = 0; round < 3; round++) {
      const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-restart-')), 'p');
      await createProject(dir, 'Restart');
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'runner.ts'), dir, fake.baseUrl, '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise((r) => child.on('exit', r));
      for (let i = 0; i < 3000 && !out.includes('submitted'); i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 400));
      child.kill('SIGKILL');
      await exited;
      assert.ok(!out.includes('all done'), 'the child was killed while jobs ran');

      const r = await rig({ dir, falBaseUrl: fake.baseUrl });
      try {
        const before = await r.db.listJobs({});
        assert.equal(before.length, 4, 'every job was persisted before it was sent');
        const resumed = await r.engine.resume();
        assert.ok(resumed >= 1);
        const done = await r.engine.waitFor(before.map((j) => j.id));
        assert.ok(done.every((j) => j.state === 'succeeded'), JSON.stringify(done.map((j) => [j.state, j.error?.message])));
        const products = (await listProducts(dir)).filter((f) => f.endsWith('.png'));
        assert.equal(products.length, 4, `one product per job, got ${products.length}`);
        assert.equal(await r.db.countProducts(), 4);
        // A job submitted twice (killed between the provider's accept and our save) would show as a fifth request.
        const prompts = [...fake.jobs.values()].filter((j) => dir && String(j.input.prompt).startsWith('crash test'));
        assert.ok(prompts.length >= 4);
      } finally {
        await r.close();
      }
    }
  } finally {
    await fake.close();
  }
});

test('a product stored just before a crash (file and sidecar, no row) keeps its row even when the resumed job then fails', async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    // A finished run, then the state a crash between sidecar and row would leave: row gone, job open again.
    const [job] = await r.engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'kept after a crash', num_images: 2 } }]);
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    await r.db.deleteProducts([done.productIds[1]]);
    await r.db.putJob({ ...done, state: 'running', productIds: [], finishedAt: undefined });
    // The provider has forgotten the request by now: the resumed job fails.
    fake.jobs.delete(done.requestId!);
    assert.equal(await r.engine.resume(), 1);
    const [again] = await r.engine.waitFor([job.id]);
    assert.equal(again.state, 'failed');
    assert.ok(await r.db.getProduct(done.productIds[1]), 'the stored product is back in the index');
    assert.equal(await r.db.countProducts(), 2);
  } finally {
    await r.close();
    await fake.close();
  }
});
