// A child that runs 12 fal jobs with costs and a ledger (4 at a time) until it is killed, or,
// with "resume", picks up what a killed one left and runs it to the end.
import { Pricing, projectSpending } from '../../src/engine/cost/index.ts';
import { log, rig } from '../engine/helpers.ts';

async function main(): Promise<void> {
  const [dir, falBaseUrl, mode] = process.argv.slice(2);
  const spending = projectSpending(dir, { log });
  const r = await rig({
    dir,
    falBaseUrl,
    limits: { concurrency: 4, createsPerMinute: 1000, callsPerMinute: 100000 },
    engineFor: (registry) => ({ pricing: new Pricing({ registry, log }), spending: spending.guard }),
  });
  if (mode === 'resume') {
    await r.engine.resume();
    const open = await r.db.listJobs({ states: ['queued', 'submitted', 'running'] });
    await r.engine.waitFor(open.map((j) => j.id));
    process.stdout.write('resumed all\n');
  } else {
    const specs = Array.from({ length: 12 }, (_, i) => ({ provider: 'fal', model: 'fal-ai/flux-pro/v1.1-ultra', input: { prompt: `ledger ${i}` } }));
    const jobs = await r.engine.submit(specs, { estimates: specs.map(() => ({ amount: 0.06, currency: 'USD', estimated: true })) });
    await r.engine.waitFor(jobs.map((j) => j.id));
    process.stdout.write('all done\n');
  }
  await r.close();
}
void main();
