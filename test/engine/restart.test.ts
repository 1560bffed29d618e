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
  // fal runs 2 jobs at a time (the default concurrency): the child is killed once both have
  // their request id saved, while they run at the fake and the other 2 wait, so the kill never
  // falls between an accept and its save. After the restart, the fake must have received
  // exactly 4 submissions: a resumed job that submitted again would make a 5th.
  // 150 status polls take the fake's jobs well over the longest wait before the kill (150 ms).
  const fake = await startFalFake({ key: FAL_KEY, plan: { queueSteps: 3, progressSteps: 150 } });
  try {
    for (let round = 0; round < 3; round++) {
      const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-restart-')), 'p');
      await createProject(dir, 'Restart');
      const known = new Set(fake.jobs.keys());
      const sentThisRound = () => [...fake.jobs.values()].filter((j) => !known.has(j.id));
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'runner.ts'), dir, fake.baseUrl, '4'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const exited = new Promise((r) => child.on('exit', r));
      const bothSaved = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if ((out.match(/^saved /gm) ?? []).length >= 2) resolve();
        });
        void exited.then(() => reject(new Error(`the child exited before two jobs were submitted: ${out}`)));
      });
      await bothSaved;
      await new Promise((r) => setTimeout(r, Math.random() * 150));
      child.kill('SIGKILL');
      await exited;
      assert.ok(!out.includes('all done'), 'the child was killed while jobs ran');
      const savedAtKill = new Map([...out.matchAll(/^saved (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
      assert.equal(savedAtKill.size, 2, `two jobs had their request saved: ${out}`);
      assert.equal(sentThisRound().length, 2, 'two submissions reached the provider before the kill');

      const r = await rig({ dir, falBaseUrl: fake.baseUrl });
      try {
        const before = await r.db.listJobs({});
        assert.equal(before.length, 4, 'every job was persisted before it was sent');
        for (const [id, requestId] of savedAtKill) assert.equal(before.find((j) => j.id === id)?.requestId, requestId, 'a saved request id survives the kill');
        assert.equal(await r.engine.resume(), 4, 'every job was still open, and each is resumed');
        const done = await r.engine.waitFor(before.map((j) => j.id));
        assert.ok(done.every((j) => j.state === 'succeeded'), JSON.stringify(done.map((j) => [j.state, j.error?.message])));
        const products = (await listProducts(dir)).filter((f) => f.endsWith('.png'));
        assert.equal(products.length, 4, `one product per job, got ${products.length}`);
        assert.equal(await r.db.countProducts(), 4);
        // Exactly one submission per job: the 2 resumed by their request id were not sent again.
        const sent = sentThisRound();
        assert.deepEqual(sent.map((j) => String(j.input.prompt)).sort(), ['crash test 0', 'crash test 1', 'crash test 2', 'crash test 3']);
        assert.deepEqual(done.map((j) => j.requestId).sort(), sent.map((j) => j.id).sort(), 'each job kept the request it made');
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
