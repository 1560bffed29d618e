// The list-models tool: the registry's models (built-in and custom), each provider's key
// state, and for one model a summary of its input schema (the schema the parameter file is
// checked against, fetched once and cached like the editor's).
import type { z } from 'zod';
import { imageFieldsOf } from '../engine/imageInputs.ts';
import { providerDisplayName } from '../providers/errors.ts';
import type { JsonSchema, ModelInfo } from '../providers/types.ts';
import type { ListModelsInput } from './definitions.ts';
import { ToolError, type AgentHost } from './host.ts';

export interface FieldSummary {
  name: string;
  type?: string;
  required?: true;
  /** An image input: a URL, a path or product:<id>. */
  image?: true;
  default?: unknown;
  values?: unknown[];
  minimum?: number;
  maximum?: number;
  description?: string;
}

const MAX_LISTED = 200;

function typeOf(f: Record<string, unknown>): string | undefined {
  if (typeof f.type === 'string') return f.type === 'array' && typeof (f.items as Record<string, unknown>)?.type === 'string' ? `array of ${String((f.items as Record<string, unknown>).type)}` : f.type;
  if (Array.isArray(f.type)) return f.type.filter((t) => t !== 'null').join(' | ');
  const alts = (f.anyOf ?? f.oneOf) as Record<string, unknown>[] | undefined;
  if (Array.isArray(alts)) return [...new Set(alts.map((a) => typeOf(a ?? {})).filter(Boolean))].join(' | ') || undefined;
  return undefined;
}

/** Each input field: its type, whether it is required, allowed values, bounds, default. */
export function summarizeSchema(schema: JsonSchema, imageFields: string[]): FieldSummary[] {
  const props = (schema.properties && typeof schema.properties === 'object' ? schema.properties : {}) as Record<string, Record<string, unknown>>;
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(props)
    .filter(([, f]) => f && typeof f === 'object')
    .map(([name, f]) => {
      const s: FieldSummary = { name, type: typeOf(f) };
      if (required.has(name)) s.required = true;
      if (imageFields.includes(name)) s.image = true;
      if (f.default !== undefined) s.default = f.default;
      if (Array.isArray(f.enum)) s.values = f.enum.slice(0, 30);
      if (typeof f.minimum === 'number') s.minimum = f.minimum;
      if (typeof f.maximum === 'number') s.maximum = f.maximum;
      if (typeof f.description === 'string') s.description = f.description.length > 200 ? `${f.description.slice(0, 200)}…` : f.description;
      return s;
    });
}

function matches(m: ModelInfo, words: string): boolean {
  const hay = `${m.id} ${m.title} ${m.description ?? ''}`.toLowerCase();
  return words
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

export async function listModels(host: AgentHost, args: z.infer<typeof ListModelsInput>) {
  if (args.provider && !host.registry.get(args.provider)) {
    throw new ToolError(`Unknown provider "${args.provider}". Use one of: ${host.registry.list().map((p) => p.id).join(', ')}.`);
  }
  const found = host.registry
    .models()
    .filter((m) => (!args.provider || m.provider === args.provider) && (!args.capability || m.capabilities.includes(args.capability)) && (!args.text || matches(m, args.text)) && (!args.model || m.id === args.model));
  const keys = new Map<string, boolean | undefined>();
  for (const p of new Set(found.map((m) => m.provider))) keys.set(p, host.registry.get(p)?.needsKey ? await host.hasKey(p) : true);
  const models = found.slice(0, MAX_LISTED).map((m) => ({
    provider: m.provider,
    providerName: providerDisplayName(m.provider),
    id: m.id,
    title: m.title,
    description: m.description,
    capabilities: m.capabilities,
    promptField: m.promptField,
    imageFields: m.imageFields,
    keySet: keys.get(m.provider),
    custom: m.custom || undefined,
  }));
  if (!args.model) return { models, more: found.length > MAX_LISTED ? found.length - MAX_LISTED : undefined };
  if (models.length === 0 && !args.provider) throw new ToolError(`No model "${args.model}" is known. Call artfactory_list_models without "model" to see them, or give "provider" for a custom model id.`);
  // One model: its input fields, from the schema the parameter file is checked against.
  const provider = args.provider ?? models[0].provider;
  let schema: JsonSchema;
  try {
    schema = await host.registry.inputSchema(provider, args.model);
  } catch (e) {
    throw new ToolError(`The input fields of ${args.model} could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const info = found[0];
  const inputs = summarizeSchema(schema, imageFieldsOf(info, schema));
  return { models: models.length ? models : [{ provider, providerName: providerDisplayName(provider), id: args.model, keySet: await host.hasKey(provider) }], inputs };
}
