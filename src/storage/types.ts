// Records kept per project and the async API of the project database. The database is
// the fast index; sidecar JSON files next to each product are the durable truth (see
// DESIGN.md). The API is async because sql.js runs in a worker thread, so the caller's
// thread (the extension host) is never blocked by a query or a save.

import type { JobState } from '../providers/types.ts';

export interface ProjectManifest {
  name: string;
  /** Manifest format version. */
  version: 1;
  createdAt: string;
  defaults?: { provider?: string; model?: string };
}

/** A seed kept exactly: a number when a JavaScript number holds it (a safe integer), else its
 * decimal digits as a string. ComfyUI and Fooocus seeds go up to 2^64 - 1, past 2^53, where a
 * number would silently round to a different seed; every reader of `seed` handles both forms
 * (see src/engine/exactSeed.ts). */
export type Seed = number | string;

/** The full record of one generated file. The sidecar `<id>.json` holds exactly this. */
export interface ProductRecord {
  /** ULID-like sortable id: time-ordered, unique across processes. */
  id: string;
  jobId: string;
  provider: string;
  model: string;
  modelVersion?: string;
  kind: 'image' | 'video' | 'audio';
  mediaType: string;
  /** Relative to the project root, forward slashes: products/YYYY/MM/DD/<id>.<ext> */
  file: string;
  /** Poster frame for videos, relative path, when there is one. */
  poster?: string;
  width?: number;
  height?: number;
  bytes: number;
  sha256: string;
  /** The exact input sent to the provider. */
  input: Record<string, unknown>;
  prompt?: string;
  negativePrompt?: string;
  seed?: Seed;
  requestId?: string;
  timings?: Record<string, number>;
  cost?: { amount: number; currency: string };
  /** Relative path of the parameter file it came from. */
  sourceFile?: string;
  /** ISO time. */
  createdAt: string;
  // User metadata
  favorite: boolean;
  rating: number; // 0 = unrated, 1..5
  tags: string[];
  notes: string;
  /** Index in the job's outputs (a job may return several images). */
  outputIndex: number;
  /** Set for images imported from other tools (provider "import"). */
  imported?: ImportInfo;
  /** Lineage: the images this product was made from (image-to-image, upscale, image-to-video). */
  inputs?: ProductInput[];
}

/** One image input of a product, as recorded in its sidecar (so it survives Rebuild Index). */
export interface ProductInput {
  /** The input field, with an index for list fields: `image_url`, `image_urls.1`. */
  field: string;
  /** sha256 of the bytes that were sent. */
  sha256: string;
  /** The product it came from (`product:<id>` in the parameter file), else null. */
  product: string | null;
  /** The path as the parameter file wrote it, else null (a URL or a product). */
  path: string | null;
}

export interface ImportInfo {
  /** The tool whose metadata was read: a1111, comfyui, invokeai, fooocus, or unknown. */
  tool: string;
  /** The original file's name and path, for reference only (never used to build a path). */
  fileName: string;
  sourcePath: string;
  fileModifiedAt?: string;
  /** The metadata texts as found, each capped; the complete text stays in the copied file. */
  raw?: Record<string, string>;
  rawTruncated?: boolean;
  /** What could not be read, when something could not. */
  warnings?: string[];
}

export type ProductPatch = Partial<Pick<ProductRecord, 'favorite' | 'rating' | 'tags' | 'notes'>>;

export interface JobRecord {
  id: string;
  provider: string;
  model: string;
  input: Record<string, unknown>;
  state: JobState;
  providerStatus?: string;
  requestId?: string;
  /** Adapter handle (see providers/types.ts SubmitResponse.handle). */
  handle?: Record<string, string>;
  queuePosition?: number;
  progress?: number;
  error?: { kind: string; message: string; fieldErrors?: { path: (string | number)[]; message: string }[] };
  sourceFile?: string;
  /** Groups the jobs of one "Generate" (a sweep), for contact sheets and progress. */
  batchId?: string;
  /** Product ids made by this job. */
  productIds: string[];
  /** The image inputs as resolved just before submission (lineage for its products). */
  inputs?: ProductInput[];
  /** What was sent for each image input (`image_url`, `image_urls.1`): the upload URL, or a
   * `data:` URI shortened to its type, size and sha256. For debugging; the input above keeps the
   * user's reference (`product:<id>`, a path). */
  sentInputs?: Record<string, string>;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  submittedAt?: string;
  finishedAt?: string;
}

/** A provider's upload of some bytes, reusable until `expiresAt` (ms since the epoch). */
export interface UploadRecord {
  /** Whose upload: the provider and the account that made it, `fal#<fingerprint>`
   * (engine/uploads.ts), never a key. */
  provider: string;
  sha256: string;
  url: string;
  expiresAt: number;
}

export interface TemplateRecord {
  id: string;
  name: string;
  scope: 'project' | 'global';
  /** Relative path of the template file (templates/<name>.art.json). */
  file: string;
  provider: string;
  model: string;
  variables: string[];
  updatedAt: string;
}

export type SortOrder = 'newest' | 'oldest' | 'rating' | 'model';

export interface ProductQuery {
  provider?: string[];
  model?: string[];
  /** ISO dates, inclusive. */
  from?: string;
  to?: string;
  favorite?: boolean;
  minRating?: number;
  tags?: string[];
  /** Full-text search over prompts (FTS4 MATCH syntax is built from plain words; user text is never spliced into SQL). */
  text?: string;
  sort?: SortOrder;
  /** Keyset cursor: opaque string returned by the previous page. */
  after?: string;
  limit?: number;
}

/** The fields a product's place in any sort depends on. */
export type ProductKey = Pick<ProductRecord, 'id' | 'createdAt' | 'rating' | 'model'>;

export interface ProductPage {
  items: ProductRecord[];
  /** Cursor for the next page, absent at the end. */
  next?: string;
  /** Total matching rows (for the scrollbar); computed cheaply. */
  total: number;
}

/** A products row exactly as stored (verify reads rows whose JSON does not even parse). */
export interface RawProductRow {
  rid: number;
  id: string;
  json: string;
}

/** A row Verify Project moved out of the products, and why. */
export interface QuarantinedRow {
  id: string;
  reason: string;
  at: string;
  json: string;
}

/** What one open database reports about itself (benchmarks, tests). */
export interface StoreStats {
  /** Bytes in the change journal (its header included). */
  journalBytes: number;
  /** Times this process wrote the database file whole. */
  compactions: number;
  /** The database worker thread's own memory (its heap; the databases' bytes outside it). */
  worker: NodeJS.MemoryUsage;
}

export interface ProjectDb {
  readonly path: string;
  // products
  putProduct(p: ProductRecord): Promise<void>;
  putProducts(ps: ProductRecord[]): Promise<void>;
  getProduct(id: string): Promise<ProductRecord | undefined>;
  updateProduct(id: string, patch: ProductPatch): Promise<ProductRecord | undefined>;
  deleteProducts(ids: string[]): Promise<void>;
  queryProducts(q: ProductQuery): Promise<ProductPage>;
  /** Which of `ids` match the query's filters (its sort and page aside). */
  productsMatching(q: ProductQuery, ids: string[]): Promise<string[]>;
  /** How many products matching the query come before `at` in its sort: `at`'s position in its pages. */
  countBefore(q: ProductQuery, at: ProductKey): Promise<number>;
  countProducts(): Promise<number>;
  facets(): Promise<{ providers: string[]; models: string[]; tags: string[] }>;
  /** Products made from product `id` (lineage), newest first. */
  usedIn(id: string, limit?: number): Promise<ProductPage>;
  // the upload cache
  getUpload(provider: string, sha256: string): Promise<UploadRecord | undefined>;
  putUpload(u: UploadRecord): Promise<void>;
  // verify
  rawProducts(afterRid: number, limit: number): Promise<RawProductRow[]>;
  quarantineProducts(entries: { id: string; reason: string }[]): Promise<void>;
  listQuarantine(): Promise<QuarantinedRow[]>;
  releaseQuarantine(ids: string[]): Promise<void>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  // jobs
  putJob(j: JobRecord): Promise<void>;
  getJob(id: string): Promise<JobRecord | undefined>;
  listJobs(filter?: { states?: JobState[]; limit?: number }): Promise<JobRecord[]>;
  // templates
  putTemplate(t: TemplateRecord): Promise<void>;
  listTemplates(): Promise<TemplateRecord[]>;
  deleteTemplate(id: string): Promise<void>;
  /** Every write is durable when it resolves (its change is in the journal, fdatasync'd). A
   * write refused for a full disk is kept in memory: flush writes it, or fails as it did. */
  flush(): Promise<void>;
  /** Fold the change journal into the database file now (before a backup zip). */
  compact(): Promise<void>;
  /** The journal's size, compactions so far, and the database worker's memory. */
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
