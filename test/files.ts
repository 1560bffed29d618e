// File helpers shared by the tests.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Every file under `dir`, as paths relative to it (forward slashes), sorted; [] when absent. */
export async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p).split(path.sep).join('/'));
    }
  }
  await walk(dir);
  return out.sort();
}
