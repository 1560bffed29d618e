import assert from 'node:assert/strict';
import { closeSync, openSync, promises as fs, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createProject } from '../../src/storage/index.ts';
import { readHeader } from '../../src/storage/journal.ts';
import { startFalFake } from '../fakes/fal.ts';
import { runCli as run } from './run.ts';

const KEY = 'fal-cli-key-abcdef0123456789';

async function project(): Promise<string> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-cli-')), 'p');
  await createProject(dir, 'CLI');
  return dir;
}

test('generate with the Sample provider prints each product, then list and rebuild-index agree', async () => {
  const dir = await project();
  const file = path.join(dir, 'params', 'two.art.json');
  await fs.writeFile(file, JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'cli fox', width: 256, height: 256, duration_ms: 100 }, count: 2 }));
  const gen = await run(['generate', file, '--project', dir, '--json']);
  assert.equal(gen.code, 0, gen.stderr);
  const out = JSON.parse(gen.stdout) as { products: { id: string; path: string }[] };
  assert.equal(out.products.length, 2);
  for (const p of out.products) assert.ok((await fs.stat(p.path)).size > 0);
  const listed = await run(['list', '--project', dir, '--json']);
  assert.equal(JSON.parse(listed.stdout).total, 2);
  const rebuilt = await run(['rebuild-index', '--project', dir]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.match(rebuilt.stdout, /2 products/);
});

test('generate against the fal fake, and the exit codes for failures', async () => {
  const fake = await startFalFake({ key: KEY });
  try {
    const dir = await project();
    const file = path.join(dir, 'params', 'fal.art.json');
    await fs.writeFile(file, JSON.stringify({ provider: 'fal', model: 'fal-ai/flux/schnell', input: { prompt: 'cli lighthouse' } }));
    const env = { FAL_KEY: KEY, ARTFACTORY_FAL_BASE_URL: fake.baseUrl };
    const ok = await run(['generate', file, '--project', dir], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^\S+\t\/.*\.png$/m);

    const noKey = await run(['generate', file, '--project', dir], { ARTFACTORY_FAL_BASE_URL: fake.baseUrl });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /FAL_KEY/);

    const wrongKey = await run(['generate', file, '--project', dir], { ...env, FAL_KEY: 'fal-wrong-key-000000000000' });
    assert.notEqual(wrongKey.code, 0);
    assert.ok(!wrongKey.stderr.includes('fal-wrong-key'), 'the key never reaches stderr');

    const bad = path.join(dir, 'params', 'bad.art.json');
    await fs.writeFile(bad, '{\n  "provider": "fal",\n  "model": "fal-ai/flux/schnell",\n  "input": { "prompt": 5 }\n}');
    const invalid = await run(['generate', bad, '--project', dir], env);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /bad\.art\.json:4:\d+: error: /);
    assert.match(invalid.stderr, /nothing was sent/);

    const failing = path.join(dir, 'params', 'fail.art.json');
    await fs.writeFile(failing, JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'please [fail]', duration_ms: 50 } }));
    const failed = await run(['generate', failing, '--project', dir]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed/);

    assert.equal((await run(['nonsense'])).code, 2);
    assert.equal((await run(['list', '--project', os.tmpdir()])).code, 2);
  } finally {
    await fake.close();
  }
});

test('verify passes on a sound project and fails, naming the row, on a crafted one; backup and restore round-trip from scripts', async () => {
  const dir = await project();
  const file = path.join(dir, 'params', 'one.art.json');
  await fs.writeFile(file, JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'verify fox', width: 256, height: 256, duration_ms: 100 }, count: 2 }));
  assert.equal((await run(['generate', file, '--project', dir])).code, 0);
  const sound = await run(['verify', '--project', dir, '--json']);
  assert.equal(sound.code, 0, sound.stderr);
  const report = JSON.parse(sound.stdout) as { ok: boolean; rows: number; verified: number; sidecars: number };
  assert.deepEqual([report.ok, report.rows, report.verified, report.sidecars], [true, 2, 2, 2]);

  const zip = path.join(path.dirname(dir), 'backup.zip');
  // Bytes of journal records past its header (the rows not yet folded into index.db).
  const unfolded = () => {
    const file = path.join(dir, '.artfactory', 'index.db.journal');
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      return size - (readHeader(fd, size)?.end ?? 0);
    } finally {
      closeSync(fd);
    }
  };
  assert.ok(unfolded() > 0, "the generated products' rows are in the change journal");
  const backedUp = await run(['backup', '--project', dir, '--out', zip]);
  assert.equal(backedUp.code, 0, backedUp.stderr);
  assert.equal(unfolded(), 0, 'the backup folded the journal into index.db first');
  const target = path.join(path.dirname(dir), 'restored');
  const restored = await run(['restore', zip, '--to', target, '--json']);
  assert.equal(restored.code, 0, restored.stderr);
  const r = JSON.parse(restored.stdout) as { ok: boolean; verified: number; restored: { dir: string } };
  assert.deepEqual([r.ok, r.verified, r.restored.dir], [true, 2, target]);

  // One product's file changed behind the database's back: verify says which, and exits 1.
  const products = JSON.parse((await run(['list', '--project', dir, '--json'])).stdout).products as { id: string; file: string }[];
  await fs.appendFile(path.join(dir, products[0].file), 'tampered');
  const tampered = await run(['verify', '--project', dir]);
  assert.equal(tampered.code, 1);
  assert.match(tampered.stderr, new RegExp(`row ${products[0].id}: its file is \\d+ bytes, the record says \\d+`));
  assert.match(tampered.stdout, /2 rows, 2 sidecars checked: 1 products verified, 1 problem, 1 in quarantine\./);
  assert.equal(JSON.parse((await run(['list', '--project', dir, '--json'])).stdout).total, 1, 'the quarantined row is not listed');
  assert.equal((await run(['restore', zip, '--to', target])).code, 1, 'a folder that is not empty is refused');
});
