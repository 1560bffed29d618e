import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import { walkFiles } from '../files.ts';
import { createBuiltinRegistry } from '../../src/providers/index.ts';
import type { ProviderRegistry } from '../../src/providers/registry.ts';
import type { Logger, ProviderContext, RateLimits } from '../../src/providers/types.ts';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import type { ProjectDb } from '../../src/storage/types.ts';

export const FAL_KEY = 'fal-test-key-0123456789abcdef';
export const CIVITAI_KEY = 'civitai-test-token-0123456789abcdef';
export const REPLICATE_KEY = 'r8_TestToken0123456789abcdefABCDEF';

/** A virtual clock: sleeping advances it and yields, so polling costs no real time. */
export function fastContext(extra: Partial<ProviderContext> = {}): ProviderContext {
  const clock = { t: Date.now() };
  return {
    getKey: async () => undefined,
    now: () => clock.t,
    random: () => 0.5,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw new Error('aborted');
      clock.t += ms;
      await new Promise((r) => setTimeout(r, 2));
      if (signal?.aborted) throw new Error('aborted');
    },
    ...extra,
  };
}

/** The first value a subscription delivers that `pred` accepts, e.g.
 * `untilEvent<JobRecord>((l) => engine.on('job', l), (j) => j.state === 'running')`. Subscribe
 * before the action that causes the event; the test's own timeout bounds the wait. */
export function untilEvent<T>(subscribe: (listener: (value: T) => void) => { dispose(): void }, pred: (value: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const sub = subscribe((value) => {
      if (!pred(value)) return;
      sub.dispose();
      resolve(value);
    });
  });
}

export const lines: string[] = [];
export const log: Logger = { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };

export interface Rig {
  dir: string;
  db: ProjectDb;
  engine: Engine;
  registry: ProviderRegistry;
  close(): Promise<void>;
}

export interface RigOptions {
  falBaseUrl?: string;
  civitaiBaseUrl?: string;
  replicateBaseUrl?: string;
  /** Rate limits for the keyed providers (e.g. a high concurrency, so a sweep starts at once). */
  limits?: Partial<RateLimits>;
  /** Build the registry from the contexts (default: the built-in providers). */
  registry?: (ctxFor: (id: string) => ProviderContext) => ProviderRegistry;
  dir?: string;
  engine?: Partial<EngineOptions>;
  context?: Partial<ProviderContext>;
}

export async function rig(opts: RigOptions = {}): Promise<Rig> {
  const dir = opts.dir ?? path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-engine-')), 'project');
  if (!opts.dir) await createProject(dir, 'Engine test');
  const db = await openProjectDb(dir, { saveDelayMs: 10 });
  const shared = fastContext(opts.context);
  const keyed: Record<string, { key: string; baseUrl?: string }> = {
    fal: { key: FAL_KEY, baseUrl: opts.falBaseUrl },
    civitai: { key: CIVITAI_KEY, baseUrl: opts.civitaiBaseUrl },
    replicate: { key: REPLICATE_KEY, baseUrl: opts.replicateBaseUrl },
  };
  const ctxFor = (id: string): ProviderContext => (keyed[id] ? { ...shared, getKey: async () => keyed[id].key, baseUrl: keyed[id].baseUrl, ...(opts.limits ? { limits: opts.limits } : {}) } : shared);
  const registry = opts.registry ? opts.registry(ctxFor) : createBuiltinRegistry(ctxFor);
  const engine = new Engine({ projectDir: dir, db, providers: registry, log, pollIntervalMs: 20, allowLoopbackHttp: true, ...opts.engine });
  return {
    dir,
    db,
    engine,
    registry,
    close: async () => {
      engine.dispose();
      await engine.idle();
      await db.close();
    },
  };
}

/** Files under the project's products/, as `products/…` paths. */
export async function listProducts(dir: string): Promise<string[]> {
  return (await walkFiles(path.join(dir, 'products'))).map((f) => `products/${f}`);
}
