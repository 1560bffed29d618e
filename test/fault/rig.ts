// An engine over a real project with the REAL fal and Replicate clients (and our Civitai
// client) pointed at their fakes, on a virtual clock so retries, backoff and deadlines cost no
// real time. Used by the provider, hostile-input and secrets fault tests.
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import { createBuiltinRegistry } from '../../src/providers/index.ts';
import type { ProviderRegistry } from '../../src/providers/registry.ts';
import type { Logger, ProviderContext } from '../../src/providers/types.ts';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import type { JobRecord, ProjectDb } from '../../src/storage/types.ts';
import { fastContext } from '../engine/helpers.ts';
import { startCivitaiFake, type CivitaiFake } from '../fakes/civitai.ts';
import { startFalFake, type FalFake } from '../fakes/fal.ts';
import { startReplicateFake, type ReplicateFake } from '../fakes/replicate.ts';

export interface ProviderRig {
  dir: string;
  db: ProjectDb;
  engine: Engine;
  registry: ProviderRegistry;
  fal: FalFake;
  replicate: ReplicateFake;
  civitai: CivitaiFake;
  /** Every line the engine and the adapters logged. */
  logs: string[];
  /** Submit one job and wait (bounded) for its terminal state. */
  run(provider: string, model: string, input: Record<string, unknown>, timeoutMs?: number): Promise<JobRecord>;
  close(): Promise<void>;
}

export async function providerRig(opts: { keys?: { fal?: string; replicate?: string; civitai?: string }; engine?: Partial<EngineOptions>; dir?: string } = {}): Promise<ProviderRig> {
  const falKey = opts.keys?.fal ?? 'fal-fault-key-0123456789abcdef';
  const repKey = opts.keys?.replicate ?? 'r8_FaultSuiteToken0123456789abcdefAB';
  const civKey = opts.keys?.civitai ?? 'civitai-fault-token-0123456789abcdef';
  const fal = await startFalFake({ key: falKey });
  const replicate = await startReplicateFake({ key: repKey });
  const civitai = await startCivitaiFake({ key: civKey, modelCount: 20 });
  const dir = opts.dir ?? path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-fault-prov-')), 'project');
  if (!existsSync(path.join(dir, 'artfactory.json'))) await createProject(dir, 'Provider faults');
  const db = await openProjectDb(dir, { saveDelayMs: 10 });
  const logs: string[] = [];
  const log: Logger = { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) };
  const shared = fastContext({ log });
  const ctxFor = (id: string): ProviderContext =>
    id === 'fal'
      ? { ...shared, getKey: async () => falKey, baseUrl: fal.baseUrl }
      : id === 'replicate'
        ? { ...shared, getKey: async () => repKey, baseUrl: replicate.baseUrl }
        : id === 'civitai'
          ? { ...shared, getKey: async () => civKey, baseUrl: civitai.baseUrl }
          : shared;
  const registry = createBuiltinRegistry(ctxFor);
  // The defaults users get: a poll a (virtual) second apart and a 30-minute job deadline (a
  // throttled provider is slowed to a few requests a minute, so a shorter deadline would fail
  // jobs a user's run would finish). Virtual time: a job that never ends still ends in seconds.
  const engine = new Engine({ projectDir: dir, db, providers: registry, log, pollIntervalMs: 1000, jobTimeoutMs: 30 * 60_000, allowLoopbackHttp: true, makeThumbnails: false, ...opts.engine });
  return {
    dir,
    db,
    engine,
    registry,
    fal,
    replicate,
    civitai,
    logs,
    // The guard only catches a job that never ends: the endless cases run half an hour of
    // virtual time through hundreds of real requests, which a loaded machine (load 25 on 2
    // cores) stretched past 30 s, and a job left running then stored its product in the next case.
    async run(provider, model, input, timeoutMs = 120_000) {
      const [job] = await engine.submit([{ provider, model, input }]);
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`job ${job.id} (${provider} ${JSON.stringify(input).slice(0, 80)}) hung: not terminal after ${timeoutMs} ms`)), timeoutMs)));
      try {
        const [done] = await Promise.race([engine.waitFor([job.id]), hung]);
        return done;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      engine.dispose();
      await engine.idle();
      await db.close();
      await fal.close();
      await replicate.close();
      await civitai.close();
    },
  };
}
