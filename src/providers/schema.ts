// Turning a provider's OpenAPI fragments into one self-contained JSON schema for a model's
// input (what the `*.art.json` IntelliSense and validation use), and guessing the model's
// prompt/seed/image fields from it.

import type { Capability, JsonSchema, ModelInfo } from './types.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `#/components/schemas/Name` → Name; other refs are not followed. */
function refName(ref: string): string | undefined {
  const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
  return m ? decodeURIComponent(m[1].replace(/~1/g, '/').replace(/~0/g, '~')) : undefined;
}

/**
 * Inline every `$ref` into `#/components/schemas/*`. A ref that recurses into itself becomes
 * `{}` (anything) at the point of recursion, which keeps the result finite; a ref that cannot
 * be resolved becomes `{}` too. OpenAPI 3.0's `nullable: true` becomes a `null` type.
 */
export function inlineRefs(schema: unknown, components: Record<string, unknown>, depthLimit = 64): JsonSchema {
  const walk = (node: unknown, stack: string[]): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, stack));
    if (!isObj(node)) return node;
    if (typeof node.$ref === 'string') {
      const name = refName(node.$ref);
      if (!name || stack.includes(name) || stack.length >= depthLimit || !isObj(components[name])) return {};
      const { $ref: _ignored, ...siblings } = node;
      const resolved = walk(components[name], [...stack, name]) as Record<string, unknown>;
      // Siblings of $ref (description, default in 3.1) win over the referenced schema's.
      return { ...resolved, ...(walk(siblings, stack) as Record<string, unknown>) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v, stack);
    if (out.nullable === true) {
      delete out.nullable;
      if (typeof out.type === 'string') out.type = [out.type, 'null'];
    }
    return out;
  };
  const result = walk(schema, []);
  return (isObj(result) ? result : {}) as JsonSchema;
}

/** A plain JSON value check, for schemas parsed from the network. */
export function isJsonObject(v: unknown): v is Record<string, Json> {
  return isObj(v);
}

function props(schema: JsonSchema): Record<string, Record<string, unknown>> {
  const p = schema.properties;
  if (!isObj(p)) return {};
  const out: Record<string, Record<string, unknown>> = {};
  for (const [k, v] of Object.entries(p)) if (isObj(v)) out[k] = v;
  return out;
}

const IMAGE_FIELD = /(^|_)(image|images|image_url|image_urls|input_image|init_image|mask|mask_url|mask_image|reference_image|first_frame_image|start_image)(_url|_urls)?$/i;

/** Guess prompt, seed and image fields and capabilities from an input schema. */
export function describeFromSchema(
  provider: string,
  id: string,
  schema: JsonSchema,
  extra: { title?: string; description?: string; outputHint?: string } = {},
): ModelInfo {
  const p = props(schema);
  const names = Object.keys(p);
  const promptField = names.includes('prompt') ? 'prompt' : names.find((n) => /prompt$/i.test(n) && !/negative/i.test(n));
  const seedField = names.includes('seed') ? 'seed' : names.find((n) => /(^|_)seed$/i.test(n));
  // Counts and switches (num_images, enable_image_…) are not image inputs: keep strings/arrays.
  const takesFile = (f: Record<string, unknown>) => !['integer', 'number', 'boolean'].some((t) => f.type === t || (Array.isArray(f.type) && f.type.includes(t)));
  const imageFields = names.filter((n) => IMAGE_FIELD.test(n) && takesFile(p[n]));
  const capabilities: Capability[] = [];
  const hint = `${id} ${extra.outputHint ?? ''}`.toLowerCase();
  if (/video/.test(hint)) capabilities.push('video');
  else if (/audio|music|speech|tts|sound/.test(hint)) capabilities.push('audio');
  else {
    if (promptField) capabilities.push('text-to-image');
    if (imageFields.length > 0) capabilities.push('image-to-image');
    if (capabilities.length === 0) capabilities.push('text-to-image');
  }
  return {
    provider,
    id,
    title: extra.title?.trim() || id,
    description: extra.description?.trim().slice(0, 500) || undefined,
    capabilities,
    promptField,
    seedField,
    imageFields: imageFields.length ? imageFields : undefined,
    custom: true,
  };
}
