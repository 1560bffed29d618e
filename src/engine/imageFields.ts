// Image fields as parameter files are written: which take a list, what a field is for, putting
// products into a new file (Use as Input…), rebasing relative paths for a file in another folder
// (Reuse Parameters), and the model schema the editor checks with (paths and product: allowed).
import * as path from 'node:path';
import type { JsonSchema } from '../providers/types.ts';
import type { ProductInput, ProductRecord } from '../storage/types.ts';
import { imageValueKind, PRODUCT_PREFIX } from './imageInputs.ts';

/** Whether the schema's field takes a list of images (`image_urls`) rather than one. */
export function takesList(schema: JsonSchema, field: string): boolean {
  const prop = ((schema.properties ?? {}) as Record<string, JsonSchema>)[field];
  const types = ([] as unknown[]).concat(prop?.type ?? []);
  return types.includes('array') || (!types.length && !!prop?.items);
}

/** What an image field is for, in a word or two, for pickers. */
export function imageFieldRole(field: string): string {
  if (/mask/i.test(field)) return 'inpainting mask';
  if (/first_frame|start_image/i.test(field)) return 'first frame of the video';
  if (/last_frame|end_image/i.test(field)) return 'last frame of the video';
  if (/reference|style/i.test(field)) return 'reference image';
  if (/control/i.test(field)) return 'control image';
  return 'input image';
}

/**
 * Put products into a new parameter file's image field: a list field takes them all; a field
 * for one image takes one, or, for several, a sweep makes a job per product. The first
 * product's prompt replaces the scaffold's placeholder prompt.
 */
export function setImageInput(file: { input?: Record<string, unknown>; sweep?: Record<string, unknown[]> } & Record<string, unknown>, schema: JsonSchema, field: string, products: Pick<ProductRecord, 'id' | 'prompt'>[], promptField?: string): void {
  const refs = products.map((p) => `${PRODUCT_PREFIX}${p.id}`);
  const input = (file.input ??= {});
  if (takesList(schema, field)) input[field] = refs;
  else if (refs.length === 1) input[field] = refs[0];
  else {
    delete input[field];
    file.sweep = { ...file.sweep, [field]: refs };
  }
  const prompt = products.find((p) => p.prompt)?.prompt;
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  if (prompt && promptField && props[promptField]) input[promptField] = prompt;
}

/** A product's input for a parameter file in another folder: the relative image paths its
 * lineage records (as its own parameter file wrote them) rewritten to point at the same files. */
export function rebaseImagePaths(input: Record<string, unknown>, lineage: ProductInput[] | undefined, fromDir: string, toDir: string): Record<string, unknown> {
  if (path.resolve(fromDir) === path.resolve(toDir)) return input;
  const out: Record<string, unknown> = { ...input };
  for (const l of lineage ?? []) {
    if (!l.path || imageValueKind(l.path) !== 'path' || path.isAbsolute(l.path) || /^file:/i.test(l.path)) continue;
    const [field, index] = l.field.split('.');
    const rel = path.relative(toDir, path.resolve(fromDir, l.path)).split(path.sep).join('/');
    const rebased = rel.startsWith('.') ? rel : `./${rel}`;
    if (index === undefined) {
      if (out[field] === l.path) out[field] = rebased;
    } else if (Array.isArray(out[field]) && (out[field] as unknown[])[Number(index)] === l.path) {
      out[field] = (out[field] as unknown[]).map((v, i) => (i === Number(index) ? rebased : v));
    }
  }
  return out;
}

const URL_FORMATS = new Set(['uri', 'uri-reference', 'url', 'iri', 'data-url', 'binary']);
export const IMAGE_FIELD_HINT = 'Also takes a path (relative to this file, or absolute) or product:<id> (a product of this project): Art Factory checks it and uploads it.';

/** The model's schema as the editor should check it: image fields drop their URL `format`
 * (VS Code would flag "./photo.png" as "not a URI") and say what else they take. */
export function acceptImageReferences(schema: JsonSchema, fields: string[]): JsonSchema {
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (!props || !fields.some((f) => props[f])) return schema;
  const relax = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(relax);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (!(k === 'format' && typeof v === 'string' && URL_FORMATS.has(v))) out[k] = relax(v);
    return out;
  };
  const next: Record<string, JsonSchema> = { ...props };
  for (const f of fields) {
    if (!props[f]) continue;
    const p = relax(props[f]) as JsonSchema;
    p.description = `${typeof p.description === 'string' && p.description ? `${p.description} ` : ''}${IMAGE_FIELD_HINT}`;
    next[f] = p;
  }
  return { ...schema, properties: next };
}
