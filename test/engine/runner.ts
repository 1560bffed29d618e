// A child process that starts jobs and keeps watching them until it is killed.
import { rig } from './helpers.ts';

async function main(): Promise<void> {
  const [dir, falBaseUrl, countText] = process.argv.slice(2);
  const r = await rig({ dir, falBaseUrl });
  const specs = Array.from({ length: Number(countText) }, (_, i) => ({ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: `crash test ${i}`, seed: i } }));
  const jobs = await r.engine.submit(specs);
  process.stdout.write(`submitted ${jobs.length}\n`);
  await r.engine.waitFor(jobs.map((j) => j.id));
  process.stdout.write('all done\n');
  await r.close();
}
void main();
