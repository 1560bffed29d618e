// A project's spending ledger, `.artfactory/ledger.jsonl`: one JSON line per event, appended and
// fsync'd, never rewritten. It is not the index (Rebuild Index leaves it alone) and it is written
// before a job is sent, so after a crash it still names every job that may have been billed.
//
//   {"v":1,"type":"estimate","at":…,"job":…,"batch":…,"provider":…,"model":…,"estimate":{amount,currency,estimated}|null}
//       written just before the job is sent (its reservation);
//   {"v":1,"type":"cost","at":…,"job":…,"provider":…,"model":…,"state":…,"cost":{…}|null}
//       written when it ended: what it cost, null when nothing is known (`interrupted`: a
//       crash cut the attempt short before its request id was saved; it may have been billed).
//
// Spent = the costs recorded, a null cost counting as its estimate, plus every estimate still
// open (a job in flight, or one a crash left without an end): so a budget never forgets money
// that may have been spent.
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Cost, JobState } from '../../providers/types.ts';

export const LEDGER_FILE = '.artfactory/ledger.jsonl';

export type LedgerEntry =
  | { v: 1; type: 'estimate'; at: string; job: string; batch?: string; provider: string; model: string; estimate: Cost | null }
  /** `interrupted`: the run was cut short before its request id was saved (see SpendGuard.reserve). */
  | { v: 1; type: 'cost'; at: string; job: string; provider: string; model: string; state: JobState; cost: Cost | null; interrupted?: boolean };

/** A job's money as the ledger tells it. */
export interface LedgerJob {
  job: string;
  provider: string;
  model: string;
  batch?: string;
  /** When it was sent (its estimate's time). */
  at: string;
  estimate: Cost | null;
  /** Set once it ended. */
  end?: { at: string; state: JobState; cost: Cost | null };
}

/** Longest line read (a hostile or broken file cannot make us hold megabytes per line). */
const MAX_LINE = 4096;

function parseEntry(line: string): LedgerEntry | undefined {
  if (line.length > MAX_LINE) return undefined;
  try {
    const e = JSON.parse(line) as LedgerEntry;
    if (!e || e.v !== 1 || typeof e.job !== 'string' || typeof e.at !== 'string' || !Number.isFinite(Date.parse(e.at))) return undefined;
    if (e.type === 'estimate' && (e.estimate === null || isCost(e.estimate))) return e;
    if (e.type === 'cost' && (e.cost === null || isCost(e.cost))) return e;
  } catch {
    // A line torn by a crash mid-append (only the last can be), or not ours: skipped.
  }
  return undefined;
}

export function isCost(c: unknown): c is Cost {
  const x = c as Cost;
  return !!x && typeof x.amount === 'number' && Number.isFinite(x.amount) && typeof x.currency === 'string' && x.currency.length <= 12 && typeof x.estimated === 'boolean';
}

export class Ledger {
  private readonly entries: LedgerEntry[] = [];
  private readonly byJob = new Map<string, LedgerJob[]>();
  /** Bytes of the file already read (others — a CLI run, a second window — append too). */
  private offset = 0;
  private partial = '';
  private writes: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(projectDir: string, file = LEDGER_FILE) {
    this.file = path.join(projectDir, ...file.split('/'));
  }

  private refreshing?: Promise<void>;

  /** Read what was appended since the last look (by us or another process). Jobs starting
   * together share one read, so no line is taken twice. */
  refresh(): Promise<void> {
    this.refreshing ??= this.readNew().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async readNew(): Promise<void> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return;
    }
    try {
      const { size } = await fh.stat();
      if (size < this.offset) return; // never shrinks; a replaced file is not re-read under us
      const buf = Buffer.alloc(size - this.offset);
      if (buf.length === 0) return;
      await fh.read(buf, 0, buf.length, this.offset);
      this.offset = size;
      const text = this.partial + buf.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const e = parseEntry(line);
        if (e && !this.known(e)) this.add(e);
      }
    } finally {
      await fh.close();
    }
  }

  /** Our own lines come back on refresh: they are in memory already. */
  private readonly ours = new Set<string>();
  private known(e: LedgerEntry): boolean {
    return this.ours.delete(JSON.stringify(e));
  }

  private add(e: LedgerEntry): void {
    this.entries.push(e);
    const runs = this.byJob.get(e.job) ?? [];
    if (e.type === 'estimate') {
      runs.push({ job: e.job, provider: e.provider, model: e.model, batch: e.batch, at: e.at, estimate: e.estimate });
    } else {
      const open = runs.findLast((r) => !r.end);
      if (open) open.end = { at: e.at, state: e.state, cost: e.cost };
      // An end without a start (a line lost to a torn write): count it on its own.
      else runs.push({ job: e.job, provider: e.provider, model: e.model, at: e.at, estimate: null, end: { at: e.at, state: e.state, cost: e.cost } });
    }
    this.byJob.set(e.job, runs);
  }

  /**
   * Record an entry: in memory at once (so a reservation counts before the next job is looked
   * at), then appended and fsync'd; the promise resolves once it is durable. Appends are one
   * `write` of a whole line with O_APPEND, so lines of two processes never interleave.
   */
  append(e: LedgerEntry): Promise<void> {
    this.add(e);
    const line = JSON.stringify(e);
    this.ours.add(line);
    const write = this.writes.then(async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const fh = await fs.open(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
      try {
        await fh.write(`${line}\n`);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** The open run of a job (sent, not ended), if any. */
  open(job: string): LedgerJob | undefined {
    return this.byJob.get(job)?.findLast((r) => !r.end);
  }

  /** Every run of every job, oldest first. */
  runs(): LedgerJob[] {
    return [...this.byJob.values()].flat().sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Money spent or held in `currency` by runs sent at or after `since` (see the top). */
  spent(currency: string, since?: Date): number {
    let sum = 0;
    const from = since?.getTime() ?? -Infinity;
    for (const r of this.runs()) {
      if (Date.parse(r.at) < from) continue;
      const c = runAmount(r);
      if (c && c.currency === currency) sum += c.amount;
    }
    return Math.round(sum * 1e6) / 1e6;
  }
}

/** What a run counts for: its cost, or while unknown its estimate. */
export function runAmount(r: LedgerJob): Cost | null {
  return r.end ? (r.end.cost ?? r.estimate) : r.estimate;
}
