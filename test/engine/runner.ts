// A child process that starts jobs and keeps watching them until it is killed. It prints
// `submitted N` once the jobs are stored, `saved JOB REQUEST` once a job's request id is durable.
import { rig } from './helpers.ts';

async function main(): Promise<void> {
  const [dir, falBaseUrl, countText] = process.argv.slice(2);
  const r = await rig({ dir, falBaseUrl });
  // A job's request id is durable (flushed) before its 'submitted' event.
  const saved = new Set<string>();
  r.engine.on('job', (j) => {
    if (j.requestId && !saved.has(j.id)) {
      saved.add(j.id);
      process.stdout.write(`saved ${j.id} ${j.requestId}\n`);
    }
  });
  const specs = Array.from({ length: Number(countText) }, (_, i) => ({ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: `crash test ${i}`, seed: i } }));
  const jobs = await r.engine.submit(specs);
  process.stdout.write(`submitted ${jobs.length}\n`);
  await r.engine.waitFor(jobs.map((j) => j.id));
  process.stdout.write('all done\n');
  await r.close();
}
void main();
