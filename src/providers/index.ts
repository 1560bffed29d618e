// The built-in provider set and the environment fallbacks used by the CLI and tests.

import { createCivitaiProvider } from './civitai/adapter.ts';
import { createFalProvider } from './fal.ts';
import { ProviderRegistry, type SchemaCache } from './registry.ts';
import { createReplicateProvider } from './replicate.ts';
import { createSampleProvider } from './sample.ts';
import type { ProviderContext, ProviderFactory } from './types.ts';

/** Environment variables holding keys, per provider (fallback after SecretStorage). */
export const ENV_KEY_NAMES: Readonly<Record<string, string>> = { fal: 'FAL_KEY', replicate: 'REPLICATE_API_TOKEN', civitai: 'CIVITAI_API_TOKEN' };
/** Environment variables redirecting a provider to `http://127.0.0.1:PORT` (tests, proxies). */
export const ENV_BASE_URL_NAMES: Readonly<Record<string, string>> = {
  fal: 'ARTFACTORY_FAL_BASE_URL',
  replicate: 'ARTFACTORY_REPLICATE_BASE_URL',
  civitai: 'ARTFACTORY_CIVITAI_BASE_URL',
};

/** The provider's key from the environment, if set. */
export function envKey(providerId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = ENV_KEY_NAMES[providerId];
  const v = name ? env[name]?.trim() : undefined;
  return v || undefined;
}

/** The provider's base-URL override from the environment, if set. */
export function envBaseUrl(providerId: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = ENV_BASE_URL_NAMES[providerId];
  const v = name ? env[name]?.trim() : undefined;
  return v || undefined;
}

/** A context from the environment alone (command line, tests). Civitai's mature content is
 * allowed with ARTFACTORY_CIVITAI_ALLOW_MATURE_CONTENT=1 (or true). */
export function envContext(providerId: string, env: NodeJS.ProcessEnv = process.env, extra: Partial<ProviderContext> = {}): ProviderContext {
  const allowMatureContent = providerId === 'civitai' && /^(1|true|yes)$/i.test(env.ARTFACTORY_CIVITAI_ALLOW_MATURE_CONTENT?.trim() ?? '');
  return { getKey: async () => envKey(providerId, env), baseUrl: envBaseUrl(providerId, env), allowMatureContent, ...extra };
}

/**
 * The built-in providers: fal, Replicate, Civitai and the offline Sample provider.
 * `extraFactories` lets a caller add more (each is called with a context for its own id).
 */
export function createBuiltinRegistry(
  ctxFor: (providerId: string) => ProviderContext,
  opts: { schemaCache?: SchemaCache; extraFactories?: ProviderFactory[] } = {},
): ProviderRegistry {
  const registry = new ProviderRegistry({ ctxFor, schemaCache: opts.schemaCache });
  registry.register(createFalProvider, ctxFor('fal'));
  registry.register(createReplicateProvider, ctxFor('replicate'));
  registry.register(createCivitaiProvider, ctxFor('civitai'));
  registry.register(createSampleProvider, ctxFor('sample'));
  for (const f of opts.extraFactories ?? []) registry.register(f);
  return registry;
}
