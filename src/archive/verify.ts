// Verify Project: whether a project folder (a restored backup, a colleague's copy, a clone) is
// what its database says. Every row is checked against its sidecar and its file (the path
// rule, no symlink, size, sha256), every sidecar against its row, the job rows, and the schema
// cache. A row that fails is quarantined: moved out of the products (the gallery, export and
// delete never see it) and listed here; a quarantined row that verifies again comes back.
// Nothing is deleted and no file is changed; only the database's rows move.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { checkSchemaCache } from '../engine/schemas.ts';
import { firstProblem, isSafeId, layoutOf, markWrittenHere, openProjectDb, PathRefusedError, ProjectPaths, walkSidecars } from '../storage/index.ts';
import type { ProductRecord, ProjectDb } from '../storage/types.ts';

export interface VerifyProblem {
  /** What was checked: a database row, a sidecar file, a job row, a schema file, the database. */
  kind: 'row' | 'sidecar' | 'job' | 'schema' | 'database';
  /** The product or job id, or the project-relative file. */
  subject: string;
  problem: string;
}

export interface VerifyReport {
  /** Rows checked (including rows quarantined before). */
  rows: number;
  sidecars: number;
  verified: number;
  problems: VerifyProblem[];
  /** Schema files with patterns left unchecked (lookaround and the like): not problems. */
  notes: VerifyProblem[];
  /** Rows in quarantine after this run, with why. */
  quarantined: { id: string; reason: string }[];
  /** Rows that were in quarantine and verified again. */
  released: string[];
  ok: boolean;
}

export interface VerifyOptions {
  /** The project's open database (else it is opened and closed here). */
  db?: ProjectDb;
  openDb?: (dir: string) => Promise<ProjectDb>;
  /** Default true: move failing rows to quarantine and verified ones back. */
  quarantine?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** Why a row's record does not hold, or undefined when its file and sidecar agree with it. */
async function rowProblem(paths: ProjectPaths, record: ProductRecord): Promise<string | undefined> {
  try {
    const layout = layoutOf(record);
    const file = await paths.resolve(layout.file, 'products', { kind: 'file', what: 'Its file' });
    if (!file.stat) return `its file ${layout.file} is missing`;
    if (file.stat.size !== record.bytes) return `its file is ${file.stat.size} bytes, the record says ${String(record.bytes)}`;
    if ((await sha256(file.abs)) !== record.sha256) return 'its file content differs from the sha256 in the record';
    if (layout.poster) {
      const poster = await paths.resolve(layout.poster, 'products', { kind: 'file', what: 'Its poster' });
      if (!poster.stat) return `its poster ${layout.poster} is missing`;
    }
    const sidecar = await paths.resolve(layout.sidecar, 'products', { kind: 'file', what: 'Its sidecar' });
    if (!sidecar.stat) return `its sidecar ${layout.sidecar} is missing`;
    let side: unknown;
    try {
      side = JSON.parse(await paths.readFile(layout.sidecar, 'products').then((b) => b.toString('utf8')));
    } catch (e) {
      return `its sidecar is unreadable (${firstProblem(e)})`;
    }
    const s = side as Partial<ProductRecord>;
    for (const k of ['id', 'file', 'sha256', 'bytes'] as const) if (s[k] !== record[k]) return `its sidecar says ${k} ${JSON.stringify(String(s[k]).slice(0, 120))}, the row ${JSON.stringify(String(record[k]).slice(0, 120))}`;
    if ((s.poster ?? null) !== (record.poster ?? null)) return 'its sidecar names another poster';
    return undefined;
  } catch (e) {
    if (e instanceof PathRefusedError) return e.message.replace(/ Nothing was opened.*$/, '');
    return firstProblem(e);
  }
}

function parseRow(json: string, id: string): ProductRecord | string {
  try {
    const v: unknown = JSON.parse(json);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return 'its record is not a JSON object';
    if ((v as { id?: unknown }).id !== id) return `its record's id ${JSON.stringify(String((v as { id?: unknown }).id).slice(0, 100))} is not the row's id`;
    return v as ProductRecord;
  } catch (e) {
    return `its record is not JSON (${firstProblem(e)})`;
  }
}

/** Verify a project folder, its database included. */
export async function verifyProject(projectDir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const report: VerifyReport = { rows: 0, sidecars: 0, verified: 0, problems: [], notes: [], quarantined: [], released: [], ok: false };
  const paths = new ProjectPaths(projectDir);
  let db = opts.db;
  let opened = false;
  try {
    if (!db) {
      try {
        db = await (opts.openDb ?? ((d) => openProjectDb(d, { backups: 0 })))(projectDir);
        opened = true;
      } catch (e) {
        report.problems.push({ kind: 'database', subject: '.artfactory/index.db', problem: firstProblem(e) });
      }
    }
    const rowIds = new Set<string>();
    if (db) {
      const quarantinedBefore = await db.listQuarantine();
      const total = (await db.countProducts()) + quarantinedBefore.length;
      const failing: { id: string; reason: string }[] = [];
      const release: string[] = [];
      const check = async (id: string, json: string, wasQuarantined: boolean) => {
        if (opts.signal?.aborted) throw new Error('Verify canceled.');
        report.rows++;
        rowIds.add(id);
        const parsed = parseRow(json, id);
        const problem = typeof parsed === 'string' ? parsed : await rowProblem(paths, parsed);
        if (problem) {
          failing.push({ id, reason: problem });
          report.problems.push({ kind: 'row', subject: id.slice(0, 120), problem });
        } else {
          report.verified++;
          if (wasQuarantined) release.push(id);
        }
        opts.onProgress?.(report.rows, total);
      };
      for (let after = 0; ; ) {
        const page = await db.rawProducts(after, 500);
        for (const r of page) await check(r.id, r.json, false);
        if (page.length < 500) break;
        after = page[page.length - 1].rid;
      }
      for (const q of quarantinedBefore) await check(q.id, q.json, true);
      for (const job of await db.listJobs({ limit: 100_000 })) {
        if (!isSafeId(job.id) || !Number.isFinite(Date.parse(job.createdAt))) report.problems.push({ kind: 'job', subject: String(job.id).slice(0, 120), problem: 'its id or date is not one Art Factory makes; it is never resumed' });
      }
      if (opts.quarantine !== false) {
        if (failing.length) await db.quarantineProducts(failing);
        if (release.length) await db.releaseQuarantine(release);
        report.released = release;
        report.quarantined = (await db.listQuarantine()).map((q) => ({ id: q.id, reason: q.reason }));
      } else {
        report.quarantined = failing;
      }
    }
    for await (const s of walkSidecars(projectDir)) {
      report.sidecars++;
      const rel = s.file.slice(projectDir.length + 1).split(/[\\/]/).join('/');
      if (!s.record) report.problems.push({ kind: 'sidecar', subject: rel, problem: s.error ?? 'unreadable' });
      else if (db && !rowIds.has(s.record.id)) report.problems.push({ kind: 'sidecar', subject: rel, problem: `no database row for product ${s.record.id} (Rebuild Index adds it)` });
    }
    const schemas = await checkSchemaCache(projectDir);
    for (const p of schemas.problems) (p.severity === 'error' ? report.problems : report.notes).push({ kind: 'schema', subject: p.file, problem: p.problem });
    report.ok = report.problems.length === 0;
    // Verified here: the database now describes this folder on this machine.
    if (db && opts.quarantine !== false) await markWrittenHere(db, projectDir);
    return report;
  } finally {
    if (opened) await db?.close();
  }
}

/** The report as lines for a terminal or a log. */
export function describeVerify(r: VerifyReport): string[] {
  const lines = r.problems.map((p) => `${p.kind} ${p.subject}: ${p.problem}`);
  for (const n of r.notes) lines.push(`note: ${n.kind} ${n.subject}: ${n.problem}`);
  if (r.released.length) lines.push(`back from quarantine: ${r.released.join(', ')}`);
  lines.push(`${r.rows} rows, ${r.sidecars} sidecars checked: ${r.verified} products verified, ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}${r.quarantined.length ? `, ${r.quarantined.length} in quarantine` : ''}.`);
  return lines;
}
