import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseParamFile, validateInput } from '../../src/engine/paramFile.ts';
import { sameSeedInput, translateInput } from '../../src/engine/reuse.ts';
import { createBuiltinRegistry } from '../../src/providers/index.ts';
import { startFalFake } from '../fakes/fal.ts';
import { FAL_KEY, fastContext } from './helpers.ts';

// What Import Images makes of an A1111 PNG: the tool's own names (see src/archive/import.ts).
const a1111 = { tool: 'a1111', prompt: 'photo of a duck', negative_prompt: 'blurry', seed: '235284042', steps: 20, cfg_scale: 7, sampler: 'DPM++ 2M Karras', model: 'sd_xl_base_1.0', width: 832, height: 1216 };

test("an imported image's parameters carry over to a fal model's fields, only where they fit", async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  try {
    const registry = createBuiltinRegistry((id) => (id === 'fal' ? fastContext({ getKey: async () => FAL_KEY, baseUrl: fake.baseUrl }) : fastContext()));
    const model = registry.models().find((m) => m.provider === 'fal' && m.id === 'fal-ai/flux/dev')!;
    const schema = await registry.get('fal')!.getInputSchema(model.id);
    const input = translateInput(a1111, model, schema);
    assert.deepEqual(input, { prompt: 'photo of a duck', seed: 235284042, num_inference_steps: 20, image_size: { width: 832, height: 1216 } });
    // The result is a valid parameter file for that model.
    const parsed = parseParamFile(JSON.stringify({ provider: 'fal', model: model.id, input }));
    assert.deepEqual(validateInput(parsed, schema), []);
  } finally {
    await fake.close();
  }
});

test('values that do not fit a field (enum, range, type) stay behind; width and height go to fields of those names', () => {
  const schema = {
    type: 'object',
    properties: {
      text: { type: 'string' },
      width: { type: 'integer', minimum: 64, maximum: 2048 },
      height: { type: 'integer', minimum: 64, maximum: 1024 },
      guidance_scale: { type: 'number', maximum: 5 },
      scheduler: { type: 'string', enum: ['euler', 'ddim'] },
      seed: { type: 'integer' },
    },
  };
  const input = translateInput({ ...a1111, seed: '-5' }, { promptField: 'text' }, { ...schema, properties: { ...schema.properties, seed: { type: 'integer', minimum: 0 } } });
  assert.deepEqual(input, { text: 'photo of a duck', width: 832 });
  // A seed past 2^53 keeps its digits where the field can hold it (test/engine/exactSeed.test.ts).
  assert.equal(translateInput({ seed: '99999999999999999999' }, {}, schema).seed, '99999999999999999999');
});

test('Re-run (same seed): the seed a provider picked is put into the model\'s seed field; a seed the input names, or a model without a seed field, is left alone', () => {
  const made = { input: { prompt: 'herons' }, seed: 665714338 };
  assert.deepEqual(sameSeedInput(made, { seedField: 'seed' }), { prompt: 'herons', seed: 665714338 });
  assert.deepEqual(made.input, { prompt: 'herons' }, 'the product\'s own input is not changed');
  assert.deepEqual(sameSeedInput({ input: { prompt: 'x', seed: 7 }, seed: 7 }, { seedField: 'seed' }), { prompt: 'x', seed: 7 });
  assert.deepEqual(sameSeedInput({ input: { prompt: 'x' }, seed: 5 }, { seedField: 'noise_seed' }), { prompt: 'x', noise_seed: 5 });
  assert.deepEqual(sameSeedInput({ input: { prompt: 'x' }, seed: 5 }, {}), { prompt: 'x' });
  assert.deepEqual(sameSeedInput({ input: { prompt: 'x' } }, { seedField: 'seed' }), { prompt: 'x' });
});
