// Seeds past 2^53 (ComfyUI's and Fooocus's go to 2^64 - 1) kept as their exact digits from the
// parameter file to the provider's wire and back into the product; Reuse writes them exactly.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { test } from 'node:test';
import { expandJobs, parseParamFile, stringifyParamFile, validateInput } from '../../src/engine/paramFile.ts';
import { translateInput } from '../../src/engine/reuse.ts';
import { markExactIntegers, restoreExactIntegers } from '../../src/providers/exactJson.ts';
import { readSidecar, sidecarPath } from '../../src/storage/index.ts';
import { startFalFake } from '../fakes/fal.ts';
import { pngTexts } from '../readers.ts';
import { FAL_KEY, rig } from './helpers.ts';

const BIG = '18446744073709551557'; // a ComfyUI seed: 2^64 - 59; as a double it would be 18446744073709551616

test('a parameter file keeps a seed past 2^53 as its digits: input.seed, seeds, a seed sweep; count steps on exactly', () => {
  const parsed = parseParamFile(`{
  "provider": "fal", "model": "fal-ai/flux/dev",
  "input": { "prompt": "a fox", "seed": ${BIG} },
  "count": 2
}`);
  assert.deepEqual(parsed.diagnostics, []);
  assert.equal(parsed.value!.input.seed, BIG);
  assert.deepEqual(
    expandJobs(parsed.value!).map((j) => [j.seed, j.input.seed]),
    [
      [BIG, BIG],
      ['18446744073709551558', '18446744073709551558'],
    ],
  );
  const seeds = parseParamFile('{"provider":"fal","model":"m","input":{"prompt":"x"},"seeds":[9007199254740993, 7]}');
  assert.deepEqual(expandJobs(seeds.value!).map((j) => j.seed), ['9007199254740993', 7]);
  // Up to 2^64 − 1 (ComfyUI's largest); one more is refused at the seed, with the limit.
  assert.deepEqual(expandJobs(parseParamFile('{"provider":"fal","model":"m","input":{},"seeds":[18446744073709551615]}').value!).map((j) => j.seed), ['18446744073709551615']);
  const over = parseParamFile('{"provider":"fal","model":"m","input":{},"seeds":[18446744073709551616]}');
  assert.equal(over.value, undefined);
  assert.deepEqual(over.diagnostics.map((d) => [d.path.join('.'), d.message]), [['seeds.0', '"seeds.0": A seed is at most 18446744073709551615 (2^64 − 1, the largest any tool uses).']]);
  const sweep = parseParamFile('{"provider":"fal","model":"m","input":{"prompt":"x"},"sweep":{"seed":[12345678901234567890, 1]}}');
  assert.deepEqual(expandJobs(sweep.value!).map((j) => j.input.seed), ['12345678901234567890', 1]);
  // Ordinary numbers read as before; a non-seed field is not touched.
  const small = parseParamFile('{"provider":"fal","model":"m","input":{"prompt":"x","seed":42,"big":12345678901234567890}}');
  assert.equal(small.value!.input.seed, 42);
  assert.equal(typeof small.value!.input.big, 'number');
});

test("the exact digits go out as a JSON integer (not a string, not rounded), against fal's fake; the product records them", async () => {
  const fake = await startFalFake({ key: FAL_KEY });
  const r = await rig({ falBaseUrl: fake.baseUrl });
  try {
    const schema = await r.registry.get('fal')!.getInputSchema('fal-ai/flux/dev');
    const parsed = parseParamFile(JSON.stringify({ provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'exact', seed: 0 } }).replace('"seed":0', `"seed":${BIG}`));
    assert.deepEqual(validateInput(parsed, schema), [], 'a valid integer for the schema');
    const [job] = await r.engine.submit(expandJobs(parsed.value!));
    const [done] = await r.engine.waitFor([job.id]);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    const submit = fake.captured.find((c) => c.method === 'POST' && c.url.includes('fal-ai/flux/dev'))!;
    assert.match(submit.body.toString('utf8'), new RegExp(`"seed":${BIG}[,}]`), 'the request body carries the digits as an integer');
    assert.equal(done.input.seed, BIG, 'the job keeps the digits');
    const product = (await r.db.getProduct(done.productIds[0]))!;
    assert.equal(product.seed, BIG, 'the provider answered a rounded number; the exact input wins');
    assert.equal((await readSidecar(sidecarPath(r.dir, product))).seed, BIG);
    const embedded = pngTexts(await fs.readFile(`${r.dir}/${product.file}`));
    assert.match(embedded.parameters, new RegExp(`Seed: ${BIG}`), "the PNG's own A1111 text has the digits");
  } finally {
    await r.close();
    await fake.close();
  }
});

test('Reuse: an imported 64-bit seed goes to a model whose seed field holds it, as a plain integer in the new file; not to one whose range does not', async () => {
  const imported = { tool: 'comfyui', prompt: 'a heron', seed: BIG, steps: 20 };
  const open = { type: 'object', properties: { prompt: { type: 'string' }, seed: { type: 'integer', minimum: 0 }, num_inference_steps: { type: 'integer' } } };
  const input = translateInput(imported, { promptField: 'prompt', seedField: 'seed' }, open);
  assert.deepEqual(input, { prompt: 'a heron', seed: BIG, num_inference_steps: 20 });
  const text = stringifyParamFile({ provider: 'fal', model: 'fal-ai/flux/dev', input });
  assert.match(text, new RegExp(`"seed": ${BIG},`), 'written as a JSON integer, not a string');
  const back = parseParamFile(text);
  assert.equal(back.value!.input.seed, BIG);
  assert.deepEqual(validateInput(back, open), []);
  // A model taking 32-bit seeds (Civitai, Sample: maximum 4294967295): the seed stays behind.
  const narrow = { ...open, properties: { ...open.properties, seed: { type: 'integer', minimum: 0, maximum: 4294967295 } } };
  assert.equal(translateInput(imported, { seedField: 'seed' }, narrow).seed, undefined);
  assert.equal(translateInput({ seed: '4294967295' }, { seedField: 'seed' }, narrow).seed, 4294967295, 'digits in range become a number');
});

test('exact JSON: only the marked field becomes a bare integer; text that looks like a marker is left alone', () => {
  const body = JSON.stringify(markExactIntegers({ prompt: 'write exact-integer:5 and "\\u0000exact-integer:6"', seed: BIG, other: BIG }, ['seed']));
  const sent = JSON.parse(restoreExactIntegers(body).replace(new RegExp(`:${BIG}`), ':"digits"'));
  assert.equal(sent.seed, 'digits', 'the seed was a bare integer');
  assert.equal(sent.other, BIG, 'an unmarked field stays a string');
  assert.equal(sent.prompt, 'write exact-integer:5 and "\\u0000exact-integer:6"');
  assert.deepEqual(markExactIntegers({ seed: 42 }, ['seed']), { seed: 42 });
});
