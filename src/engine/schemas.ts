// JSON schemas for parameter files, written into the project so `$schema` resolves offline
// and in any editor: one file per model holding the envelope with the model's input schema
// under `properties.input`, for completion and hover (fields, defaults, allowed values).
//
// They are hint schemas: every validation keyword is taken out (enums become examples, so
// they are still offered). Art Factory checks parameter files itself, with the field's name
// in the message, as errors that stop a Generate; a validating $schema made VS Code's JSON
// service report each problem a second time, as a warning in its own words.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { applyEdits, modify, parseTree } from 'jsonc-parser';
import type { SchemaCache } from '../providers/registry.ts';
import { writeFileAtomic } from '../storage/atomic.ts';
import { ProjectPaths } from '../storage/productPaths.ts';
import type { JsonSchema, ModelInfo } from '../providers/types.ts';
import { compileSchema } from './paramFile.ts';
import { backtracksBadly, patternsOf } from './safeRegex.ts';
import { acceptImageReferences } from './imageFields.ts';
import { imageFieldsOf } from './imageInputs.ts';

const SCHEMAS_DIR = '.artfactory/schemas';
/** A model's input schema is a few KB to a few hundred; larger files are not read. */
export const MAX_SCHEMA_BYTES = 4 * 1024 * 1024;

/** A file-name slug that can never climb out of the folder, short enough for any file system. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  // Different ids can slug alike (a/b vs a-b): a short hash keeps them apart.
  return `${s || 'model'}-${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
}

/** Project-relative path of a model's full parameter-file schema. */
export function modelSchemaPath(provider: string, model: string): string {
  return `${SCHEMAS_DIR}/${slug(provider)}/${slug(model)}.schema.json`;
}

function inputCacheRel(provider: string, model: string): string {
  return `${SCHEMAS_DIR}/${slug(provider)}/${slug(model)}.input.json`;
}

/** A cached schema's text, or undefined when missing, too large, or refused by the path rule. */
async function readCached(read: () => Promise<Buffer>): Promise<JsonSchema | undefined> {
  try {
    const bytes = await read();
    if (bytes.length > MAX_SCHEMA_BYTES) return undefined;
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as JsonSchema) : undefined;
  } catch {
    return undefined;
  }
}

/** The envelope every parameter file shares (also shipped as media/schemas/art.schema.json). */
export function envelopeSchema(input: JsonSchema = { type: 'object', description: 'The model\'s inputs.' }, provider?: string, model?: string): JsonSchema {
  const scalarOrAny = {};
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: model ? `Art Factory parameters for ${provider} ${model}` : 'Art Factory parameter file',
    type: 'object',
    required: ['provider', 'model', 'input'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string', description: 'The schema that gives this file completion and hover for its model (Art Factory checks the values).' },
      provider: provider
        ? { const: provider, description: 'The provider that runs this model.' }
        : { type: 'string', description: 'The provider that runs the model.', examples: ['fal', 'replicate', 'civitai', 'sample'], anyOf: [{ enum: ['fal', 'replicate', 'civitai', 'sample'] }, { type: 'string' }] },
      model: model ? { const: model, description: 'The model id. Run "New Parameter File" to start a file for another model.' } : { type: 'string', description: 'The model id: a fal endpoint id, Replicate owner/name[:version], a Civitai AIR, or sample/….' },
      input: input,
      count: { type: 'integer', minimum: 1, maximum: 100, default: 1, description: 'How many jobs per combination (with a fixed seed, successive jobs take successive seeds).' },
      seeds: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, maxItems: 100, description: 'One job per seed.' },
      sweep: {
        type: 'object',
        description: 'Axes to sweep: each input field here takes each listed value, as a cartesian product (e.g. 2 prompts × 3 guidance values = 6 jobs).',
        additionalProperties: { type: 'array', minItems: 1, maxItems: 100, items: scalarOrAny },
      },
      template: { type: 'string', description: 'Name of a template to start from; this file\'s input overrides it.' },
      variables: { type: 'object', additionalProperties: { type: 'string' }, description: 'Values for the template\'s {{variables}}.' },
    },
  };
}

/** Keywords that only validate. Taken out of hint schemas; enum and const become examples. */
const VALIDATION_ONLY = new Set([
  'type', 'enum', 'const', 'required', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'format',
  'minItems', 'maxItems', 'uniqueItems', 'contains', 'minContains', 'maxContains', 'additionalItems', 'minProperties', 'maxProperties', 'propertyNames',
  'dependencies', 'dependentRequired', 'dependentSchemas', 'if', 'then', 'else', 'not', 'unevaluatedProperties', 'unevaluatedItems',
]);
const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs']);

/** A schema for completion and hover only: the same fields, descriptions and defaults, with
 * allowed values as examples, the ranges said in the description, and nothing that fails. */
export function hintSchema(schema: JsonSchema): JsonSchema {
  return { $comment: HINT_COMMENT, ...hintOf(schema) as JsonSchema };
}

function hintOf(v: unknown): unknown {
  return isSchemaMap(v) ? hint(v as JsonSchema) : v;
}

function hint(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (SUBSCHEMA_MAPS.has(k) && isSchemaMap(v)) out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, hintOf(sub)]));
    else if (k === 'items') out.items = Array.isArray(v) ? v.map(hintOf) : hintOf(v);
    else if (k === 'additionalProperties') {
      if (v && typeof v === 'object') out.additionalProperties = hintOf(v);
    } else if (k === 'anyOf' || k === 'oneOf' || k === 'allOf') {
      // Every branch of a hint matches, so oneOf ("exactly one") would always fail.
      const key = k === 'allOf' ? 'allOf' : 'anyOf';
      if (Array.isArray(v)) out[key] = [...((out[key] as unknown[] | undefined) ?? []), ...v.map(hintOf)];
    } else if (!VALIDATION_ONLY.has(k)) out[k] = v;
  }
  const types = ([] as unknown[]).concat(schema.type ?? []);
  const examples = [...(Array.isArray(schema.examples) ? schema.examples : []), ...(Array.isArray(schema.enum) ? schema.enum : []), ...('const' in schema ? [schema.const] : []), ...(types.includes('boolean') ? [true, false] : [])];
  if (examples.length) out.examples = [...new Map(examples.map((e) => [JSON.stringify(e), e])).values()];
  const [min, max] = [schema.minimum, schema.maximum].map((n) => (typeof n === 'number' ? n : undefined));
  const range = min !== undefined && max !== undefined ? `From ${min} to ${max}.` : min !== undefined ? `At least ${min}.` : max !== undefined ? `At most ${max}.` : '';
  if (range) out.description = typeof schema.description === 'string' && schema.description.trim() ? `${schema.description.trim()} ${range}` : range;
  return out;
}

function isSchemaMap(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** The text of a model's schema file: the envelope with the model's input, as a hint schema.
 * Image fields take paths and product: references too: their descriptions say so. */
export function modelSchemaText(provider: string, model: string, inputSchema: JsonSchema, info?: Pick<ModelInfo, 'imageFields'>): string {
  const forEditor = acceptImageReferences(inputSchema, imageFieldsOf(info, inputSchema));
  return JSON.stringify(hintSchema(envelopeSchema(forEditor, provider, model)), null, 2);
}

/** Writes the model's schema into the project (a hint schema, see above; under the path rule);
 * returns its
 * project-relative path. */
export async function writeModelSchema(projectDir: string, provider: string, model: string, inputSchema: JsonSchema, info?: Pick<ModelInfo, 'imageFields'>): Promise<string> {
  const paths = new ProjectPaths(projectDir);
  const rel = modelSchemaPath(provider, model);
  await paths.ensureDir(rel.slice(0, rel.lastIndexOf('/')), '.artfactory');
  for (const [file, text] of [
    [rel, modelSchemaText(provider, model, inputSchema, info)],
    [inputCacheRel(provider, model), JSON.stringify(inputSchema)],
  ]) {
    await writeFileAtomic((await paths.resolve(file, '.artfactory', { kind: 'file' })).abs, text);
  }
  return rel;
}

/** Says what a schema file we write is; a file without it is from an older version (one that
 * validated) and is written again. */
const HINT_COMMENT = 'Art Factory hint schema: completion and hover only; Art Factory checks the values.';

/** Whether the project has the model's full schema as we write it now (not only the envelope
 * written meanwhile, nor an older validating one). */
export async function hasModelSchema(projectDir: string, provider: string, model: string): Promise<boolean> {
  const paths = new ProjectPaths(projectDir);
  if (!(await readCached(() => paths.readFile(inputCacheRel(provider, model), '.artfactory')))) return false;
  return (await readCached(() => paths.readFile(modelSchemaPath(provider, model), '.artfactory')))?.$comment === HINT_COMMENT;
}

/** The `$schema` reference of a parameter file in `fromDir` for a model, with the model's
 * schema file made when the project has none: at once with the envelope alone (so the
 * reference resolves even offline, or with no key yet), then with the model's fields from
 * `inputSchema` (the cached one, else the provider's) once it can be read. */
export async function ensureModelSchema(projectDir: string, provider: string, model: string, fromDir: string, inputSchema: () => Promise<JsonSchema>): Promise<string> {
  const paths = new ProjectPaths(projectDir);
  const rel = modelSchemaPath(provider, model);
  // Under the path rule, as every write into the project (a refused path throws).
  const target = await paths.resolve(rel, '.artfactory', { kind: 'file' });
  if (!target.stat) {
    await paths.ensureDir(rel.slice(0, rel.lastIndexOf('/')), '.artfactory');
    await writeFileAtomic(target.abs, JSON.stringify(hintSchema(envelopeSchema(undefined, provider, model)), null, 2));
  }
  if (!(await hasModelSchema(projectDir, provider, model))) {
    const input = await inputSchema().catch(() => undefined);
    if (input) await writeModelSchema(projectDir, provider, model, input);
  }
  return path.relative(fromDir, path.join(projectDir, ...rel.split('/'))).split(path.sep).join('/');
}

/** The `$schema` a parameter file's text names, when it is a local file (not a URL). */
export function schemaRefOf(text: string): string | undefined {
  const ref = parseTree(text)?.children?.find((p) => p.children?.[0]?.value === '$schema')?.children?.[1]?.value;
  return typeof ref === 'string' && ref && !/^[a-z][\w+.-]*:/i.test(ref) ? ref : undefined;
}

/** The text naming `ref` as its `$schema`: the one it has replaced, else a first field added
 * (the rest of the text kept as written). */
export function withSchemaRef(text: string, ref: string): string {
  if (parseTree(text)?.type !== 'object') return text;
  return applyEdits(text, modify(text, ['$schema'], ref, { getInsertionIndex: () => 0, formattingOptions: { insertSpaces: true, tabSize: 2 } }));
}

export interface SchemaCacheOptions {
  /** The extension's global storage: schemas fetched from the providers, keyed by model. Read
   * first, so a schema planted in a project folder is used only when there is no other. */
  globalDir?: string;
}

/** The registry's schema cache: the global one when given, then the project's
 * `.artfactory/schemas/`. Either way a schema is data: bounded in size, read under the path
 * rule, and its patterns run on a linear-time engine (see safeRegex.ts). */
export function createSchemaCache(projectDir: string, opts: SchemaCacheOptions = {}): SchemaCache {
  const paths = new ProjectPaths(projectDir);
  const globalFile = (provider: string, model: string) => (opts.globalDir ? path.join(opts.globalDir, 'schemas', slug(provider), `${slug(model)}.input.json`) : undefined);
  return {
    async get(provider, model) {
      const g = globalFile(provider, model);
      return (g ? await readCached(() => fs.readFile(g)) : undefined) ?? (await readCached(() => paths.readFile(inputCacheRel(provider, model), '.artfactory')));
    },
    async set(provider, model, schema) {
      const g = globalFile(provider, model);
      if (g) await writeFileAtomic(g, JSON.stringify(schema));
      await writeModelSchema(projectDir, provider, model, schema);
    },
  };
}

/** One problem with a file in the project's schema cache. */
export interface SchemaProblem {
  file: string;
  problem: string;
  /** Errors make verify fail; notes are patterns left unchecked (lookaround and the like). */
  severity: 'error' | 'note';
}

/** Check every file in `.artfactory/schemas/` as data: readable under the path rule, within
 * size, JSON, compilable when bounded; patterns the linear engine cannot use are noted; and a
 * pattern a backtracking engine could hang on is an error in the `.schema.json` files, which
 * VS Code's own JSON validation reads through parameter files' `$schema`. */
export async function checkSchemaCache(projectDir: string): Promise<{ files: number; problems: SchemaProblem[] }> {
  const paths = new ProjectPaths(projectDir);
  const problems: SchemaProblem[] = [];
  let files = 0;
  const walk = async (rel: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(projectDir, ...rel.split('/')), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory() && depth < 4) await walk(child, depth + 1);
      else if (e.name.endsWith('.json')) {
        files++;
        await checkFile(child);
      }
    }
  };
  const checkFile = async (rel: string) => {
    const add = (problem: string, severity: SchemaProblem['severity'] = 'error') => problems.push({ file: rel, problem, severity });
    let schema: JsonSchema | undefined;
    try {
      const bytes = await paths.readFile(rel, '.artfactory');
      if (bytes.length > MAX_SCHEMA_BYTES) return add(`is ${Math.round(bytes.length / 1024 / 1024)} MB; schemas over ${MAX_SCHEMA_BYTES / 1024 / 1024} MB are not read`);
      schema = JSON.parse(bytes.toString('utf8')) as JsonSchema;
    } catch (e) {
      return add(e instanceof SyntaxError ? `is not JSON (${e.message})` : e instanceof Error ? e.message : String(e));
    }
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return add('is not a JSON schema object');
    const { refused, notes } = compileSchema(schema);
    if (refused) return add(`cannot be used for checking: ${refused}`);
    for (const n of notes) add(`${n.pattern === 'uniqueItems' ? 'uniqueItems' : `pattern ${JSON.stringify(n.pattern.slice(0, 120))}`} is not checked: ${n.reason}`, 'note');
    if (rel.endsWith('.schema.json')) {
      for (const p of patternsOf(schema)) {
        if (backtracksBadly(p.pattern)) add(`pattern ${JSON.stringify(p.pattern.slice(0, 120))} at ${p.at} can take exponential time in a backtracking engine (VS Code's JSON validation of parameter files uses one). Delete the file: New Parameter File writes it again from the provider.`);
      }
    }
  };
  await walk(SCHEMAS_DIR, 0);
  return { files, problems };
}

/** A new parameter file for a model: required fields and fields with defaults, pretty-printed. */
export function scaffoldParamFile(model: ModelInfo, inputSchema: JsonSchema, schemaRef: string): string {
  const props = (inputSchema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((inputSchema.required as string[] | undefined) ?? []);
  const input: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(props)) {
    if (p.default !== undefined) input[name] = p.default;
    else if (required.has(name)) {
      if (name === model.promptField || name === 'prompt') input[name] = 'a lighthouse at dusk, oil painting';
      else if (Array.isArray(p.enum) && p.enum.length) input[name] = p.enum[0];
      else if (p.type === 'string') input[name] = '';
      else if (p.type === 'integer' || p.type === 'number') input[name] = typeof p.minimum === 'number' ? p.minimum : 0;
      else if (p.type === 'boolean') input[name] = false;
    }
  }
  const promptField = model.promptField ?? 'prompt';
  if (promptField in props && !input[promptField]) input[promptField] = 'a lighthouse at dusk, oil painting';
  return `${JSON.stringify({ $schema: schemaRef, provider: model.provider, model: model.id, input, count: 1 }, null, 2)}\n`;
}
