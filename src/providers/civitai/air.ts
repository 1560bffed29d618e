// AIRs (Civitai's resource ids, `urn:air:{ecosystem}:{type}:{source}:{id}`): parsed strictly,
// so a job names exactly one reproducible model version (site/guide/air.md).

import { ProviderError } from '../errors.ts';
import { PROVIDER } from './service.ts';

export interface Air {
  ecosystem: string;
  type: string;
  source: string;
  id: string;
  version?: string;
  fileId?: string;
  format?: string;
}

export const AIR_EXAMPLE = 'urn:air:sdxl:checkpoint:civitai:101055@128078';
/** For JSON schemas (no named groups): the shape, the adapter checks the rest. */
export const AIR_JSON_PATTERN = '^urn:air:[a-z0-9][a-z0-9_-]*:[a-z0-9][a-z0-9_-]*:[a-z0-9][a-z0-9_-]*:[^\\s]+$';

const AIR_HEAD = /^urn:air:([a-z0-9][a-z0-9_-]{0,39}):([a-z0-9][a-z0-9_-]{0,39}):([a-z0-9][a-z0-9_-]{0,39}):(.+)$/;
// `{modelId}@{versionId}[+{fileId}][.{format}]` for source civitai (site/guide/air.md).
const CIVITAI_REST = /^(\d{1,12})(?:@(\d{1,12}))?(?:\+(\d{1,12}))?(?:\.([a-z0-9_-]{1,20}))?$/;
// Other sources (huggingface, civitai-r2, orchestrator): the orchestrator's own, looser shape.
const OTHER_REST = /^([A-Za-z0-9_\-/.]{1,200})(?:@([A-Za-z0-9_\-/.=,%+:]{1,200}))?$/;
/** AIR types that are never a checkpoint (the documented type ↔ ModelType table). */
const NOT_CHECKPOINT = new Set(['lora', 'embedding', 'vae', 'controlnet', 'upscaler']);

function airError(text: unknown, path: (string | number)[], why: string): ProviderError {
  const shown = typeof text === 'string' ? `"${text.slice(0, 120)}"` : 'The value';
  return new ProviderError(
    'validation',
    PROVIDER,
    `${shown} is not a usable Civitai AIR (${why}). Use urn:air:{ecosystem}:{type}:civitai:{modelId}@{versionId}, e.g. ${AIR_EXAMPLE}; "Art Factory: Browse Civitai Models…" finds them.`,
    { fieldErrors: [{ path, message: why }] },
  );
}

/**
 * Strict AIR check. The canonical `urn:air:` form is required (Civitai's docs recommend it for
 * API requests), lowercase ecosystem/type/source, and for source `civitai` a numeric model id
 * with a pinned `@versionId`: without it Civitai picks "the latest" version, and a product
 * could not be reproduced. A bad AIR is a `validation` error with the given field path.
 */
export function parseAir(text: unknown, path: (string | number)[] = ['model']): Air {
  if (typeof text !== 'string' || !text.trim()) throw airError(text, path, 'an AIR string is required');
  if (text.length > 400) throw airError(text, path, 'too long');
  const head = AIR_HEAD.exec(text);
  if (!head) {
    const why = /^urn:air:/i.test(text) ? 'expected urn:air:{ecosystem}:{type}:{source}:{id}, in lowercase' : 'it must start with urn:air:';
    throw airError(text, path, why);
  }
  const [, ecosystem, type, source, rest] = head;
  if (source === 'civitai') {
    const m = CIVITAI_REST.exec(rest);
    if (!m) throw airError(text, path, 'a civitai AIR ends in {modelId}@{versionId}, both numbers');
    if (!m[2]) throw airError(text, path, `pin a version: …:civitai:${m[1]}@{versionId}`);
    return { ecosystem, type, source, id: m[1], version: m[2], fileId: m[3], format: m[4] };
  }
  const m = OTHER_REST.exec(rest);
  if (!m) throw airError(text, path, 'the id part has characters an AIR cannot hold');
  return { ecosystem, type, source, id: m[1], version: m[2] };
}

/** The checkpoint AIR of a job: a valid AIR whose type is not a LoRA, embedding, VAE, … */
export function parseCheckpointAir(model: string): Air {
  const air = parseAir(model, ['model']);
  if (NOT_CHECKPOINT.has(air.type)) {
    throw new ProviderError(
      'validation',
      PROVIDER,
      `${model} is a ${air.type}, not a checkpoint. Set "model" to a checkpoint AIR${air.type === 'lora' ? ' and list this LoRA under "input.loras"' : ''}.`,
      { fieldErrors: [{ path: ['model'], message: `a ${air.type} AIR cannot be the model` }] },
    );
  }
  return air;
}
