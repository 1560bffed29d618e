// Browsing models and LoRAs through Civitai's public site API (no key sent): search with cursor
// paging, a model, a model version with its canonical AIR (site/reference/models.md,
// model-versions.md, pagination).

import { z } from 'zod';
import { ProviderError } from '../errors.ts';
import type { CivitaiClient } from './client.ts';
import { CIVITAI_SITE_API, NAME, PROVIDER } from './service.ts';

const restImageSchema = z.object({ url: z.string(), width: z.number().nullish(), height: z.number().nullish(), nsfwLevel: z.number().nullish() }).passthrough();
const restVersionFields = {
  id: z.number().int().positive(),
  name: z.string(),
  baseModel: z.string().nullish(),
  baseModelType: z.string().nullish(),
  trainedWords: z.array(z.string()).nullish(),
  air: z.string().nullish(),
  publishedAt: z.string().nullish(),
  supportsGeneration: z.boolean().nullish(),
  downloadUrl: z.string().nullish(),
  images: z.array(restImageSchema).nullish(),
};
const restModelVersionSummary = z.object(restVersionFields).passthrough();
const restModelSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.string(),
    type: z.string(),
    nsfw: z.boolean().nullish(),
    description: z.string().nullish(),
    tags: z.array(z.string()).nullish(),
    creator: z.object({ username: z.string().nullish() }).passthrough().nullish(),
    stats: z.record(z.string(), z.unknown()).nullish(),
    modelVersions: z.array(restModelVersionSummary).nullish(),
  })
  .passthrough();
const restModelsPageSchema = z
  .object({
    items: z.array(restModelSchema),
    metadata: z
      .object({ nextCursor: z.union([z.string(), z.number()]).nullish(), nextPage: z.string().nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();
const restModelVersionSchema = z
  .object({
    ...restVersionFields,
    modelId: z.number().int().positive(),
    description: z.string().nullish(),
    model: z.object({ name: z.string(), type: z.string(), nsfw: z.boolean().nullish() }).passthrough().nullish(),
  })
  .passthrough();

export type CivitaiModel = z.infer<typeof restModelSchema>;
export type CivitaiModelVersionSummary = z.infer<typeof restModelVersionSummary>;
export type CivitaiModelVersion = z.infer<typeof restModelVersionSchema>;

export interface SearchModelsParams {
  /** Full-text search (Civitai requires cursor paging with it). */
  query?: string;
  /** ModelType values, e.g. Checkpoint, LORA. */
  types?: string[];
  /** e.g. "SDXL 1.0", "SD 1.5", "Flux.1 D". */
  baseModels?: string[];
  sort?: 'Highest Rated' | 'Most Downloaded' | 'Newest';
  /** Include mature content (Civitai's default is false). */
  nsfw?: boolean;
  /** 1–100 (Civitai's maximum); clamped. */
  limit?: number;
  /** `metadata.nextCursor` of the previous page. */
  cursor?: string;
}

export interface ModelPage {
  items: CivitaiModel[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export class CivitaiSiteApi {
  constructor(private readonly client: CivitaiClient) {}

  /** `GET /api/v1/models` with cursor paging (page numbers past 1000 results are refused). */
  async searchModels(params: SearchModelsParams = {}, signal?: AbortSignal): Promise<ModelPage> {
    const q = new URLSearchParams();
    q.set('limit', String(Math.min(100, Math.max(1, Math.floor(params.limit ?? 20)))));
    if (params.query?.trim()) q.set('query', params.query.trim().slice(0, 200));
    for (const t of params.types ?? []) q.append('types', t);
    for (const b of params.baseModels ?? []) q.append('baseModels', b);
    if (params.sort) q.set('sort', params.sort);
    if (params.nsfw !== undefined) q.set('nsfw', String(params.nsfw));
    if (params.cursor) q.set('cursor', params.cursor);
    const page = await this.client.call('the model search', `${CIVITAI_SITE_API}/models?${q.toString()}`, { signal, auth: false }, restModelsPageSchema);
    const next = page.metadata?.nextCursor;
    return { items: page.items, nextCursor: next === undefined || next === null || next === '' ? undefined : String(next) };
  }

  /** Every page of a search, following cursors (at most `maxPages`). */
  async *allModels(params: SearchModelsParams = {}, opts: { maxPages?: number; signal?: AbortSignal } = {}): AsyncGenerator<CivitaiModel[]> {
    let cursor = params.cursor;
    for (let page = 0; page < (opts.maxPages ?? 50); page++) {
      const r = await this.searchModels({ ...params, cursor }, opts.signal);
      yield r.items;
      if (!r.nextCursor || r.nextCursor === cursor) return;
      cursor = r.nextCursor;
    }
  }

  async getModel(id: number, signal?: AbortSignal): Promise<CivitaiModel> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new ProviderError('not_found', PROVIDER, `${id} is not a ${NAME} model id.`);
    return this.client.call('the model request', `${CIVITAI_SITE_API}/models/${id}`, { signal, auth: false }, restModelSchema);
  }

  /** `GET /api/v1/model-versions/{id}`: baseModel, trainedWords and the canonical `air`. */
  async getModelVersion(id: number, signal?: AbortSignal): Promise<CivitaiModelVersion> {
    if (!Number.isSafeInteger(id) || id <= 0) throw new ProviderError('not_found', PROVIDER, `${id} is not a ${NAME} model version id.`);
    return this.client.call('the model version request', `${CIVITAI_SITE_API}/model-versions/${id}`, { signal, auth: false }, restModelVersionSchema);
  }
}
