// The set of providers the product knows: built-ins plus those other VS Code extensions
// register through the API object `activate()` returns, and the user's custom models (any fal
// endpoint id, Replicate owner/name[:version] or Civitai checkpoint AIR) whose schemas are
// cached in the project.

import { ProviderError } from './errors.ts';
import { createProviderFetch, type FetchFn } from './net/fetch.ts';
import type { JsonSchema, ModelInfo, Provider, ProviderContext, ProviderFactory } from './types.ts';

/** Where model input schemas are cached (the engine backs it with `.artfactory/schemas/`). */
export interface SchemaCache {
  get(provider: string, model: string): Promise<JsonSchema | undefined>;
  set(provider: string, model: string, schema: JsonSchema): Promise<void>;
}

export interface Disposable {
  dispose(): void;
}

export interface ProviderRegistryOptions {
  /** Context for providers registered as factories. */
  ctxFor?: (providerId: string) => ProviderContext;
  schemaCache?: SchemaCache;
}

const PROVIDER_ID = /^[a-z][a-z0-9-]{0,39}$/;
const METHODS = ['listModels', 'describeModel', 'getInputSchema', 'submit', 'status', 'watch', 'result', 'cancel', 'upload', 'testConnection'] as const;

/** Providers from other extensions are untrusted shapes: check before accepting. */
function assertProviderShape(p: unknown): asserts p is Provider {
  const o = p as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') throw new TypeError('registerProvider: expected a Provider object or a factory function.');
  if (typeof o.id !== 'string' || !PROVIDER_ID.test(o.id)) throw new TypeError('registerProvider: `id` must be lowercase letters, digits and dashes (e.g. "my-provider").');
  if (typeof o.displayName !== 'string' || !o.displayName.trim()) throw new TypeError(`registerProvider(${o.id}): \`displayName\` is required.`);
  for (const m of METHODS) if (typeof o[m] !== 'function') throw new TypeError(`registerProvider(${o.id}): method \`${m}\` is missing.`);
}

export class ProviderRegistry {
  private readonly providers = new Map<string, Provider>();
  private readonly custom = new Map<string, ModelInfo>();
  private readonly listeners = new Set<() => void>();
  private readonly ctxFor: (providerId: string) => ProviderContext;
  private schemaCache: SchemaCache | undefined;

  constructor(opts: ProviderRegistryOptions = {}) {
    this.ctxFor = opts.ctxFor ?? (() => ({ getKey: async () => undefined }));
    this.schemaCache = opts.schemaCache;
  }

  /** Add a provider (or a factory, called with this registry's context for its id). Ids are unique:
   * registering an id that is taken throws, so an extension cannot shadow a built-in. */
  register(providerOrFactory: Provider | ProviderFactory, ctx?: ProviderContext): Disposable {
    let provider: Provider;
    if (typeof providerOrFactory === 'function') {
      // The factory needs a context before we know its id: hand it one that resolves lazily.
      let id = '';
      const lazy: ProviderContext = ctx ?? lazyContext(() => this.ctxFor(id));
      provider = providerOrFactory(lazy);
      assertProviderShape(provider);
      id = provider.id;
    } else {
      provider = providerOrFactory;
      assertProviderShape(provider);
    }
    if (this.providers.has(provider.id)) throw new Error(`A provider with id "${provider.id}" is already registered.`);
    this.providers.set(provider.id, provider);
    this.changed();
    const registered = provider;
    return {
      dispose: () => {
        if (this.providers.get(registered.id) === registered) {
          this.providers.delete(registered.id);
          this.changed();
        }
      },
    };
  }

  get(id: string): Provider | undefined {
    return this.providers.get(id);
  }

  list(): Provider[] {
    return [...this.providers.values()];
  }

  /** Built-in models of every provider, then the custom ones (a custom id equal to a built-in is not repeated). */
  models(): ModelInfo[] {
    const out: ModelInfo[] = [];
    const seen = new Set<string>();
    for (const p of this.providers.values()) {
      let list: ModelInfo[] = [];
      try {
        list = p.listModels();
      } catch {
        list = []; // a broken extension provider must not hide the others
      }
      for (const m of list) {
        const k = `${p.id}\u0000${m.id}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ ...m, provider: p.id });
      }
    }
    for (const m of this.custom.values()) {
      const k = `${m.provider}\u0000${m.id}`;
      if (!seen.has(k) && this.providers.has(m.provider)) out.push({ ...m });
    }
    return out;
  }

  customModels(): ModelInfo[] {
    return [...this.custom.values()].map((m) => ({ ...m }));
  }

  /** Restore custom models saved earlier (e.g. from globalState), without network. */
  loadCustomModels(models: ModelInfo[]): void {
    for (const m of models) if (m && typeof m.provider === 'string' && typeof m.id === 'string') this.custom.set(`${m.provider}\u0000${m.id}`, { ...m, custom: true });
    this.changed();
  }

  /** Describe the model and fetch its input schema from the provider, cache the schema, remember the model. */
  async addCustomModel(providerId: string, modelId: string, signal?: AbortSignal): Promise<ModelInfo> {
    const provider = this.providers.get(providerId);
    if (!provider) throw new ProviderError('not_found', providerId, `Unknown provider "${providerId}". Use one of: ${[...this.providers.keys()].join(', ')}.`);
    const id = modelId.trim();
    const info = await provider.describeModel(id, signal);
    const schema = await provider.getInputSchema(id, signal);
    await this.schemaCache?.set(providerId, id, schema);
    const model: ModelInfo = { ...info, provider: providerId, id, custom: true };
    this.custom.set(`${providerId}\u0000${id}`, model);
    this.changed();
    return { ...model };
  }

  removeCustomModel(providerId: string, modelId: string): boolean {
    const removed = this.custom.delete(`${providerId}\u0000${modelId}`);
    if (removed) this.changed();
    return removed;
  }

  /** The model's input schema: from the cache, else from the provider (then cached). */
  async inputSchema(providerId: string, modelId: string, signal?: AbortSignal, cache: SchemaCache | undefined = this.schemaCache): Promise<JsonSchema> {
    const cached = await cache?.get(providerId, modelId);
    if (cached) return cached;
    const provider = this.providers.get(providerId);
    if (!provider) throw new ProviderError('not_found', providerId, `Unknown provider "${providerId}".`);
    const schema = await provider.getInputSchema(modelId, signal);
    await cache?.set(providerId, modelId, schema);
    return schema;
  }

  /** The context a provider id gets (the one factories receive). */
  contextFor(providerId: string): ProviderContext {
    return this.ctxFor(providerId);
  }

  /** A fetch for a provider's output URLs: base-URL rewrite, https-only, retries with backoff,
   * no rate limit and no credentials. The engine downloads artifacts with it. */
  downloadFetch(providerId: string): FetchFn {
    return createProviderFetch(providerId, this.ctxFor(providerId), 'download');
  }

  setSchemaCache(cache: SchemaCache | undefined): void {
    this.schemaCache = cache;
  }

  /** Called after any change to providers or custom models. */
  onDidChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}

/** A context whose every field is read from `resolve()` at use time. */
function lazyContext(resolve: () => ProviderContext): ProviderContext {
  return {
    getKey: () => resolve().getKey(),
    get baseUrl() {
      return resolve().baseUrl;
    },
    get limits() {
      return resolve().limits;
    },
    get log() {
      return resolve().log;
    },
    get sleep() {
      return resolve().sleep;
    },
    get now() {
      return resolve().now;
    },
    get random() {
      return resolve().random;
    },
  };
}
