// A project folder is untrusted input. Each attack below is one crafted file (a database row,
// a sidecar, a job row, a planted schema, a backup, an image, a template), put where a
// colleague's folder, a clone or a restored backup could put it. For each, what must hold:
// the file outside the project survives, the process finishes (bounded time), the gallery
// paints, the bomb is refused, and the reason is clear. One fault is counted per distinct case.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ArchiveError, backupProject, restoreProject } from '../../src/archive/backup.ts';
import { makeContactSheet } from '../../src/archive/contactSheet.ts';
import { exportProducts } from '../../src/archive/export.ts';
import { importImages } from '../../src/archive/import.ts';
import { verifyProject } from '../../src/archive/verify.ts';
import { main as cli } from '../../src/cli/main.ts';
import { Engine } from '../../src/engine/engine.ts';
import { parseParamFile, validateInput } from '../../src/engine/paramFile.ts';
import { createSchemaCache, modelSchemaPath, slug } from '../../src/engine/schemas.ts';
import { instantiateTemplate, templateVariables } from '../../src/engine/templates.ts';
import { redact } from '../../src/providers/errors.ts';
import { createBuiltinRegistry } from '../../src/providers/index.ts';
import { createProject, layoutOf, openProjectDb, ProductStore, rebuildIndex } from '../../src/storage/index.ts';
import type { JobRecord, ProductRecord, ProjectDb } from '../../src/storage/types.ts';
import { GalleryController } from '../../src/webviews/galleryController.ts';
import { InitialState } from '../../src/webviews/protocol.ts';
import { fastContext } from '../engine/helpers.ts';
import { product } from '../storage/helpers.ts';
import { FaultReport, guardUnhandled, readDbRaw, snapshot, diffSnapshots, within } from './helpers.ts';
import { deflatedOnce, makeZip, MANIFEST_ENTRY, type RawEntry } from './zips.ts';

const report = new FaultReport('untrusted');
const guard = guardUnhandled();
after(() => {
  report.write();
  guard.dispose();
});

const SECRET = 'root:x:0:0:the outside file\n';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** One attack: counted once, survived only when every check in it held. */
async function attack(category: string, name: string, body: () => Promise<string | void>): Promise<void> {
  const c = report.category(category);
  c.injected++;
  const outcome = await body();
  guard.check();
  c.survived++;
  c.notes = { ...c.notes, [name]: outcome ?? 'held' };
}

/** A project beside an outside folder holding a file an attack would reach for. */
async function world(name: string): Promise<{ root: string; dir: string; victim: string; db: ProjectDb; store: ProductStore; close(): Promise<void> }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `af-untrusted-${name}-`));
  const dir = path.join(root, 'project');
  await createProject(dir, name);
  const victim = path.join(root, 'victim');
  await fs.mkdir(path.join(victim, 'folder'), { recursive: true });
  await fs.writeFile(path.join(victim, 'secret.txt'), SECRET);
  await fs.writeFile(path.join(victim, 'folder', 'inside.txt'), SECRET);
  const db = await openProjectDb(dir, { backups: 0, saveDelayMs: 5 });
  const w = {
    root,
    dir,
    victim,
    db,
    store: new ProductStore(dir, db),
    /** Closes the database open now (attacks reopen it). */
    close: () => w.db.close(),
  };
  return w;
}

async function png(w = 32, h = 32, r = 10): Promise<Buffer> {
  return sharp({ create: { width: w, height: h, channels: 3, background: { r, g: 120, b: 200 } } }).png().toBuffer();
}

async function realProduct(store: ProductStore, id: string): Promise<ProductRecord> {
  const bytes = await png(24, 24, id.length * 9);
  return store.put(product(1, { id, file: `products/2026/05/06/${id}.png`, bytes: bytes.length, sha256: sha(bytes), prompt: `real ${id}` }), bytes);
}

function controllerFor(dir: string, db: ProjectDb, logs: string[] = []): GalleryController {
  return new GalleryController({
    projects: () => [{ dir, name: 'P', db: async () => db }],
    scope: dir,
    toUri: (abs) => `vscode-resource:${abs}`,
    actions: { run: async () => undefined, delete: async () => ({ deleted: [] }), undoDelete: async () => undefined },
    post: () => undefined,
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
  });
}

/** Every way the product's file could be opened, moved, exported or shown: each must refuse. */
async function everyUseRefuses(w: Awaited<ReturnType<typeof world>>, row: ProductRecord): Promise<void> {
  const before = await snapshot(w.victim);
  // Open File / Reveal resolve through the path rule.
  await assert.rejects(
    (async () => w.store.paths.resolve(layoutOf(row).file, 'products', { kind: 'file', mustExist: true }))(),
    /refused/,
    'open/reveal',
  );
  // Delete.
  const trashed = await w.store.trash([row]);
  assert.deepEqual(trashed.trashed, [], 'delete moved nothing');
  assert.match(trashed.refused[0]?.reason ?? '', /refused/);
  // Export: nothing with the outside file's content lands in the target.
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'af-untrusted-export-'));
  const exp = await exportProducts([{ projectDir: w.dir, product: row }], out, { format: 'original' });
  assert.equal(exp.written.length, 0);
  assert.match(exp.failed[0]?.reason ?? '', /refused/);
  assert.deepEqual(await fs.readdir(out), []);
  // A contact sheet shows an empty cell, never the file.
  const sheet = await makeContactSheet([{ projectDir: w.dir, product: row }], { format: 'png' });
  assert.equal(sheet.included, 1);
  // Thumbnails are never made from it.
  await assert.rejects(w.store.thumbnail(row), /refused/);
  // The gallery leaves it out and says why in the log.
  const logs: string[] = [];
  const state = await controllerFor(w.dir, w.db, logs).initialState({ status: 'all', sort: 'newest' }, { tileSize: 180, fit: false }, 'P');
  assert.ok(!state.page.tiles.some((t) => t.id === row.id), 'no tile for it');
  assert.ok(InitialState.safeParse(state).success, 'the gallery still paints');
  assert.deepEqual(diffSnapshots(before, await snapshot(w.victim)), [], 'the outside files are untouched');
  assert.equal(await fs.readFile(path.join(w.victim, 'secret.txt'), 'utf8'), SECRET);
}

test('crafted rows, sidecars and job rows never reach outside the project', { timeout: 300_000 }, async () => {
  const CAT = 'crafted rows, sidecars and job rows';
  const w = await world('rows');
  try {
    const a = await realProduct(w.store, 'AREAL');
    const craft = async (r: ProductRecord) => {
      await w.db.putProduct(r);
      return r;
    };
    await attack(CAT, 'a row whose file is ../../victim/secret.txt', async () => everyUseRefuses(w, await craft({ ...a, id: 'ROUT', file: '../../victim/secret.txt' })));
    await attack(CAT, 'a row whose file is an outside folder', async () => everyUseRefuses(w, await craft({ ...a, id: 'RDIRO', file: '../victim/folder' })));
    await attack(CAT, 'a row whose file is a folder of the project (products/2026)', async () => {
      await everyUseRefuses(w, await craft({ ...a, id: 'RDIR', file: 'products/2026' }));
      assert.ok((await fs.stat(path.join(w.dir, 'products', '2026', '05', '06', 'AREAL.png'))).isFile(), 'the folder stays with every product in it');
    });
    await attack(CAT, 'a product file that is a symlink to an outside file', async () => {
      await fs.symlink(path.join(w.victim, 'secret.txt'), path.join(w.dir, 'products', '2026', '05', '06', 'RSYM.png'));
      await everyUseRefuses(w, await craft({ ...a, id: 'RSYM', file: 'products/2026/05/06/RSYM.png' }));
      return 'export wrote nothing; the link stays a link';
    });
    await attack(CAT, "a row that names another product's file", async () => {
      const b = await craft({ ...a, id: 'ROTHER', file: a.file });
      const before = await snapshot(path.join(w.dir, 'products'));
      const res = await w.store.trash([b]);
      assert.deepEqual(res.trashed, []);
      assert.deepEqual(diffSnapshots(before, await snapshot(path.join(w.dir, 'products'))), [], "the other product's file and sidecar stay");
      assert.ok(await w.db.getProduct('AREAL'));
    });
    await attack(CAT, 'a symlinked day folder: the engine cannot write through it', async () => {
      await fs.symlink(w.victim, path.join(w.dir, 'products', '2026', '09'));
      const bytes = await png();
      await assert.rejects(w.store.put(product(2, { id: 'RVIA', file: 'products/2026/09/01/RVIA.png' }), bytes), /symbolic link/);
      assert.deepEqual((await fs.readdir(w.victim)).sort(), ['folder', 'secret.txt']);
    });
    await attack(CAT, 'a symlinked .artfactory folder: the database is not opened through it', async () => {
      const other = await world('linked');
      await other.close();
      await fs.rm(path.join(other.dir, '.artfactory'), { recursive: true });
      await fs.symlink(other.victim, path.join(other.dir, '.artfactory'));
      await assert.rejects(openProjectDb(other.dir), /symbolic link/);
      assert.deepEqual((await fs.readdir(other.victim)).sort(), ['folder', 'secret.txt'], 'no database or backup written outside');
    });
    await attack(CAT, 'a queued job row whose id climbs out: never run, nothing written', async () => {
      const now = new Date().toISOString();
      const evil: JobRecord = { id: '../../../victim/x', provider: 'sample', model: 'sample/gradient', input: { prompt: 'x', width: 64, height: 64 }, state: 'queued', productIds: [], attempts: 0, createdAt: now, updatedAt: now };
      await w.db.putJob(evil);
      const logs: string[] = [];
      const engine = new Engine({ projectDir: w.dir, db: w.db, providers: createBuiltinRegistry(() => fastContext()), log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) } });
      const resumed = await engine.resume();
      engine.dispose();
      await engine.idle();
      assert.equal(resumed, 0);
      assert.ok(logs.some((l) => /not resumed/.test(l)), logs.join(' | '));
      assert.deepEqual((await fs.readdir(w.victim)).sort(), ['folder', 'secret.txt']);
    });
    await attack(CAT, 'rows whose JSON is broken or claims another id: the gallery paints the rest', async () => {
      // Written with raw SQL, as a crafted database would hold them.
      await w.db.putProduct({ ...a, id: 'RJSON' });
      await w.db.flush();
      await w.db.close();
      const SQL = await (await import('sql.js')).default();
      const file = path.join(w.dir, '.artfactory', 'index.db');
      const raw = new SQL.Database(await fs.readFile(file));
      raw.run("UPDATE products SET json = 'not json' WHERE id = 'RJSON'");
      raw.run('INSERT INTO products (id, job_id, created_at, provider, model, kind, json) VALUES (?,?,?,?,?,?,?)', ['RCLAIM', 'J', '2030-01-01', 'x', 'y', 'image', JSON.stringify({ ...a, id: 'AREAL' })]);
      await fs.writeFile(file, raw.export());
      raw.close();
      w.db = await openProjectDb(w.dir, { backups: 0, saveDelayMs: 5 });
      w.store = new ProductStore(w.dir, w.db);
      const state = await controllerFor(w.dir, w.db).initialState({ status: 'all', sort: 'newest' }, { tileSize: 180, fit: false }, 'P');
      assert.ok(InitialState.safeParse(state).success);
      assert.ok(state.page.tiles.some((t) => t.id === 'AREAL'), 'the real product paints');
      assert.equal(await w.db.getProduct('RCLAIM'), undefined, "a row cannot speak as another product");
    });
    await attack(CAT, 'verify lists and quarantines every crafted row; the gallery no longer offers them', async () => {
      const r = await verifyProject(w.dir, { db: w.db });
      const bad = r.quarantined.map((q) => q.id).sort();
      assert.deepEqual(bad, ['RCLAIM', 'RDIR', 'RDIRO', 'RJSON', 'ROTHER', 'ROUT', 'RSYM']);
      assert.equal(r.ok, false);
      assert.ok(r.problems.some((p) => p.kind === 'job' && p.subject.includes('victim')), 'the crafted job row is listed');
      assert.deepEqual((await w.db.queryProducts({})).items.map((p) => p.id), ['AREAL']);
      return `${bad.length} rows quarantined`;
    });
    await attack(CAT, "a sidecar that names another product's file", async () => {
      const sidecar = path.join(w.dir, 'products', '2026', '05', '06', 'SIDE.json');
      await fs.writeFile(sidecar, JSON.stringify({ ...a, id: 'SIDE', file: a.file }));
      const skipped: string[] = [];
      await w.db.close();
      await rebuildIndex(w.dir, { backups: 0, onSkip: (f, why) => skipped.push(`${path.basename(f)}: ${why}`) });
      w.db = await openProjectDb(w.dir, { backups: 0, saveDelayMs: 5 });
      w.store = new ProductStore(w.dir, w.db);
      assert.equal(await w.db.getProduct('SIDE'), undefined, 'not indexed');
      assert.ok(skipped.some((s) => /^SIDE\.json: .*not named after the product/.test(s)), skipped.join(' | '));
      assert.ok(!skipped.some((s) => /: \[$/.test(s)), 'a reason, not "["');
      await fs.rm(sidecar);
      return skipped.find((s) => s.startsWith('SIDE'));
    });
    await attack(CAT, 'a sidecar that is not a sidecar (a zod failure) prints its reason', async () => {
      const bad = path.join(w.dir, 'products', '2026', '05', '06', 'BAD.json');
      await fs.writeFile(bad, JSON.stringify({ id: 'BAD', file: 'products/2026/05/06/BAD.png', rating: 9 }));
      const lines: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((c: string | Uint8Array) => (lines.push(String(c)), true)) as typeof process.stderr.write;
      await w.db.close();
      try {
        assert.equal(await cli(['rebuild-index', '--project', w.dir]), 0);
      } finally {
        process.stderr.write = write;
        w.db = await openProjectDb(w.dir, { backups: 0, saveDelayMs: 5 });
        w.store = new ProductStore(w.dir, w.db);
      }
      const line = lines.find((l) => l.includes('BAD.json')) ?? '';
      assert.match(line, /BAD\.json: "[\w.]+" /, line);
      await fs.rm(bad);
      return line.trim().replace(/^.*BAD\.json/, 'BAD.json').slice(0, 100);
    });
    assert.equal(await fs.readFile(path.join(w.victim, 'secret.txt'), 'utf8'), SECRET);
  } finally {
    await w.close();
  }
});

test('planted schemas are data: bounded patterns, no hang, and the reason a pattern was not used', { timeout: 300_000 }, async () => {
  const CAT = 'planted schemas';
  const w = await world('schemas');
  await w.close();
  const plant = async (provider: string, model: string, schema: unknown, file = path.join(w.dir, '.artfactory', 'schemas', slug(provider), `${slug(model)}.input.json`)) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, typeof schema === 'string' ? schema : JSON.stringify(schema));
    return file;
  };
  const runCli = async (args: string[]) => {
    let err = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
    const started = performance.now();
    try {
      const code = await within(cli(args), 60_000, `art-factory ${args[0]}`);
      return { code, err, ms: performance.now() - started };
    } finally {
      process.stderr.write = write;
    }
  };
  const prompt = `${'a'.repeat(34)}!`;
  await attack(CAT, '^(a+)+$ with 34 a and a ! through art-factory generate', async () => {
    await plant('sample', 'sample/gradient', { type: 'object', properties: { prompt: { type: 'string', pattern: '^(a+)+$' } } });
    const file = path.join(w.dir, 'params', 'redos.art.json');
    await fs.writeFile(file, JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt } }, null, 2));
    const r = await runCli(['generate', file, '--project', w.dir]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /"prompt" must match pattern "\^\(a\+\)\+\$"/);
    assert.ok(r.ms < 20_000, `${r.ms} ms`);
    return `exit 2 in ${Math.round(r.ms)} ms: ${r.err.split('\n')[0].replace(/^.*error: /, '')}`;
  });
  await attack(CAT, 'a lookahead pattern (not linear) is not used, and the warning says why', async () => {
    const started = performance.now();
    const parsed = parseParamFile(JSON.stringify({ provider: 'fal', model: 'x/y', input: { prompt } }));
    const d = validateInput(parsed, { type: 'object', properties: { prompt: { type: 'string', pattern: '^(?=(a+)+$)a' } } });
    const ms = performance.now() - started;
    assert.equal(d.length, 1);
    assert.equal(d[0].severity, 'warning');
    assert.match(d[0].message, /not used for checking.*lookahead, lookbehind and backreferences are not supported/);
    assert.ok(ms < 2000, `${ms} ms`);
    return d[0].message.slice(0, 160);
  });
  await attack(CAT, 'uniqueItems over 100,000 objects (quadratic) is left out, with a note', async () => {
    const text = JSON.stringify({ provider: 'fal', model: 'x/y', input: { list: Array.from({ length: 100_000 }, () => ({})) } });
    const started = performance.now();
    const d = validateInput(parseParamFile(text), { type: 'object', properties: { list: { type: 'array', uniqueItems: true } } });
    const ms = performance.now() - started;
    assert.ok(ms < 5000, `${ms} ms`);
    assert.ok(d.some((x) => /distinct list items/.test(x.message)), JSON.stringify(d));
    return `${Math.round(ms)} ms`;
  });
  await attack(CAT, 'a 6 MB schema file is not read (the provider is asked instead)', async () => {
    await plant('sample', 'sample/huge', `{"type":"object","description":"${'x'.repeat(6 * 1024 * 1024)}"}`);
    assert.equal(await createSchemaCache(w.dir).get('sample', 'sample/huge'), undefined);
  });
  await attack(CAT, 'a schema file that is a symlink to /dev/zero is refused, not read forever', async () => {
    const file = path.join(w.dir, '.artfactory', 'schemas', slug('sample'), `${slug('sample/zero')}.input.json`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.symlink('/dev/zero', file);
    assert.equal(await within(createSchemaCache(w.dir).get('sample', 'sample/zero'), 10_000, 'reading a linked schema'), undefined);
  });
  await attack(CAT, 'a schema nested 5,000 levels deep is refused, not recursed into', async () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 5000; i++) deep = { type: 'array', items: deep };
    const d = validateInput(parseParamFile(JSON.stringify({ provider: 'fal', model: 'x/y', input: { list: [] } })), { type: 'object', properties: { list: deep } });
    assert.match(d[0]?.message ?? '', /could not be used for checking \(it nests deeper than 64 levels\)/);
  });
  await attack(CAT, 'the global schema cache is read before a planted one', async () => {
    const globalDir = path.join(w.root, 'globalStorage');
    await plant('sample', 'sample/pref', { type: 'object', properties: { prompt: { type: 'string', pattern: '^planted$' } } });
    await plant('sample', 'sample/pref', { type: 'object', properties: { prompt: { type: 'string' } } }, path.join(globalDir, 'schemas', slug('sample'), `${slug('sample/pref')}.input.json`));
    const got = await createSchemaCache(w.dir, { globalDir }).get('sample', 'sample/pref');
    assert.deepEqual(got, { type: 'object', properties: { prompt: { type: 'string' } } });
  });
  await attack(CAT, 'verify flags an envelope whose pattern would hang a backtracking engine', async () => {
    const rel = modelSchemaPath('fal', 'evil/model');
    await plant('fal', 'evil/model', { type: 'object', properties: { input: { type: 'object', properties: { prompt: { type: 'string', pattern: '^(a+)+$' } } } } }, path.join(w.dir, ...rel.split('/')));
    const r = await verifyProject(w.dir, { quarantine: false });
    const found = r.problems.find((p) => p.kind === 'schema' && p.subject === rel);
    assert.match(found?.problem ?? '', /exponential time in a backtracking engine/);
    assert.ok(r.problems.some((p) => p.kind === 'schema' && /symbolic link/.test(p.problem)), 'the /dev/zero link is listed');
    return found?.problem.slice(0, 120);
  });
});

test('hostile backups: bombs refused before anything is written, failures remove only what the restore made', { timeout: 300_000 }, async () => {
  const CAT = 'hostile backups';
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-untrusted-zip-'));
  const zipAt = async (name: string, entries: RawEntry[]) => {
    const file = path.join(root, `${name}.zip`);
    await fs.writeFile(file, makeZip(entries));
    return file;
  };
  const refused = async (file: string, target: string, kind: ArchiveError['kind'], re: RegExp, limits?: Parameters<typeof restoreProject>[2]) => {
    const started = performance.now();
    await assert.rejects(restoreProject(file, target, limits), (e: unknown) => e instanceof ArchiveError && e.kind === kind && re.test(e.message));
    return performance.now() - started;
  };
  await attack(CAT, 'a 2 MB zip that unpacks to 2 GB (100 × 20 MiB of zeros)', async () => {
    const chunk = deflatedOnce(Buffer.alloc(20 * 1024 * 1024));
    const file = await zipAt('bomb', [MANIFEST_ENTRY, ...Array.from({ length: 100 }, (_, i) => ({ name: `products/z${i}.png`, raw: chunk }))]);
    const size = (await fs.stat(file)).size;
    assert.ok(size < 2.2 * 1024 * 1024, `${size} bytes`);
    const target = path.join(root, 'bomb-target');
    const ms = await refused(file, target, 'too-large', /zip bomb/);
    await assert.rejects(fs.access(target), 'nothing was created');
    return `${(size / 1024 / 1024).toFixed(2)} MB zip refused in ${Math.round(ms)} ms, nothing written`;
  });
  await attack(CAT, 'a restore that fails midway keeps the empty folder the user made, and removes what it wrote', async () => {
    const good = await png();
    const broken = { bytes: Buffer.from('this is not deflate data at all, not even close'), method: 8 as const, crc: 0, size: 4096 };
    const file = await zipAt('broken', [MANIFEST_ENTRY, { name: 'products/2026/01/01/a.png', data: good }, { name: 'products/2026/01/02/b.png', raw: broken }]);
    const target = path.join(root, 'made-by-user');
    await fs.mkdir(target);
    await assert.rejects(restoreProject(file, target), ArchiveError);
    assert.ok((await fs.stat(target)).isDirectory(), 'the folder the user made is still there');
    assert.deepEqual(await fs.readdir(target), [], 'and holds nothing the restore wrote');
  });
  await attack(CAT, 'more entries than the limit', async () => {
    const file = await zipAt('many', [MANIFEST_ENTRY, ...Array.from({ length: 60 }, (_, i) => ({ name: `params/p${i}.art.json`, data: Buffer.from('{}') }))]);
    await refused(file, path.join(root, 'many-target'), 'too-large', /entries/, { limits: { maxEntries: 50 } });
  });
  await attack(CAT, 'an entry over the per-file limit', async () => {
    const file = await zipAt('big', [MANIFEST_ENTRY, { name: 'products/big.mp4', data: Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7919) % 251)), stored: true }]);
    await refused(file, path.join(root, 'big-target'), 'too-large', /at most 2 MB/, { limits: { maxEntryBytes: 2 * 1024 * 1024 } });
  });
  await attack(CAT, 'more than the free disk space', async () => {
    const file = await zipAt('space', [MANIFEST_ENTRY, { name: 'params/a.art.json', data: Buffer.from('{}') }]);
    await refused(file, path.join(root, 'space-target'), 'no-space', /free/, { limits: { reserveBytes: Number.MAX_SAFE_INTEGER / 2 } });
  });
  await attack(CAT, 'a symbolic link entry', async () => {
    const file = await zipAt('link', [MANIFEST_ENTRY, { name: 'products/x.png', data: Buffer.from('/etc/passwd'), stored: true, mode: 0o120777 }]);
    await refused(file, path.join(root, 'link-target'), 'unsafe-entry', /symbolic link/);
  });
  await attack(CAT, 'the same entry twice', async () => {
    const file = await zipAt('twice', [MANIFEST_ENTRY, { name: 'params/a.art.json', data: Buffer.from('{}') }, { name: 'params/a.art.json', data: Buffer.from('{"evil":1}') }]);
    await refused(file, path.join(root, 'twice-target'), 'unsafe-entry', /twice/);
  });
  await attack(CAT, 'a backup whose database row points outside: restored, verified, quarantined', async () => {
    const w = await world('backup');
    const a = await realProduct(w.store, 'BREAL');
    await w.db.putProduct({ ...a, id: 'BOUT', file: '../../victim/secret.txt' });
    await w.db.flush();
    await w.close();
    const zip = path.join(root, 'db-row.zip');
    await backupProject(w.dir, zip);
    const target = path.join(w.root, 'restored');
    const r = await restoreProject(zip, target);
    assert.equal(r.verify.ok, false);
    assert.deepEqual(r.verify.quarantined.map((q) => q.id), ['BOUT']);
    assert.equal(r.verify.verified, 1);
    const db = await openProjectDb(target, { backups: 0 });
    try {
      assert.deepEqual((await db.queryProducts({})).items.map((p) => p.id), ['BREAL']);
    } finally {
      await db.close();
    }
    assert.equal(await fs.readFile(path.join(w.victim, 'secret.txt'), 'utf8'), SECRET);
    return r.verify.quarantined[0].reason.slice(0, 120);
  });
  await attack(CAT, 'art-factory restore of the bomb exits 1 with the reason', async () => {
    let err = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await cli(['restore', path.join(root, 'bomb.zip'), '--to', path.join(root, 'cli-target')]);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 1);
    assert.match(err, /zip bomb/);
    await assert.rejects(fs.access(path.join(root, 'cli-target')));
  });
});

test('values that would blank the gallery are cut to the caps; the gallery paints', { timeout: 120_000 }, async () => {
  const CAT = 'values that would blank the gallery';
  const w = await world('caps');
  try {
    const a = await realProduct(w.store, 'CREAL');
    const model = `vendor/${'m'.repeat(1500)}`;
    const crafted: [string, Partial<ProductRecord>][] = [
      ['a 1,500-character model name', { model }],
      ['a prompt of 1 MB', { prompt: 'p'.repeat(1024 * 1024) }],
      ['a rating of 9 and a favourite of "yes"', { rating: 9, favorite: 'yes' as unknown as boolean }],
      ['a width of "abc" and a height of -5', { width: 'abc' as unknown as number, height: -5 }],
      ['a date of 500 characters', { createdAt: `2030-${'9'.repeat(495)}` }],
      ['tags that are not a list, a kind that is not a kind', { tags: 'x' as unknown as string[], kind: 'document' as ProductRecord['kind'] }],
      ['10,000 tags of 1,000 characters', { tags: Array.from({ length: 10_000 }, (_, i) => `${i}${'t'.repeat(1000)}`) }],
      ['a provider of 10,000 characters', { provider: 'q'.repeat(10_000) }],
    ];
    for (const [i, [name, over]] of crafted.entries()) {
      await attack(CAT, name, async () => {
        const id = `CX${i}`;
        const bytes = await png(20, 20, i * 20);
        await w.store.put({ ...a, ...over, id, file: `products/2026/05/06/${id}.png`, bytes: bytes.length, sha256: sha(bytes) }, bytes);
        const c = controllerFor(w.dir, w.db);
        const state = await c.initialState({ status: 'all', sort: 'newest' }, { tileSize: 180, fit: false }, 'P');
        assert.ok(InitialState.safeParse(state).success, `${name}: the initial state validates`);
        const tile = state.page.tiles.find((t) => t.id === id);
        assert.ok(tile, `${name}: the tile is there`);
        assert.ok(state.page.tiles.some((t) => t.id === 'CREAL'));
        const posted: unknown[] = [];
        const c2 = new GalleryController({ projects: () => [{ dir: w.dir, name: 'P', db: async () => w.db }], scope: w.dir, toUri: (p) => `u:${p}`, actions: { run: async () => undefined, delete: async () => ({ deleted: [] }), undoDelete: async () => undefined }, post: (m) => posted.push(m), log: { info() {}, warn() {}, error() {} } });
        await c2.handle({ type: 'request', id: 1, method: 'getProduct', params: { id } });
        const reply = posted[0] as { ok: boolean; result: { record: Record<string, unknown> } };
        assert.equal(reply.ok, true, JSON.stringify(reply).slice(0, 300));
        if (over.model) {
          assert.ok(tile.model.length <= 300 && tile.model.endsWith('…'), 'the tile shows it cut');
          assert.equal(reply.result.record.model, model, 'the detail shows it whole');
        }
        return `tile ${JSON.stringify(tile).length} chars`;
      });
    }
  } finally {
    await w.close();
  }
});

/** A PNG of w×h RGBA pixels, all zero, written without decoding anything (deflate of zero rows). */
function zeroPng(w: number, h: number): Buffer {
  const row = Buffer.alloc(1 + w * 4);
  const raw = Buffer.alloc(row.length * h);
  const idat = deflateSync(raw, { level: 9 });
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

test('a 16383×16383 PNG is refused from its header, before any decoding', { timeout: 120_000 }, async () => {
  const CAT = 'pixel bombs';
  const w = await world('pixels');
  try {
    await attack(CAT, '16383×16383 RGBA PNG of about 1 MB', async () => {
      const file = path.join(w.root, 'huge.png');
      await fs.writeFile(file, zeroPng(16383, 16383));
      const size = (await fs.stat(file)).size;
      const rss = process.memoryUsage().rss;
      const started = performance.now();
      const r = await importImages(w.dir, w.db, [file], { makeThumbnails: false });
      const ms = performance.now() - started;
      const grew = (process.memoryUsage().rss - rss) / 1024 / 1024;
      assert.equal(r.imported, 0);
      assert.equal(r.skipped[0]?.kind, 'too-many-pixels');
      assert.match(r.skipped[0].reason, /16383×16383 pixels \(268 megapixels\).*over the 100-megapixel budget.*artFactory\.import\.maxMegapixels/);
      assert.ok(grew < 300, `memory grew ${Math.round(grew)} MB`);
      return `${(size / 1024 / 1024).toFixed(1)} MB file refused in ${Math.round(ms)} ms, memory +${Math.round(grew)} MB`;
    });
  } finally {
    await w.close();
  }
});

test('small leaks: {{__proto__}} is a variable like any other; a key echoed without its prefix is redacted', { timeout: 120_000 }, async () => {
  const CAT = 'small leaks';
  await attack(CAT, 'a template variable named {{__proto__}}', async () => {
    const text = '{"input": {"prompt": "{{__proto__}} and {{constructor}}"}}';
    assert.deepEqual(templateVariables(text), ['__proto__', 'constructor']);
    assert.equal(instantiateTemplate(text, new Map([['__proto__', 'a fox'], ['constructor', 'a hen']])), '{"input": {"prompt": "a fox and a hen"}}');
    assert.equal(instantiateTemplate(text, {}), text, 'unknown names stay, never Object.prototype');
  });
  await attack(CAT, 'a fal-… key echoed back without its prefix', async () => {
    const key = 'fal-test-key-0123456789abcdef';
    const echoed = `invalid credentials test-key-0123456789abcdef for ${key}`;
    const out = redact(echoed, [key]);
    assert.ok(!out.includes('test-key-0123456789abcdef') && !out.includes('0123456789abcdef'), out);
    // Through the engine: a failed job's row and the log never hold it.
    const { startFalFake } = await import('../fakes/fal.ts');
    const fake = await startFalFake({ key });
    const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-untrusted-key-')), 'p');
    await createProject(dir, 'Keys');
    const db = await openProjectDb(dir, { backups: 0, saveDelayMs: 5 });
    const logs: string[] = [];
    const registry = createBuiltinRegistry((id) => (id === 'fal' ? { ...fastContext(), getKey: async () => key, baseUrl: fake.baseUrl } : fastContext()));
    const engine = new Engine({ projectDir: dir, db, providers: registry, log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) }, pollIntervalMs: 20, allowLoopbackHttp: true });
    try {
      fake.nextJob({ fail: { status: 500, body: { detail: `the token test-key-0123456789abcdef was refused`, error_type: 'internal' } } });
      const [job] = await engine.submit([{ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'x' } }]);
      const [done] = await within(engine.waitFor([job.id]), 60_000, 'the failing job');
      assert.equal(done.state, 'failed');
      await db.flush();
      const raw = await readDbRaw(path.join(dir, '.artfactory', 'index.db'));
      const row = JSON.stringify(raw.jobs);
      assert.ok(row.includes('redacted'), row.slice(0, 300));
      for (const text of [row, ...logs]) assert.ok(!text.includes('0123456789abcdef'), text.slice(0, 300));
      return done.error?.message.slice(0, 120);
    } finally {
      engine.dispose();
      await engine.idle();
      await db.close();
      await fake.close();
    }
  });
});
