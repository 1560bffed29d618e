// The change journal beside the project database (`.artfactory/index.db.journal`): an append-only
// file of the statements each write ran since the database file was last written whole. A write
// is acknowledged once its record is appended and fdatasync'd, so an edit costs a few kilobytes
// instead of the whole file; the worker replays the journal on open and folds it into the
// database file now and then (compaction). This module knows only the file format; the worker
// (worker.ts) decides when to append, replay and compact.
//
// Format. A sequence of records, each a 16-byte frame header and a UTF-8 JSON payload:
//   bytes 0-3   "AFJR"
//   bytes 4-7   payload length, unsigned 32-bit little-endian
//   bytes 8-15  the first 8 bytes of the payload's SHA-256
// The first record is the header, `{"journal":1,"generation":G}`: the journal belongs to the
// database file whose `meta` row `journal` holds G (every compaction writes the file with a new
// G and starts a new journal), so a journal left beside another database (a restored backup, a
// crash between the two steps of a compaction) is never replayed onto it. Every other record
// is `{"s":[[sql, params], …]}`: one write's statements, replayed in one transaction. Parameters
// are JSON values, except {"$n":"Infinity"|"-Infinity"|"NaN"} and {"$b":base64} for numbers
// and bytes JSON cannot hold.
//
// A record cut short (a process killed while appending) ends the journal there: it was never
// acknowledged. A record whose checksum does not match, or a frame that is not one, is damage:
// replay stops before it, and the worker keeps a copy of the journal in backups/ before it
// starts a new one. The database file itself is never touched by a damaged journal.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import type { SqlValue } from 'sql.js';
import { fsyncDirSync } from './atomic.ts';

const MAGIC = Buffer.from('AFJR', 'latin1');
export const FRAME = 16;
/** A record longer than this is not one we write (a putProducts of 1,000 records is ~5 MB). */
const MAX_RECORD = 256 * 1024 * 1024;

export type Statement = [sql: string, params: SqlValue[]];

export interface JournalHeader {
  journal: 1;
  generation: string;
}

/** What a read from some offset found. */
export interface JournalScan {
  /** One entry per record, in order: that write's statements and where the record is. */
  records: { statements: Statement[]; at: number; next: number }[];
  /** The offset just after the last whole, intact record read. */
  end: number;
  /** Why reading stopped before the end of the file, if it did. */
  stop?: { kind: 'torn' | 'damaged'; at: number; reason: string };
}

export function newGeneration(): string {
  return randomBytes(12).toString('hex');
}

function digest(payload: Buffer): Buffer {
  return createHash('sha256').update(payload).digest().subarray(0, 8);
}

function encodeParam(v: SqlValue): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $n: String(v) };
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString('base64') };
  return v;
}

function decodeParam(v: unknown): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (v && typeof v === 'object') {
    const o = v as { $n?: unknown; $b?: unknown };
    if (typeof o.$n === 'string') return Number(o.$n);
    if (typeof o.$b === 'string') return new Uint8Array(Buffer.from(o.$b, 'base64'));
  }
  throw new Error('a parameter that is not a value');
}

/** One framed record. */
export function encodeRecord(payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const head = Buffer.alloc(FRAME);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(body.length, 4);
  digest(body).copy(head, 8);
  return Buffer.concat([head, body]);
}

export function encodeStatements(statements: Statement[]): Buffer {
  return encodeRecord({ s: statements.map(([sql, params]) => [sql, params.map(encodeParam)]) });
}

/** The statements a journal may hold: single data changes. A journal comes from the project
 * folder, so it is untrusted input; it can say nothing a database file could not. */
const DATA_CHANGE = /^\s*(INSERT|UPDATE|DELETE)\s/i;

function decodeStatements(payload: unknown): Statement[] {
  const s = (payload as { s?: unknown } | null)?.s;
  if (!Array.isArray(s)) throw new Error('not a record of statements');
  return s.map((st: unknown) => {
    if (!Array.isArray(st) || typeof st[0] !== 'string' || !Array.isArray(st[1]) || !DATA_CHANGE.test(st[0])) throw new Error('not a data statement');
    return [st[0], st[1].map(decodeParam)];
  });
}

/** Read whole records from `from` up to `size`: the next record, or why there is none. */
function readFrame(fd: number, at: number, size: number): { payload: unknown; next: number } | { stop: NonNullable<JournalScan['stop']> } {
  if (size - at < FRAME) return { stop: { kind: 'torn', at, reason: 'a record cut short' } };
  const head = Buffer.alloc(FRAME);
  readSync(fd, head, 0, FRAME, at);
  if (!head.subarray(0, 4).equals(MAGIC)) return { stop: { kind: 'damaged', at, reason: 'not a record' } };
  const len = head.readUInt32LE(4);
  if (len > MAX_RECORD) return { stop: { kind: 'damaged', at, reason: 'a record longer than any written' } };
  if (size - at - FRAME < len) return { stop: { kind: 'torn', at, reason: 'a record cut short' } };
  const body = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, body, got, len - got, at + FRAME + got);
    if (n === 0) return { stop: { kind: 'torn', at, reason: 'a record cut short' } };
    got += n;
  }
  if (!digest(body).equals(head.subarray(8, 16))) return { stop: { kind: 'damaged', at, reason: 'a record whose checksum does not match' } };
  try {
    return { payload: JSON.parse(body.toString('utf8')) as unknown, next: at + FRAME + len };
  } catch {
    return { stop: { kind: 'damaged', at, reason: 'a record that is not JSON' } };
  }
}

/** The header of an open journal, or undefined when the file does not start with one. */
export function readHeader(fd: number, size: number): { header: JournalHeader; end: number } | undefined {
  const r = readFrame(fd, 0, size);
  if ('stop' in r) return undefined;
  const h = r.payload as Partial<JournalHeader> | null;
  return h && h.journal === 1 && typeof h.generation === 'string' ? { header: h as JournalHeader, end: r.next } : undefined;
}

/** Every whole record from `from` (just after the header, or where the last read ended). */
export function readRecords(fd: number, from: number, size: number): JournalScan {
  const records: JournalScan['records'] = [];
  let at = from;
  while (at < size) {
    const r = readFrame(fd, at, size);
    if ('stop' in r) return { records, end: at, stop: r.stop };
    try {
      records.push({ statements: decodeStatements(r.payload), at, next: r.next });
    } catch (e) {
      return { records, end: at, stop: { kind: 'damaged', at, reason: (e as Error).message } };
    }
    at = r.next;
  }
  return { records, end: at };
}

/** Append one record at `at` (the end of the whole records) and make it durable. A failed
 * append is cut back off, so the journal never holds half a record followed by a whole one. */
export function appendRecord(file: string, at: number, record: Buffer): number {
  const fd = openSync(file, 'r+');
  try {
    try {
      let off = 0;
      while (off < record.length) off += writeSync(fd, record, off, record.length - off, at + off);
      fdatasyncSync(fd);
    } catch (e) {
      try {
        ftruncateSync(fd, at);
      } catch {
        // the next writer cuts a torn tail off under the lock
      }
      throw e;
    }
  } finally {
    closeSync(fd);
  }
  return at + record.length;
}

/** Cut a torn tail (a record a killed process did not finish) off the journal. */
export function truncateJournal(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  try {
    ftruncateSync(fd, at);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Start a new, empty journal for `generation`, replacing any other atomically. Returns where
 * records start. */
export function createJournal(file: string, generation: string): number {
  const head = encodeRecord({ journal: 1, generation } satisfies JournalHeader);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, head);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDirSync(path.dirname(file));
  return head.length;
}

