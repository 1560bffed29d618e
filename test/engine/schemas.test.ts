// Parameter-file schemas and checks outside the editor: the hint schemas we write for `$schema`
// (completion without a second set of problems), the `$schema` every written or shipped file
// names, and the checks a gallery Re-run gets before anything is sent.
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readFileSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { checkSpec, parseParamFile, problemClause, validateInput } from '../../src/engine/paramFile.ts';
import { ensureModelSchema, envelopeSchema, hasModelSchema, hintSchema, modelSchemaPath, schemaRefOf, withSchemaRef, writeModelSchema } from '../../src/engine/schemas.ts';
import { parseCheckpointAir } from '../../src/providers/civitai/air.ts';
import { civitaiInputSchema } from '../../src/providers/civitai/input.ts';
import type { JsonSchema } from '../../src/providers/types.ts';
import { shippedSchemas } from '../../scripts/schemas.ts';

const ROOT = path.resolve(__dirname, '../..');

/** A model schema like fal's: required prompt, ranges, an enum, a oneOf, no extra fields. */
const MODEL: JsonSchema = {
  type: 'object',
  required: ['prompt'],
  additionalProperties: false,
  properties: {
    prompt: { type: 'string', minLength: 1, description: 'What to draw.' },
    num_images: { type: 'integer', minimum: 1, maximum: 4, default: 1, description: 'How many images.' },
    output_format: { enum: ['jpeg', 'png'], default: 'jpeg' },
    enable_safety_checker: { type: 'boolean', default: true },
    image_size: { oneOf: [{ enum: ['square', 'landscape_4_3'] }, { type: 'object', properties: { width: { type: 'integer', minimum: 64 } }, required: ['width'] }] },
  },
};

test('a hint schema accepts everything (so VS Code lists no second problem) yet keeps fields, defaults and allowed values for completion', async () => {
  const full = envelopeSchema(MODEL, 'fal', 'fal-ai/flux/dev');
  const hint = hintSchema(full);
  const ajv = new Ajv({ strict: false, allErrors: true });
  const bad = [
    { provider: 'replicate', model: 'x', input: { num_images: 99, output_format: 'gif', image_size: 7, extra: 1 }, unknown: true },
    { input: 'not an object' },
    42,
  ];
  for (const doc of bad) {
    assert.equal(ajv.validate(full, doc), false, `the full schema refuses ${JSON.stringify(doc)}`);
    assert.equal(ajv.validate(hint, doc), true, `the hint schema lets ${JSON.stringify(doc)} through: ${ajv.errorsText()}`);
  }
  const input = (hint.properties as Record<string, JsonSchema>).input;
  const props = input.properties as Record<string, JsonSchema>;
  assert.deepEqual(Object.keys(props), Object.keys(MODEL.properties as object), 'every field is still offered');
  assert.deepEqual(props.output_format.examples, ['jpeg', 'png'], 'allowed values are offered as examples');
  assert.deepEqual(props.enable_safety_checker.examples, [true, false]);
  assert.equal(props.num_images.default, 1);
  assert.equal(props.num_images.description, 'How many images. From 1 to 4.', 'the range is said on hover');
  assert.ok(Array.isArray(props.image_size.anyOf) && !('oneOf' in props.image_size), 'oneOf (exactly one) becomes anyOf: every hint branch matches');
  assert.equal(await hasModelSchema(os.tmpdir(), 'fal', 'nothing-here'), false);
});

test('the shipped schemas (the envelope VS Code associates, the demo project\'s) are the ones the code writes', async () => {
  const files = await shippedSchemas();
  assert.ok(files.size >= 3, `${files.size} shipped schema files`);
  for (const [file, text] of files) assert.equal(existsSync(file) && readFileSync(file, 'utf8'), text, `${path.relative(ROOT, file)} is out of date: run node --import tsx scripts/schemas.ts`);
});

test("every demo parameter file names its model's schema in the project (and the offline ones ship)", () => {
  const dir = path.join(ROOT, 'demo', 'params');
  const names = readdirSync(dir).filter((f) => f.endsWith('.art.json'));
  assert.ok(names.length >= 5);
  for (const name of names) {
    const text = readFileSync(path.join(dir, name), 'utf8');
    const value = parseParamFile(text).value!;
    assert.equal(schemaRefOf(text), `../${modelSchemaPath(value.provider, value.model)}`, name);
    if (value.provider === 'sample' || value.provider === 'civitai') assert.ok(existsSync(path.join(ROOT, 'demo', modelSchemaPath(value.provider, value.model))), `${name}: its schema ships`);
  }
});

test('a file written without the full schema still names one that resolves: the envelope at once, the model once it can be read', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'af-schema-'));
  const params = path.join(dir, 'params');
  const schemaFile = path.join(dir, modelSchemaPath('fal', 'fal-ai/flux/dev'));
  // Offline: the envelope only, so the reference resolves.
  const ref = await ensureModelSchema(dir, 'fal', 'fal-ai/flux/dev', params, () => Promise.reject(new Error('offline')));
  assert.equal(path.resolve(params, ref), schemaFile);
  const envelopeOnly = JSON.parse(await fs.readFile(schemaFile, 'utf8')) as JsonSchema;
  assert.equal((envelopeOnly.properties as Record<string, JsonSchema>).input.properties, undefined);
  assert.equal(await hasModelSchema(dir, 'fal', 'fal-ai/flux/dev'), false);
  // Online later: the model's fields.
  await ensureModelSchema(dir, 'fal', 'fal-ai/flux/dev', params, async () => MODEL);
  assert.ok((JSON.parse(await fs.readFile(schemaFile, 'utf8')) as { properties: { input: { properties: object } } }).properties.input.properties);
  assert.equal(await hasModelSchema(dir, 'fal', 'fal-ai/flux/dev'), true);
  // A schema an older version wrote (one that validates) is not taken for ours: it is written again.
  await fs.writeFile(schemaFile, JSON.stringify(envelopeSchema(MODEL, 'fal', 'fal-ai/flux/dev')));
  assert.equal(await hasModelSchema(dir, 'fal', 'fal-ai/flux/dev'), false);
  await writeModelSchema(dir, 'fal', 'fal-ai/flux/dev', MODEL);
  assert.equal(await hasModelSchema(dir, 'fal', 'fal-ai/flux/dev'), true);
});

test('withSchemaRef puts $schema first (or replaces it) and keeps the rest of the text as written', () => {
  const text = '{\n  "provider": "sample",\n  // a comment\n  "model": "sample/gradient",\n  "input": { "prompt": "{{subject}}" }\n}\n';
  const out = withSchemaRef(text, '../.artfactory/schemas/x.schema.json');
  assert.match(out, /^\{\n {2}"\$schema": "\.\.\/\.artfactory\/schemas\/x\.schema\.json",\n {2}"provider"/);
  assert.ok(out.includes('// a comment') && out.includes('"input": { "prompt": "{{subject}}" }'));
  assert.equal(schemaRefOf(withSchemaRef(out, 'y.json')), 'y.json', 'an existing reference is replaced, not doubled');
  assert.equal((withSchemaRef(out, 'y.json').match(/\$schema/g) ?? []).length, 1);
  assert.equal(schemaRefOf('{"$schema": "https://example.com/s.json"}'), undefined, 'a URL is not a project file');
  assert.equal(withSchemaRef('[1, 2]', 'x'), '[1, 2]', 'not an object: left alone');
});

test("a Re-run's recipe gets a parameter file's checks: an imported image without a prompt is stopped before anything is sent", () => {
  const schema = civitaiInputSchema(parseCheckpointAir('urn:air:sdxl:checkpoint:civitai:101055@128078'));
  const problems = checkSpec({ provider: 'civitai', model: 'urn:air:sdxl:checkpoint:civitai:101055@128078', input: { steps: 500, seed: 3 } }, schema);
  assert.deepEqual(
    problems.map((p) => problemClause(p, false)),
    ['Missing required field "prompt"', '"steps" must be <= 150'],
  );
  assert.deepEqual(checkSpec({ provider: 'civitai', model: 'urn:air:sdxl:checkpoint:civitai:101055@128078', input: { prompt: 'a fox' } }, schema), []);
  assert.equal(checkSpec({ provider: '', model: 'm', input: {} }, undefined).length, 1, 'the envelope is checked even with no schema');
});

test('a problem joins a sentence once: no "1536., line 6)"', () => {
  const text = '{\n  "provider": "sample",\n  "model": "sample/gradient",\n  "input": {\n    "prompt": "x",\n    "width": 9999\n  }\n}\n';
  const parsed = parseParamFile(text);
  const [width] = validateInput(parsed, { type: 'object', properties: { prompt: { type: 'string' }, width: { type: 'integer', maximum: 1536 } } });
  assert.match(width.message, /1536\.$/, 'the problem itself is a sentence');
  const sentence = `has 1 problem; the first: ${problemClause(width)}. Nothing was sent.`;
  assert.equal(sentence, 'has 1 problem; the first: "width" must be <= 1536 (line 6). Nothing was sent.');
  assert.doesNotMatch(sentence, /\.[,)]/);
});

test('JSON syntax errors are marked as such (VS Code lists them; we keep them only to stop a Generate)', () => {
  const parsed = parseParamFile('{\n  "provider": "sample"\n  "model": "x",\n  "input": {}\n');
  assert.ok(parsed.diagnostics.length >= 2);
  assert.ok(parsed.diagnostics.every((d) => d.syntax === true), JSON.stringify(parsed.diagnostics));
  assert.equal(parseParamFile('{"provider": "", "model": "m", "input": {}}').diagnostics.some((d) => d.syntax), false);
});
