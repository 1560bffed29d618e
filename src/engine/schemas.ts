// JSON schemas for parameter files, written into the project so `$schema` resolves offline
// and in any editor: one file per model holding the envelope with the model's input schema
// under `properties.input` (completion, hover, enums and ranges for the model's fields).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SchemaCache } from '../providers/registry.ts';
import { writeFileAtomic } from '../storage/atomic.ts';
import type { JsonSchema, ModelInfo } from '../providers/types.ts';
import { acceptImageReferences } from './imageFields.ts';
import { imageFieldsOf } from './imageInputs.ts';

const SCHEMAS_DIR = '.artfactory/schemas';

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

function inputCachePath(projectDir: string, provider: string, model: string): string {
  return path.join(projectDir, SCHEMAS_DIR, slug(provider), `${slug(model)}.input.json`);
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
      $schema: { type: 'string', description: 'The schema that gives this file completion and validation.' },
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

/** Writes the model's full schema into the project; returns its project-relative path. */
export async function writeModelSchema(projectDir: string, provider: string, model: string, inputSchema: JsonSchema, info?: Pick<ModelInfo, 'imageFields'>): Promise<string> {
  const rel = modelSchemaPath(provider, model);
  // Image fields take paths and product: references too; the editor must not flag them.
  const forEditor = acceptImageReferences(inputSchema, imageFieldsOf(info, inputSchema));
  await writeFileAtomic(path.join(projectDir, rel), JSON.stringify(envelopeSchema(forEditor, provider, model), null, 2));
  await writeFileAtomic(inputCachePath(projectDir, provider, model), JSON.stringify(inputSchema));
  return rel;
}

/** The registry's schema cache, backed by the project's `.artfactory/schemas/`. */
export function createSchemaCache(projectDir: string): SchemaCache {
  return {
    async get(provider, model) {
      try {
        const parsed: unknown = JSON.parse(await fs.readFile(inputCachePath(projectDir, provider, model), 'utf8'));
        return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as JsonSchema) : undefined;
      } catch {
        return undefined;
      }
    },
    async set(provider, model, schema) {
      await writeModelSchema(projectDir, provider, model, schema);
    },
  };
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
