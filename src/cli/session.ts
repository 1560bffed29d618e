// One project as the command line works with it (`generate`, `mcp`): the providers with keys
// from the environment, the database opened on first use, one engine, and the Submitter every
// generation goes through. Closing ends the engine (after its writes) and the database.
import { Engine } from '../engine/engine.ts';
import { DEFAULT_MAX_INPUT_BYTES, ImageSource } from '../engine/imageInputs.ts';
import { createSchemaCache } from '../engine/schemas.ts';
import { Submitter } from '../engine/submission.ts';
import { createBuiltinRegistry, ENV_KEY_NAMES, envBaseUrl, envContext, envKey } from '../providers/index.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Logger } from '../providers/types.ts';
import { openProjectDb } from '../storage/index.ts';
import type { ProjectDb } from '../storage/types.ts';

export const INPUT_LIMIT_HINT = 'raise ARTFACTORY_INPUT_MAX_MB';

export function inputLimitBytes(): number {
  const mb = Number(process.env.ARTFACTORY_INPUT_MAX_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * 1024 * 1024 : DEFAULT_MAX_INPUT_BYTES;
}

/** Whether a provider's key is in the environment; undefined for one without a variable. */
export async function envHasKey(provider: string): Promise<boolean | undefined> {
  return ENV_KEY_NAMES[provider] ? envKey(provider) !== undefined : undefined;
}

/** The keys in the environment: never printed, never in a result. */
export function envSecrets(): string[] {
  return Object.keys(ENV_KEY_NAMES)
    .map((p) => envKey(p))
    .filter((k): k is string => !!k);
}

export interface CliSession {
  registry: ProviderRegistry;
  submitter: Submitter;
  db(): Promise<ProjectDb>;
  close(): Promise<void>;
}

export function openCliSession(dir: string, o: { log: Logger; confirmAbove: () => number }): CliSession {
  const registry = createBuiltinRegistry((id) => envContext(id), { schemaCache: createSchemaCache(dir) });
  // The database opens only when needed: for product: references, to search, or to run.
  let opened: Promise<ProjectDb> | undefined;
  const db = () => (opened ??= openProjectDb(dir));
  let engine: Engine | undefined;
  const submitter = new Submitter({
    registry,
    log: o.log,
    images: () => new ImageSource({ projectDir: dir, db, maxBytes: inputLimitBytes(), limitHint: INPUT_LIMIT_HINT }),
    schema: (_dir, provider, model) => registry.inputSchema(provider, model),
    hasKey: envHasKey,
    confirmAbove: o.confirmAbove,
    engine: async () => {
      const allowLoopbackHttp = ['fal', 'replicate', 'civitai'].some((p) => envBaseUrl(p));
      engine ??= new Engine({ projectDir: dir, db: await db(), providers: registry, log: o.log, allowLoopbackHttp, makeThumbnails: true, inputLimitBytes: inputLimitBytes(), inputLimitHint: INPUT_LIMIT_HINT });
      return engine;
    },
  });
  return {
    registry,
    submitter,
    db,
    close: async () => {
      if (engine) {
        engine.dispose();
        await engine.idle();
      }
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
}
