// Crash: a process generating and saving (engine + Sample provider + the fal fake, a real
// Crash: a process generating and saving (engine + Sample provider + the fal fake, a real
// project on disk) while it edits products (ratings, tags, notes) is SIGKILLed at random
// moments 100 times. After every kill, read independently of the product code (raw sql.js and
// our own reading of the journal format, file hashes): the database passes an integrity check,
// every product the child reported durable is there with its file and sidecar and matching
// sha256, the index and the files agree, nothing is duplicated, and every edit whose call
// resolved (the child's EDITED lines, kept here as the record of what was acknowledged) is
// there, field by field. The next child opening the database is the restart; a last child runs
// without a kill and every job ever submitted must then have succeeded, and the products are
// counted against records kept outside the product code: the jobs the child said it submitted
// (with the images each asked for) and the fal fake's log of the outputs it served. The kills
// must have landed in the middle of writes (a database write under its lock, a product or
// thumbnail), and the phases hit are reported.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createProject } from '../../src/storage/index.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { CRASH_FAL_KEY } from './crashChild.ts';
import { FaultReport, readDbRaw, sha256, tempFiles, walkFiles, type RawDb } from './helpers.ts';

const CHILD = path.join(__dirname, 'crashChild.ts');
const ROUNDS = Number(process.env.ARTFACTORY_CRASH_ROUNDS ?? 100);

interface Reported {
  id: string;
  file: string;
  sha256: string;
}

interface Submitted {
  provider: string;
  images: number;
}

type EditField = 'rating' | 'tags' | 'notes';
interface Edit {
  id: string;
  patch: Partial<Record<EditField, unknown>>;
}

/** What the children acknowledged, field by field: the last value each edit call that resolved
 * set (an edit in flight at a kill may or may not have landed; what is found then is adopted). */
class Acknowledged {
  readonly fields = new Map<string, Partial<Record<EditField, unknown>>>();
  count = 0;

  /** Take a killed child's lines; returns the edit that was in flight, if any. */
  take(lines: string[]): Edit | undefined {
    let inFlight: Edit | undefined;
    for (const l of lines) {
      if (l.startsWith('EDITING ')) inFlight = JSON.parse(l.slice(8)) as Edit;
      if (!l.startsWith('EDITED ')) continue;
      const e = JSON.parse(l.slice(7)) as Edit;
      this.fields.set(e.id, { ...this.fields.get(e.id), ...e.patch });
      this.count++;
      inFlight = undefined;
    }
    return inFlight;
  }

  /** Every acknowledged field that the database does not hold; adopts what an in-flight edit
   * left (and says whether it had landed). */
  check(rows: Map<string, Record<string, unknown>>, inFlight: Edit | undefined): { problems: string[]; landed: boolean } {
    const problems: string[] = [];
    for (const [id, fields] of this.fields) {
      const row = rows.get(id);
      for (const [field, want] of Object.entries(fields) as [EditField, unknown][]) {
        const have = row?.[field];
        if (JSON.stringify(have) === JSON.stringify(want)) continue;
        if (inFlight?.id === id && field in inFlight.patch && JSON.stringify(have) === JSON.stringify(inFlight.patch[field])) continue;
        problems.push(`product ${id}: acknowledged ${field} ${JSON.stringify(want)} is lost (the database has ${JSON.stringify(have)})`);
      }
    }
    const row = inFlight && rows.get(inFlight.id);
    const landed = !!row && Object.entries(inFlight.patch).every(([f, v]) => JSON.stringify(row[f]) === JSON.stringify(v));
    if (landed) this.fields.set(inFlight.id, { ...this.fields.get(inFlight.id), ...inFlight.patch });
    return { problems, landed };
  }
}

interface Child {
  pid: number;
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  waitFor(pred: (line: string) => boolean, ms: number): Promise<boolean>;
}

function startChild(dir: string, baseUrl: string, round: number, mode?: 'final'): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, baseUrl, String(round), ...(mode ? [mode] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return {
    pid: child.pid!,
    lines,
    stderr: () => err,
    exited,
    kill: () => child.kill('SIGKILL'),
    waitFor: (pred, ms) =>
      new Promise<boolean>((resolve) => {
        const check = () => {
          if (lines.some(pred)) done(true);
        };
        const done = (v: boolean) => {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(v);
        };
        const timer = setTimeout(() => done(false), ms);
        waiters.add(check);
        void exited.then(() => done(lines.some(pred)));
        check();
      }),
  };
}

/** Where the child was, judged from the last line it printed before the kill. */
function phaseOf(lines: string[]): string {
  const last = lines.at(-1);
  if (!last) return 'starting (before the database opened)';
  if (last === 'open') return 'resuming';
  if (last.startsWith('resumed')) return 'submitting';
  if (last.startsWith('DONE')) return 'job just finished';
  const m = /^log (?:warn |error )?job \S+ (queued|resumed|submitted|stored|succeeded|\[)/.exec(last);
  const word = m?.[1];
  return word === 'stored' ? 'storing products' : word === 'succeeded' ? 'job just finished' : word === '[' ? 'polling' : word === 'queued' ? 'submitting' : word === 'submitted' ? 'polling' : word === 'resumed' ? 'resuming' : 'other';
}

/** Everything that must hold on disk after a kill. Returns the problems and the lost products. */
async function verify(dir: string, reported: Map<string, Reported[]>, final: boolean, edits?: { acknowledged: Acknowledged; inFlight?: Edit }): Promise<{ problems: string[]; lost: number; db?: RawDb; inFlightLanded?: boolean }> {
  const problems: string[] = [];
  let lost = 0;
  const dbFile = path.join(dir, '.artfactory', 'index.db');
  if (!existsSync(dbFile)) {
    if (reported.size > 0) problems.push('the database file is gone');
    return { problems, lost: [...reported.values()].flat().length };
  }
  let db: RawDb;
  try {
    db = await readDbRaw(dbFile);
  } catch (e) {
    return { problems: [`the database does not open: ${String(e)}`], lost: [...reported.values()].flat().length };
  }
  if (db.ok !== 'ok') problems.push(`integrity check: ${db.ok}`);
  const rows = new Map(db.products.map((p) => [p.id, p.record]));
  const jobs = new Map(db.jobs.map((j) => [j.id, j]));
  // 1. Every product reported durable: row, file, sidecar, all with the reported sha256.
  for (const [jobId, products] of reported) {
    if (jobs.get(jobId)?.state !== 'succeeded') problems.push(`job ${jobId} was reported done but is ${jobs.get(jobId)?.state ?? 'missing'}`);
    for (const p of products) {
      const why: string[] = [];
      const row = rows.get(p.id);
      if (!row) why.push('no row');
      else if (row.sha256 !== p.sha256) why.push('row sha256 differs');
      const file = path.join(dir, ...p.file.split('/'));
      const bytes = await fs.readFile(file).catch(() => undefined);
      if (!bytes) why.push('no file');
      else if (sha256(bytes) !== p.sha256) why.push('file sha256 differs');
      const sidecar = await fs
        .readFile(file.replace(/\.[^./]+$/, '.json'), 'utf8')
        .then((t) => JSON.parse(t) as Record<string, unknown>)
        .catch(() => undefined);
      if (!sidecar) why.push('no readable sidecar');
      else if (sidecar.id !== p.id || sidecar.sha256 !== p.sha256) why.push('sidecar differs');
      if (why.length) {
        lost++;
        problems.push(`product ${p.id} (reported done): ${why.join(', ')}`);
      }
    }
  }
  // 2. The index and the files agree, and nothing is duplicated.
  const seen = new Map<string, string>();
  for (const p of db.products) {
    const key = `${p.jobId}#${String(p.record.outputIndex)}`;
    if (seen.has(key)) problems.push(`duplicate product for ${key}: ${seen.get(key)} and ${p.id}`);
    seen.set(key, p.id);
    const file = path.join(dir, ...String(p.record.file).split('/'));
    const bytes = await fs.readFile(file).catch(() => undefined);
    if (!bytes || sha256(bytes) !== p.record.sha256) problems.push(`row ${p.id}: its file is ${bytes ? 'different' : 'missing'}`);
    if (!existsSync(file.replace(/\.[^./]+$/, '.json'))) problems.push(`row ${p.id}: no sidecar`);
  }
  const files = (await walkFiles(path.join(dir, 'products'))).filter((f) => !/\.tmp-/.test(f));
  const media = files.filter((f) => !f.endsWith('.json'));
  const sidecars = new Set(files.filter((f) => f.endsWith('.json')));
  for (const f of media) {
    const id = path.basename(f).replace(/\.[^.]+$/, '');
    const hasSidecar = sidecars.has(f.replace(/\.[^./]+$/, '.json'));
    if (rows.has(id) && hasSidecar) continue;
    // A file without its sidecar or row is only allowed for a job that was interrupted
    // between the writes (the resumed job writes the same product again).
    const jobId = id.replace(/-\d+$/, '');
    const state = jobs.get(jobId)?.state;
    if (final || state === 'succeeded') problems.push(`${f} has no ${hasSidecar ? 'row' : 'sidecar'} (job ${state ?? 'missing'})`);
  }
  for (const j of db.jobs) {
    if (j.state !== 'succeeded') continue;
    const ids = (j.record.productIds as string[] | undefined) ?? [];
    if (ids.length === 0) problems.push(`job ${j.id} succeeded without products`);
    for (const id of ids) if (!rows.has(id)) problems.push(`job ${j.id} succeeded but product ${id} has no row`);
  }
  // 3. Every acknowledged rating, tag and note.
  const edited = edits?.acknowledged.check(rows, edits.inFlight);
  problems.push(...(edited?.problems ?? []));
  if (final) {
    for (const j of db.jobs) if (j.state !== 'succeeded') problems.push(`job ${j.id} ended ${j.state}: ${JSON.stringify(j.record.error ?? null)}`);
    if (media.length !== db.products.length) problems.push(`${media.length} product files but ${db.products.length} rows`);
  }
  return { problems, lost, db, inFlightLanded: edited?.landed };
}

/** A PNG without its text chunks (the engine writes its parameters into every product): the
 * image itself, read here by walking the chunks, not by the product code. */
function pngImage(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  const kept: Buffer[] = [b.subarray(0, 8)];
  for (let at = 8; at + 12 <= b.length; ) {
    const len = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (!['tEXt', 'iTXt', 'zTXt'].includes(type)) kept.push(b.subarray(at, at + 12 + len));
    at += 12 + len;
  }
  return Buffer.concat(kept);
}

/** The products counted against records the product code did not write: every job the child
 * reported submitted has exactly the images it asked for, and every fal product is an output
 * the fake served (the same image), one product per distinct output served. */
async function countAgainstRecords(dir: string, db: RawDb, submitted: Map<string, Submitted>, fake: FalFake): Promise<{ problems: string[]; notes: Record<string, number> }> {
  const problems: string[] = [];
  const productsOf = new Map<string, RawDb['products']>();
  for (const p of db.products) productsOf.set(p.jobId, [...(productsOf.get(p.jobId) ?? []), p]);
  const jobs = new Map(db.jobs.map((j) => [j.id, j]));
  for (const [id, s] of submitted) {
    const job = jobs.get(id);
    if (!job) problems.push(`job ${id} (${s.provider}) was reported submitted but has no row`);
    else if ((productsOf.get(id) ?? []).length !== s.images) problems.push(`job ${id} (${s.provider}) asked for ${s.images} images and has ${(productsOf.get(id) ?? []).length} products`);
  }
  // The fal fake's record: the output files it served (complete), by request and index.
  const served = new Set<string>();
  for (const f of fake.served) if (f.complete && /^\/v3\.fal\.media\/files\/[^/]+\/\d+\.png$/.test(f.path)) served.add(f.path);
  const falJobs = db.jobs.filter((j) => j.record.provider === 'fal');
  const requests = new Set(falJobs.map((j) => String(j.record.requestId)));
  let falProducts = 0;
  for (const j of falJobs) {
    const request = fake.jobs.get(String(j.record.requestId));
    if (!request) {
      problems.push(`fal job ${j.id} names request ${String(j.record.requestId)}, which the fake never received`);
      continue;
    }
    const products = productsOf.get(j.id) ?? [];
    const asked = Number(request.input.num_images ?? 1);
    if (products.length !== asked) problems.push(`fal job ${j.id}: the fake was asked for ${asked} images, the project has ${products.length}`);
    for (const p of products) {
      falProducts++;
      const output = `/v3.fal.media/files/${request.id}/${String(p.record.outputIndex)}.png`;
      if (!served.has(output)) {
        problems.push(`product ${p.id}: the fake never served ${output}`);
        continue;
      }
      const stored = await fs.readFile(path.join(dir, ...String(p.record.file).split('/')));
      if (!pngImage(stored).equals(pngImage(fake.files.get(output)!.bytes))) problems.push(`product ${p.id}: its image is not the one the fake served for ${output}`);
    }
  }
  for (const output of served) if (!requests.has(output.split('/')[3])) problems.push(`the fake served ${output} for a request no job holds`);
  if (served.size !== falProducts) problems.push(`the fake served ${served.size} distinct outputs, the project holds ${falProducts} fal products`);
  // A submission accepted by the fake whose request id the job never saved (killed in between)
  // is sent again on resume; its prompt must still belong to a job.
  const prompts = new Set(falJobs.map((j) => String((j.record.input as Record<string, unknown>).prompt)));
  const orphans = [...fake.jobs.values()].filter((r) => !requests.has(r.id));
  for (const r of orphans) if (!prompts.has(String(r.input.prompt))) problems.push(`the fake received "${String(r.input.prompt)}", which no job asked for`);
  return {
    problems,
    notes: { 'fal outputs served (distinct) = fal products': served.size, 'fal submissions resent after a kill between accept and save': orphans.length, 'jobs reported submitted by the children': submitted.size },
  };
}

test(`a generating process SIGKILLed at random moments ${ROUNDS} times loses and duplicates nothing, and every job completes`, { timeout: 900_000 }, async () => {
  const report = new FaultReport('crash');
  const kills = report.category('SIGKILL of a generating process');
  const phases: Record<string, number> = {};
  const evidence = {
    'killed mid database write (temp db left)': 0,
    'killed mid journal append (torn record left)': 0,
    'killed holding the db lock': 0,
    'killed mid product/thumbnail write (temp file left)': 0,
    'killed with an edit in flight': 0,
    'in-flight edits that had landed': 0,
  };
  const acknowledged = new Acknowledged();
  const fake = await startFalFake({ key: CRASH_FAL_KEY, plan: { queueSteps: 2, progressSteps: 3, logs: ['warming up'] } });
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-fault-crash-')), 'project');
  await createProject(dir, 'Crash');
  const reported = new Map<string, Reported[]>();
  const submitted = new Map<string, Submitted>();
  let restarts = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const child = startChild(dir, fake.baseUrl, round);
      // Kills are timed from the child's own progress, not from its spawn (a busy machine can
      // take seconds to start one): a third wait for a product to be stored and kill at once, in
      // the middle of the writes that follow; a third wait for an acknowledged edit and kill
      // among the edits that follow; of the rest, every fifth lands in the first 400 ms
      // (start-up: a child needs more than that to open the database), the others at a
      // uniformly random moment of the 0.8 s after the database opened (resuming, submitting,
      // polling, downloading, storing, saving).
      if (round % 3 === 2) {
        await child.waitFor((l) => / stored products\//.test(l), 30_000);
        await new Promise((r) => setTimeout(r, Math.random() * 8));
      } else if (round % 3 === 1) {
        await child.waitFor((l) => l.startsWith('EDITED '), 30_000);
        await new Promise((r) => setTimeout(r, Math.random() * 30));
      } else if (round % 5 === 0) {
        await new Promise((r) => setTimeout(r, Math.random() * 400));
      } else {
        await child.waitFor((l) => l === 'open', 60_000);
        await new Promise((r) => setTimeout(r, Math.random() * 800));
      }
      child.kill();
      const exit = await child.exited;
      const errorLine = child.lines.find((l) => l.startsWith('CHILD-ERROR'));
      assert.equal(exit.signal, 'SIGKILL', `round ${round}: the child ended by itself (${exit.code}): ${errorLine ?? child.stderr().slice(-2000)}`);
      kills.injected++;
      if (child.lines.includes('open')) restarts += round > 0 ? 1 : 0;
      phases[phaseOf(child.lines)] = (phases[phaseOf(child.lines)] ?? 0) + 1;
      for (const l of child.lines) {
        if (l.startsWith('FAILED')) assert.fail(`round ${round}: a job failed: ${l}`);
        if (l.startsWith('SUBMITTED ')) for (const j of (JSON.parse(l.slice(10)) as { jobs: ({ id: string } & Submitted)[] }).jobs) submitted.set(j.id, { provider: j.provider, images: j.images });
        if (!l.startsWith('DONE ')) continue;
        const d = JSON.parse(l.slice(5)) as { job: string; products: (Reported | null)[] };
        assert.ok(d.products.every((p) => p), `round ${round}: a done job without its product rows: ${l}`);
        reported.set(d.job, d.products as Reported[]);
      }
      const art = path.join(dir, '.artfactory');
      if (existsSync(path.join(art, `index.db.tmp-${child.pid}`))) evidence['killed mid database write (temp db left)']++;
      const lock = path.join(art, 'index.db.lock');
      if (existsSync(lock) && readFileSync(lock, 'utf8').startsWith(`${child.pid} `)) evidence['killed holding the db lock']++;
      if ((await tempFiles(dir)).some((f) => f.includes(`.tmp-${child.pid}`) && !f.startsWith('.artfactory/index.db'))) evidence['killed mid product/thumbnail write (temp file left)']++;

      const inFlight = acknowledged.take(child.lines);
      if (inFlight) evidence['killed with an edit in flight']++;
      const { problems, lost, db: onDisk, inFlightLanded } = await verify(dir, reported, false, { acknowledged, inFlight });
      if (onDisk?.journal.end === 'torn') evidence['killed mid journal append (torn record left)']++;
      if (inFlightLanded) evidence['in-flight edits that had landed']++;
      kills.productsLost += lost;
      assert.deepEqual(problems, [], `round ${round} (killed while ${phaseOf(child.lines)})`);
      kills.survived++;
    }

    // The last restart runs to the end: every interrupted job resumes and completes.
    const last = startChild(dir, fake.baseUrl, ROUNDS, 'final');
    const finished = await last.waitFor((l) => l === 'ALLDONE', 120_000);
    const exit = await last.exited;
    assert.ok(finished && exit.code === 0, `the final run did not finish: ${last.lines.filter((l) => /ERROR|FAILED/.test(l)).join('\n')}${last.stderr().slice(-2000)}`);
    const resumed = Number(/^resumed (\d+)$/.exec(last.lines.find((l) => l.startsWith('resumed')) ?? '')?.[1] ?? 0);
    const { problems, lost, db } = await verify(dir, reported, true, { acknowledged });
    kills.productsLost += lost;
    assert.deepEqual(problems, [], 'after the final run');
    const leftovers = await tempFiles(dir);
    assert.deepEqual(leftovers, [], 'temp files of killed processes are cleaned up once the project is opened again');
    const counted = await countAgainstRecords(dir, db!, submitted, fake);
    kills.notes = {
      ...Object.fromEntries(Object.entries(phases).map(([k, v]) => [`killed while ${k}`, v])),
      ...evidence,
      'restarts that reopened the database': restarts,
      'jobs resumed by the final run': resumed,
      'jobs in total (all succeeded)': db!.jobs.length,
      'products in total': db!.products.length,
      'products reported done and verified': [...reported.values()].flat().length,
      'acknowledged edits (rating, tags, notes) verified after every kill': acknowledged.count,
      'products edited': acknowledged.fields.size,
      'fal submissions': fake.jobs.size,
      ...counted.notes,
    };
    console.log(`# crash, where the ${ROUNDS} kills landed and what was counted:\n${Object.entries(kills.notes).map(([k, v]) => `#   ${k}: ${v}`).join('\n')}`);
    assert.deepEqual(counted.problems, [], 'the products against the independent records');
    assert.ok(submitted.size > 0 && counted.notes['fal outputs served (distinct) = fal products'] > 0, 'jobs of both providers ran');
    // The edit checks above held for real edits: the children made them, and kills met them.
    assert.ok(acknowledged.count >= ROUNDS / 4, `only ${acknowledged.count} edits were acknowledged in ${ROUNDS} rounds`);
    if (ROUNDS >= 20) assert.ok(evidence['killed with an edit in flight'] > 0, 'no kill landed while an edit was on its way');
    if (ROUNDS >= 50) {
      // Over 100 kills (a third timed right after a product was stored, a third after an edit),
      // some must land in the middle of a write, or this test shows nothing about torn writes. A
      // database write (a journal append, a compaction) happens under the lock.
      for (const k of ['killed holding the db lock', 'killed mid product/thumbnail write (temp file left)'] as const) assert.ok(evidence[k] > 0, `no kill landed ${k.slice(7)}`);
      for (const phase of ['starting (before the database opened)', 'polling', 'storing products']) assert.ok((phases[phase] ?? 0) > 0, `no kill landed while ${phase}: ${JSON.stringify(phases)}`);
    }
    // Kept when the test fails (to look at); about 20 MB when it passes.
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  } finally {
    report.write();
    await fake.close();
  }
});
