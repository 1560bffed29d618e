// One project as the command line works with it (`generate`, `mcp`): the providers with keys
// from the environment, the database opened on first use, one engine, and the Submitter every
// generation goes through. Closing ends the engine (after its writes) and the database.
import { Pricing, projectSpending, userCostDir, userSpending } from '../engine/cost/index.ts';
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

/** User budgets on the command line: ARTFACTORY_BUDGETS, the same JSON list as the setting. */
function envBudgets(warn: (line: string) => void): unknown {
  const raw = process.env.ARTFACTORY_BUDGETS;
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    warn('warning: ARTFACTORY_BUDGETS is not valid JSON; it is ignored.');
    return undefined;
  }
}

export interface CliSession {
  registry: ProviderRegistry;
  pricing: Pricing;
  submitter: Submitter;
  db(): Promise<ProjectDb>;
  close(): Promise<void>;
}

export interface CliSessionOptions {
  log: Logger;
  confirmAbove: () => number;
  /** A job whose cost cannot be estimated, under a budget: refused unless allowed (--allow-unpriced). */
  unpriced?: () => 'allow' | 'refuse';
  /** Where a warning about the environment goes (stderr). */
  warn?: (line: string) => void;
}

export function openCliSession(dir: string, o: CliSessionOptions): CliSession {
  const registry = createBuiltinRegistry((id) => envContext(id), { schemaCache: createSchemaCache(dir) });
  // Prices are cached for a day in the user's folder (not the project); budgets from the
  // project's artfactory.json and ARTFACTORY_BUDGETS, counted with every window's spending.
  const userDir = userCostDir();
  const pricing = new Pricing({ registry, cacheDir: userDir, log: o.log });
  const budgets = envBudgets(o.warn ?? ((line) => o.log.warn(line)));
  const spending = projectSpending(dir, { user: userSpending(userDir, () => budgets, o.log), log: o.log });
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
    pricing,
    budgets: () => spending.scopes(),
    unpriced: o.unpriced ?? (() => 'refuse'),
    engine: async () => {
      const allowLoopbackHttp = ['fal', 'replicate', 'civitai'].some((p) => envBaseUrl(p));
      engine ??= new Engine({ projectDir: dir, db: await db(), providers: registry, log: o.log, allowLoopbackHttp, makeThumbnails: true, inputLimitBytes: inputLimitBytes(), inputLimitHint: INPUT_LIMIT_HINT, pricing, spending: spending.guard });
      return engine;
    },
  });
  return {
    registry,
    pricing,
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
