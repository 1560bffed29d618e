// A child process for the crash and two-window tests: writes products and reports each
// durable save as "saved <n>" (every id up to n is on disk).
import { openProjectDb } from '../../src/storage/index.ts';
import { product } from './helpers.ts';

async function main(): Promise<void> {
  const [dir, prefix, countText, batchText] = process.argv.slice(2);
  const count = Number(countText);
  const batch = Number(batchText ?? 1);
  const db = await openProjectDb(dir, { saveDelayMs: 5 });
  let written = 0;
  while (written < count) {
    const n = Math.min(batch, count - written);
    const ps = Array.from({ length: n }, (_, k) => product(written + k, { id: `${prefix}${String(written + k).padStart(6, '0')}` }));
    await db.putProducts(ps);
    written += n;
    await db.flush();
    process.stdout.write(`saved ${written}\n`);
  }
  await db.close();
}
void main();
