// Shared plumbing for the fake provider servers (fal, Replicate, Civitai).
//
// A fake is an http.createServer on 127.0.0.1:0 that the REAL clients reach through our
// rewriteUrl: a request for https://HOST/PATH?Q arrives as /HOST/PATH?Q. The plumbing here:
// - parses that into { host, path, query } (FakeRequest),
// - captures every byte received (`captured`: method, url, headers, body) so a test can prove
//   no secret appears outside the Authorization header (`findSecretLeaks`),
// - runs scripted faults before the fake's own handler (`addFault`): a status with body and
//   headers, a malformed JSON body, raw bytes (an HTML error page), a dropped connection, a
//   delay, for N matching requests (`clearFaults` drops what is left of an endless storm),
// - serves stored downloads (`files`), optionally truncated (connection cut after part of the
//   declared length) or oversized, and logs each one it served (`served`: an independent record
//   of the outputs a client received, for counting products against),
// - makes real PNG bytes with sharp (`pngBytes`).

import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface Captured {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface FakeRequest {
  method: string;
  /** The original host the client meant, e.g. `queue.fal.run`. */
  host: string;
  /** The path on that host, e.g. `/fal-ai/flux/dev`. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The parsed JSON body, or undefined when it is not JSON. */
  json: unknown;
  raw: http.IncomingMessage;
}

export interface Fault {
  /** Which requests: a route name the fake defines (e.g. 'submit', 'status'), or a predicate. */
  route?: string;
  when?: (req: FakeRequest) => boolean;
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send `{"oops` with a JSON content type. */
  malformed?: boolean;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Answer after this many ms (real time; keep it small). */
  delayMs?: number;
  /** Answer these bytes as they are (e.g. an HTML error page from a proxy), with `status` (default 200). */
  raw?: { body: string | Uint8Array; contentType: string };
}

export interface StoredFile {
  bytes: Uint8Array;
  contentType: string;
  /** Send only this many bytes of the declared length, then cut the connection. */
  truncateAt?: number;
}

export interface ServedFile {
  /** `/HOST/PATH` of the download. */
  path: string;
  /** Of the bytes the file holds (all of them were sent when `complete`). */
  sha256: string;
  /** False when the connection was cut after part of the file (truncateAt). */
  complete: boolean;
}

export interface FakeServer {
  baseUrl: string;
  captured: Captured[];
  files: Map<string, StoredFile>;
  /** Every stored file answered to a GET, in order (a file downloaded twice appears twice). */
  served: ServedFile[];
  addFault(f: Fault): void;
  /** Faults not yet used up. */
  pendingFaults(): number;
  /** Drop the faults not yet used up (e.g. an endless storm, between test cases). */
  clearFaults(): void;
  close(): Promise<void>;
}

export type FakeHandler = (req: FakeRequest, res: http.ServerResponse) => Promise<void> | void;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** `https://HOST/PATH` for a file path served by the fake (the client's rewriteUrl brings it back here). */
export function fileUrl(host: string, path: string): string {
  return `https://${host}${path.startsWith('/') ? path : `/${path}`}`;
}

function sendFile(res: http.ServerResponse, f: StoredFile, served: ServedFile[], path: string): void {
  served.push({ path, sha256: createHash('sha256').update(f.bytes).digest('hex'), complete: f.truncateAt === undefined || f.truncateAt >= f.bytes.byteLength });
  res.writeHead(200, { 'content-type': f.contentType, 'content-length': f.bytes.byteLength });
  if (f.truncateAt !== undefined && f.truncateAt < f.bytes.byteLength) {
    res.write(Buffer.from(f.bytes.subarray(0, f.truncateAt)));
    // Cut the connection mid-body: the client sees fewer bytes than Content-Length.
    setTimeout(() => res.socket?.destroy(), 10);
    return;
  }
  res.end(Buffer.from(f.bytes));
}

export async function startFakeServer(handler: FakeHandler, routeOf: (req: FakeRequest) => string | undefined = () => undefined): Promise<FakeServer> {
  const captured: Captured[] = [];
  const faults: Fault[] = [];
  const files = new Map<string, StoredFile>();
  const served: ServedFile[] = [];

  const server = http.createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const body = Buffer.concat(chunks);
      captured.push({ method: raw.method ?? 'GET', url: raw.url ?? '/', headers: { ...raw.headers }, body });
      const u = new URL(raw.url ?? '/', 'http://fake.local');
      const [, host = '', ...rest] = u.pathname.split('/');
      let json: unknown;
      try {
        json = body.length ? (JSON.parse(body.toString('utf8')) as unknown) : undefined;
      } catch {
        json = undefined;
      }
      const req: FakeRequest = { method: raw.method ?? 'GET', host, path: `/${rest.join('/')}`, query: u.searchParams, headers: raw.headers, body, json, raw };
      void respond(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { detail: `fake crashed: ${e instanceof Error ? e.message : String(e)}` });
        else res.destroy();
      });
    });
  });

  async function respond(req: FakeRequest, res: http.ServerResponse): Promise<void> {
    const route = routeOf(req);
    const i = faults.findIndex((f) => (f.route === undefined || f.route === route) && (f.when === undefined || f.when(req)));
    if (i >= 0) {
      const f = faults[i];
      f.times = (f.times ?? 1) - 1;
      if (f.times <= 0) faults.splice(i, 1);
      if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
      if (f.drop) {
        res.socket?.destroy();
        return;
      }
      if (f.raw) {
        const body = typeof f.raw.body === 'string' ? Buffer.from(f.raw.body) : Buffer.from(f.raw.body);
        res.writeHead(f.status ?? 200, { 'content-type': f.raw.contentType, 'content-length': body.length, ...f.headers });
        res.end(body);
        return;
      }
      if (f.malformed) {
        res.writeHead(f.status ?? 200, { 'content-type': 'application/json', ...f.headers });
        res.end('{"oops');
        return;
      }
      if (f.status !== undefined) {
        sendJson(res, f.status, f.body ?? {}, f.headers);
        return;
      }
    }
    if (req.method === 'GET') {
      const file = files.get(`/${req.host}${req.path}`);
      if (file) return sendFile(res, file, served, `/${req.host}${req.path}`);
    }
    await handler(req, res);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    captured,
    files,
    served,
    addFault: (f) => faults.push({ ...f }),
    pendingFaults: () => faults.length,
    clearFaults: () => {
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Where a secret appears in captured traffic outside the Authorization header. */
export function findSecretLeaks(captured: Captured[], secret: string): string[] {
  const leaks: string[] = [];
  for (const c of captured) {
    if (c.url.includes(secret)) leaks.push(`${c.method} ${c.url}: in the URL`);
    for (const [k, v] of Object.entries(c.headers)) {
      if (k.toLowerCase() === 'authorization') continue;
      const text = Array.isArray(v) ? v.join(',') : (v ?? '');
      if (text.includes(secret)) leaks.push(`${c.method} ${c.url}: in header ${k}`);
    }
    if (c.body.includes(Buffer.from(secret))) leaks.push(`${c.method} ${c.url}: in the body`);
  }
  return leaks;
}

/** Real PNG bytes of a flat colour (cached per size and colour). */
const pngCache = new Map<string, Promise<Buffer>>();
export function pngBytes(width = 64, height = 64, rgb: [number, number, number] = [200, 80, 40]): Promise<Buffer> {
  const key = `${width}x${height}:${rgb.join(',')}`;
  let p = pngCache.get(key);
  if (!p) {
    p = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
      .png()
      .toBuffer();
    pngCache.set(key, p);
  }
  return p;
}

/** A colour derived from text, so different prompts give visibly different images. */
export function colourOf(text: string): [number, number, number] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return [h & 255, (h >>> 8) & 255, (h >>> 16) & 255];
}

let idCounter = 0;
/** Unique ids for fake jobs: fixed-looking, unique per process. */
export function fakeId(prefix = ''): string {
  idCounter++;
  const hex = (idCounter * 2654435761 + Date.now()).toString(16).padStart(12, '0').slice(-12);
  return `${prefix}${hex.slice(0, 8)}-0000-4000-8000-${hex}`;
}
