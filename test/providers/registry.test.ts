import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderRegistry, type SchemaCache } from '../../src/providers/registry.ts';
import { createBuiltinRegistry, envBaseUrl, envContext, envKey } from '../../src/providers/index.ts';
import { ProviderError } from '../../src/providers/errors.ts';
import type { JsonSchema, Provider, ProviderContext } from '../../src/providers/types.ts';
import { startFalFake } from '../fakes/fal.ts';
import { startReplicateFake } from '../fakes/replicate.ts';
import { testCtx } from './helpers.ts';

function memoryCache(): SchemaCache & { map: Map<string, JsonSchema> } {
  const map = new Map<string, JsonSchema>();
  return { map, get: async (p, m) => map.get(`${p}:${m}`), set: async (p, m, s) => void map.set(`${p}:${m}`, s) };
}

function stubProvider(id: string, over: Partial<Provider> = {}): Provider {
  const notUsed = async () => {
    throw new Error('not used');
  };
  return {
    id,
    displayName: `Stub ${id}`,
    needsKey: false,
    listModels: () => [{ provider: id, id: 'm1', title: 'M1', capabilities: ['text-to-image'], promptField: 'prompt' }],
    describeModel: async (m) => ({ provider: id, id: m, title: m, capabilities: ['text-to-image'] }),
    getInputSchema: async () => ({ type: 'object', properties: { prompt: { type: 'string' } } }),
    submit: notUsed,
    status: notUsed,
    watch: () => ({ [Symbol.asyncIterator]: () => ({ next: notUsed }) }),
    result: notUsed,
    cancel: notUsed,
    upload: notUsed,
    testConnection: async () => undefined,
    ...over,
  };
}

test('registry: register, get, list, models, dispose; duplicate ids and bad shapes are refused', () => {
  const r = new ProviderRegistry();
  let changes = 0;
  r.onDidChange(() => changes++);
  const d = r.register(stubProvider('ext-one'));
  assert.equal(r.get('ext-one')?.displayName, 'Stub ext-one');
  assert.deepEqual(r.models().map((m) => `${m.provider}/${m.id}`), ['ext-one/m1']);
  assert.throws(() => r.register(stubProvider('ext-one')), /already registered/);
  assert.throws(() => r.register({ id: 'Bad Id' } as unknown as Provider), TypeError);
  assert.throws(() => r.register({ ...stubProvider('x'), submit: undefined } as unknown as Provider), /submit/);
  d.dispose();
  assert.equal(r.get('ext-one'), undefined);
  assert.equal(r.list().length, 0);
  assert.equal(changes, 2);
});

test('registry: a factory gets the context for its id, read lazily', async () => {
  const seen: string[] = [];
  const r = new ProviderRegistry({ ctxFor: (id) => ({ getKey: async () => `key-for-${id}` }) });
  r.register((ctx: ProviderContext) =>
    stubProvider('lazy', {
      testConnection: async () => {
        seen.push((await ctx.getKey()) ?? '');
      },
    }),
  );
  await r.get('lazy')!.testConnection();
  assert.deepEqual(seen, ['key-for-lazy']);
});

test('registry: custom models are described, their schema cached, listed, and removable', async () => {
  const cache = memoryCache();
  const r = new ProviderRegistry({ schemaCache: cache });
  r.register(stubProvider('stub'));
  const m = await r.addCustomModel('stub', ' owner/custom ');
  assert.equal(m.id, 'owner/custom');
  assert.equal(m.custom, true);
  assert.ok(cache.map.has('stub:owner/custom'));
  assert.ok(r.models().some((x) => x.id === 'owner/custom' && x.custom));
  assert.equal(r.customModels().length, 1);
  assert.deepEqual(await r.inputSchema('stub', 'owner/custom'), cache.map.get('stub:owner/custom'));
  assert.equal(r.removeCustomModel('stub', 'owner/custom'), true);
  assert.ok(!r.models().some((x) => x.id === 'owner/custom'));
  await assert.rejects(r.addCustomModel('nope', 'a/b'), (e: unknown) => e instanceof ProviderError && e.kind === 'not_found');
  r.loadCustomModels([{ provider: 'stub', id: 'a/b', title: 'A', capabilities: ['text-to-image'] }]);
  assert.ok(r.models().some((x) => x.id === 'a/b' && x.custom));
});

test('builtin registry: fal and replicate, custom models fetched from the fakes', async () => {
  const fal = await startFalFake({ key: 'fal-k' });
  const rep = await startReplicateFake({ key: 'r8_k' });
  try {
    const cache = memoryCache();
    const keys: Record<string, string> = { fal: 'fal-k', replicate: 'r8_k' };
    const bases: Record<string, string> = { fal: fal.baseUrl, replicate: rep.baseUrl };
    const r = createBuiltinRegistry((id) => testCtx(bases[id] ?? 'http://127.0.0.1:9', keys[id]), { schemaCache: cache });
    assert.ok(r.get('fal') && r.get('replicate'));
    const ids = r.models().map((m) => `${m.provider}:${m.id}`);
    assert.ok(ids.includes('fal:fal-ai/flux/dev') && ids.includes('replicate:black-forest-labs/flux-schnell'));
    const a = await r.addCustomModel('fal', 'fal-ai/recraft/v3/text-to-image');
    assert.equal(a.promptField, 'prompt');
    const b = await r.addCustomModel('replicate', 'someone/new-model');
    assert.equal(b.seedField, 'seed');
    assert.equal(cache.map.size, 2);
  } finally {
    await fal.close();
    await rep.close();
  }
});

test('env helpers read keys and base URLs', async () => {
  const env = { FAL_KEY: 'abc', ARTFACTORY_REPLICATE_BASE_URL: 'http://127.0.0.1:5', REPLICATE_API_TOKEN: ' ' };
  assert.equal(envKey('fal', env), 'abc');
  assert.equal(envKey('replicate', env), undefined);
  assert.equal(envKey('sample', env), undefined);
  assert.equal(envBaseUrl('replicate', env), 'http://127.0.0.1:5');
  assert.equal(envBaseUrl('fal', env), undefined);
  assert.equal(await envContext('fal', env).getKey(), 'abc');
  // Civitai's mature content only when the command line's environment asks for it, and only for Civitai.
  assert.equal(envContext('civitai', env).allowMatureContent, false);
  assert.equal(envContext('civitai', { ARTFACTORY_CIVITAI_ALLOW_MATURE_CONTENT: '1' }).allowMatureContent, true);
  assert.equal(envContext('civitai', { ARTFACTORY_CIVITAI_ALLOW_MATURE_CONTENT: 'true' }).allowMatureContent, true);
  assert.equal(envContext('civitai', { ARTFACTORY_CIVITAI_ALLOW_MATURE_CONTENT: '0' }).allowMatureContent, false);
  assert.equal(envContext('fal', { ARTFACTORY_CIVITAI_ALLOW_MATURE_CONTENT: '1' }).allowMatureContent, false);
});

test('registry: downloadFetch rewrites output URLs to the provider base and sends no key', async () => {
  const rep = await startReplicateFake({ key: 'r8_dl' });
  try {
    const r = createBuiltinRegistry((id) => testCtx(id === 'replicate' ? rep.baseUrl : 'http://127.0.0.1:9', 'r8_dl'));
    const p = r.get('replicate')!;
    const sub = await p.submit({ model: 'black-forest-labs/flux-schnell', input: { prompt: 'x' } });
    for await (const _u of p.watch({ model: 'black-forest-labs/flux-schnell', requestId: sub.requestId }, { intervalMs: 1 })) {
      /* until done */
    }
    const res = await p.result({ model: 'black-forest-labs/flux-schnell', requestId: sub.requestId });
    const dl = await r.downloadFetch('replicate')(res.artifacts[0].url!);
    assert.equal(dl.headers.get('content-type'), 'image/png');
    assert.ok((await dl.arrayBuffer()).byteLength > 50);
    const get = rep.captured.find((c) => c.url.startsWith('/replicate.delivery/'))!;
    assert.equal(get.headers.authorization, undefined);
  } finally {
    await rep.close();
  }
});
