// "Use as Input…" on gallery products: pick a model that takes an image (image-to-image,
// upscalers, inpainting, image-to-video), pick its field when it has several (an image and a
// mask), and open a new parameter file with the field set to `product:<id>` (all selected
// products for a list field; a sweep, one job per product, for a single-image field).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { imageFieldRole, setImageInput } from '../engine/imageFields.ts';
import { imageFieldsOf } from '../engine/imageInputs.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { JsonSchema, ModelInfo } from '../providers/types.ts';
import type { ProductRecord } from '../storage/types.ts';
import type { Generator } from './generate.ts';
import { createParamFile } from './paramFileWriter.ts';

export interface UseAsInputDeps {
  registry: ProviderRegistry;
  generator: Generator;
}

async function pickField(model: ModelInfo, schema: JsonSchema): Promise<string | undefined> {
  const fields = imageFieldsOf(model, schema);
  if (fields.length <= 1) return fields[0];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const picked = await vscode.window.showQuickPick(
    fields.map((f) => ({ label: f, description: imageFieldRole(f), detail: typeof props[f]?.description === 'string' ? String(props[f].description).slice(0, 200) : undefined, f })),
    { title: `${model.title}: which input takes the image?` },
  );
  return picked?.f;
}

/** Runs the flow for the gallery's items; returns what the gallery announces. */
export async function useAsInput(d: UseAsInputDeps, items: { project: string; product: ProductRecord }[]): Promise<string | undefined> {
  const project = items[0]?.project;
  // A `product:` reference names a product of the parameter file's own project.
  const images = items.filter((i) => i.project === project && i.product.kind === 'image').map((i) => i.product);
  if (!project || images.length === 0) {
    void vscode.window.showWarningMessage('Art Factory: only images can be used as input. Pick an image product.');
    return undefined;
  }
  const skipped = items.length - images.length;
  const model = await d.generator.pickModel(
    `Use ${images.length === 1 ? 'this image' : `${images.length} images`} as input: pick a model that takes an image`,
    (m) => imageFieldsOf(m, undefined).length > 0,
  );
  if (!model) return undefined;
  const provider = d.registry.get(model.provider);
  if (!provider) throw new Error(`Unknown provider ${model.provider}.`);
  let field: string | undefined;
  const file = await createParamFile(project, provider, model, {
    baseName: `${model.id.split('/').pop() ?? 'model'}-from-${images[0].id.slice(0, 10).toLowerCase()}`,
    beside: true,
    adjust: async (body, schema) => {
      field = await pickField(model, schema);
      if (!field) return false;
      setImageInput(body, schema, field, images, model.promptField ?? 'prompt');
      return true;
    },
  });
  if (!file) return undefined;
  return `Opened ${path.basename(file)} with ${images.length === 1 ? `the image in "${field}"` : `${images.length} images in "${field}"`}${skipped ? ` (${skipped} video${skipped === 1 ? '' : 's'} or product${skipped === 1 ? '' : 's'} of other projects left out)` : ''}.`;
}
