// A fake Civitai, written from Civitai's documented orchestration API (the v2 consumer OpenAPI
// and guides in civitai/civitai-developer-docs) and its public site API, for our Civitai client
// to talk to through the base-URL rewrite. Reusable by engine, e2e and demo.
//
//   const fake = await startCivitaiFake({ key: 'civitai-token-…' });
//   ctx.baseUrl = fake.baseUrl;          // or ARTFACTORY_CIVITAI_BASE_URL=fake.baseUrl
//
// Orchestration routes (paths as they arrive: /HOST/PATH), auth `Authorization: Bearer <key>`,
// else 401 ProblemDetails:
//   POST /orchestration.civitai.com/v2/consumer/workflows?wait=0   'submit' → 200 Workflow (status unassigned)
//   POST …/workflows?whatif=true                                    'whatif' → 200 Workflow that is not run or
//        stored: "Whether to actually submit the workflow or return an estimate on what would happen
//        upon submission" (civitai-client-javascript swagger.json); the quote is `transactions.list`
//        debits with `insufficientBuzz` (TransactionSummary). Validated like a submission.
// Buzz: a workflow costs `fake.buzzPerImage` (8) × quantity, debited when it succeeds; a failed
// one shows no debit (the fake's simplification: Civitai's refunds are credits, which the docs do
// not describe in detail). `fake.balance` (Infinity) decides `insufficientBuzz`.
//   GET  /orchestration.civitai.com/v2/consumer/workflows?take=N   'query'  → {items, next}
//   GET  /orchestration.civitai.com/v2/consumer/workflows/{id}     'get'    (advances the plan one step)
//   PUT  /orchestration.civitai.com/v2/consumer/workflows/{id}     'update' {status:"canceled"} → 200 Workflow;
//        409 ProblemDetails when the workflow already ended (the guide's "409 Conflict")
//   DELETE …/workflows/{id}                                         'delete' → 204
//   GET  /orchestration.civitai.com/v2/consumer/blobs/{blobId}.png?sig=…&exp=…  'blob': image downloads
//        (signed URL: no auth). Signatures expire (guide results-and-webhooks.md: "Blob URLs are
//        signed and expire"): an expired one answers 403, and every GET of the workflow signs
//        its blobs afresh.
// A submission is validated as Civitai documents it: 400 ValidationProblemDetails with `errors`
// as a map of JSON paths → messages (`steps[0].input.steps`, …): steps required, $type
// textToImage, model and additionalNetworks keys match the AIR pattern of the OpenAPI, prompt
// required, steps 1–150, cfgScale 1–30, width/height 64–4084, quantity/batchSize 1–100,
// sourceImage an http(s) URL or data: URI, no unknown fields.
//
// Site API routes (public; no auth needed):
//   GET /civitai.com/api/v1/models?limit&cursor&query&types&baseModels&sort&nsfw&page   'models'
//        → {items, metadata: {nextCursor, nextPage}}; limit > 100 → 400; page*limit > 1000 → 429
//        "You've requested too many pages, please use cursors instead"; page with query → 400
//   GET /civitai.com/api/v1/models/{id}          'model'   (404 {error})
//   GET /civitai.com/api/v1/model-versions/{id}  'version' (with `air`; 404 {error})
// The catalog: a few hundred generated models (checkpoints and LoRAs over SD 1.5, SDXL, Flux),
// plus the real AIRs the adapter's built-in catalog names.
//
// Controls:
//   fake.plan({ sequence, end, unavailableGets, reason, blockedReason, width, height, output, mature, urlsExpireAfterDownloads })
//     - sequence: statuses answered by successive GETs before the end (default scheduled, processing)
//     - end: 'succeeded' (default) | 'failed' | 'expired' | 'canceled'
//     - unavailableGets: GETs (from the one that reports success) showing images `available: false`
//     - reason / blockedReason: the failed job's reason ('no_provider_available', 'blocked', …)
//     - output: replace the step output entirely
//     - mature: how many of the images are mature; unless the submission said
//       `allowMatureContent: true` they come `{available: true, url: null}` (withheld: the
//       WorkflowTemplate's allowMatureContent "When set to false, the workflow will not return
//       any content that is marked as mature", @civitai/client types.gen.ts)
//     - urlsExpireAfterDownloads: after this many image downloads of the workflow, every URL
//       signed so far expires (a large batch outliving its signed URLs)
//   fake.expireUrls()           every blob URL signed so far answers 403 from now on
//   fake.nextJob(plan)          the same, for the next workflow only
//   fake.addFault({ route, status, body, headers, times, malformed, drop, delayMs })
//   fake.workflows (id → state), fake.submissions (request bodies), fake.cancels (ids),
//   fake.models (the site catalog), fake.files, fake.captured, fake.setKey(k)

import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { colourOf, pngBytes, sendJson, startFakeServer, type FakeRequest, type FakeServer } from './common.ts';

export type CivitaiEnd = 'succeeded' | 'failed' | 'expired' | 'canceled';

export interface CivitaiPlan {
  sequence: string[];
  end: CivitaiEnd;
  unavailableGets: number;
  reason?: string;
  blockedReason?: string;
  width: number;
  height: number;
  output?: unknown;
  mature?: number;
  urlsExpireAfterDownloads?: number;
}

export interface CivitaiFakeWorkflow {
  id: string;
  body: Record<string, unknown>;
  input: Record<string, unknown>;
  plan: CivitaiPlan;
  gets: number;
  status: string;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  images: { id: string; path: string; width: number; height: number }[];
  unavailableLeft: number;
  downloads: number;
}

export interface FakeModelVersion {
  id: number;
  name: string;
  baseModel: string;
  trainedWords: string[];
  air: string;
}

export interface FakeModel {
  id: number;
  name: string;
  type: 'Checkpoint' | 'LORA';
  nsfw: boolean;
  downloads: number;
  rating: number;
  createdAt: string;
  tags: string[];
  creator: string;
  versions: FakeModelVersion[];
}

export interface CivitaiFake extends FakeServer {
  key: string;
  workflows: Map<string, CivitaiFakeWorkflow>;
  submissions: unknown[];
  /** Bodies of `whatif=true` submissions. */
  quotes: unknown[];
  buzzPerImage: number;
  balance: number;
  cancels: string[];
  models: FakeModel[];
  plan(p: Partial<CivitaiPlan>): void;
  nextJob(p: Partial<CivitaiPlan>): void;
  setKey(k: string): void;
  expireUrls(): void;
}

export interface CivitaiFakeOptions {
  key?: string;
  plan?: Partial<CivitaiPlan>;
  /** Generated site-catalog models besides the named ones (default 300). */
  modelCount?: number;
}

const ORCH = 'orchestration.civitai.com';
const DEFAULT_PLAN: CivitaiPlan = { sequence: ['scheduled', 'processing'], end: 'succeeded', unavailableGets: 0, width: 64, height: 64 };
/** The AIR pattern of the orchestration OpenAPI (TextToImageInput.model), without named groups. */
const AIR_PATTERN = /^(?:urn:)?(?:air:)?(?:([a-zA-Z0-9_\-/]+):)?(?:([a-zA-Z0-9_\-/]+):)?([a-zA-Z0-9_\-/]+):([a-zA-Z0-9_\-/.]+)(?:@([a-zA-Z0-9_\-/.=,%+:]+))?(?:\.([a-zA-Z0-9_-]+))?$/;
const INPUT_FIELDS = new Set([
  'quantity', 'batchSize', 'model', 'additionalNetworks', 'controlNets', 'prompt', 'negativePrompt', 'scheduler', 'steps', 'cfgScale', 'width', 'height', 'seed',
  'clipSkip', 'imageMetadata', 'engine', 'outputFormat', 'sourceImage', 'sourceImageDenoiseStrenght',
]);
const TERMINAL = new Set(['succeeded', 'failed', 'expired', 'canceled']);

function routeOf(req: FakeRequest): string | undefined {
  if (req.host === ORCH) {
    if (req.path === '/v2/consumer/workflows' || req.path === '/v2/consumer/workflows/') return req.method === 'POST' ? (req.query.get('whatif') === 'true' ? 'whatif' : 'submit') : 'query';
    if (/^\/v2\/consumer\/workflows\/[^/]+$/.test(req.path)) return req.method === 'PUT' ? 'update' : req.method === 'DELETE' ? 'delete' : 'get';
    if (/^\/v2\/consumer\/blobs\/[^/]+$/.test(req.path) && req.method === 'GET') return 'blob';
    return undefined;
  }
  if (req.host === 'civitai.com') {
    if (req.path === '/api/v1/models') return 'models';
    if (/^\/api\/v1\/models\/[^/]+$/.test(req.path)) return 'model';
    if (/^\/api\/v1\/model-versions\/[^/]+$/.test(req.path)) return 'version';
  }
  return undefined;
}

function problem(res: http.ServerResponse, status: number, title: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  sendJson(res, status, { type: `https://tools.ietf.org/html/rfc9110#section-15.5.${status === 400 ? 1 : status === 401 ? 2 : status === 404 ? 5 : 10}`, title, status, ...extra }, { 'content-type': 'application/problem+json', ...headers });
}

const ECOSYSTEMS: { baseModel: string; eco: string }[] = [
  { baseModel: 'SD 1.5', eco: 'sd1' },
  { baseModel: 'SDXL 1.0', eco: 'sdxl' },
  { baseModel: 'Flux.1 D', eco: 'flux1' },
];

/** The site catalog: deterministic, with the real AIRs of the adapter's built-in list first. */
function makeCatalog(count: number): FakeModel[] {
  const named: FakeModel[] = [
    { id: 101055, name: 'SD XL', type: 'Checkpoint', nsfw: false, downloads: 500_000, rating: 4.8, createdAt: '2023-07-26T00:00:00Z', tags: ['base model'], creator: 'stabilityai', versions: [{ id: 128078, name: 'v1.0 VAE fix', baseModel: 'SDXL 1.0', trainedWords: [], air: 'urn:air:sdxl:checkpoint:civitai:101055@128078' }] },
    { id: 4384, name: 'DreamShaper', type: 'Checkpoint', nsfw: false, downloads: 900_000, rating: 4.9, createdAt: '2023-01-01T00:00:00Z', tags: ['anime', 'art'], creator: 'Lykon', versions: [{ id: 128713, name: '8', baseModel: 'SD 1.5', trainedWords: [], air: 'urn:air:sd1:checkpoint:civitai:4384@128713' }] },
    { id: 122359, name: 'Detail Tweaker XL', type: 'LORA', nsfw: false, downloads: 300_000, rating: 4.9, createdAt: '2023-08-01T00:00:00Z', tags: ['detail'], creator: 'civitai', versions: [{ id: 135867, name: 'Detail Tweaker XL', baseModel: 'SDXL 1.0', trainedWords: ['add_detail'], air: 'urn:air:sdxl:lora:civitai:122359@135867' }] },
    { id: 618692, name: 'FLUX', type: 'Checkpoint', nsfw: false, downloads: 700_000, rating: 4.7, createdAt: '2024-08-01T00:00:00Z', tags: ['base model'], creator: 'civitai', versions: [{ id: 691639, name: 'Dev', baseModel: 'Flux.1 D', trainedWords: [], air: 'urn:air:flux1:checkpoint:civitai:618692@691639' }] },
  ];
  const out = [...named];
  for (let i = 0; i < count; i++) {
    const id = 200_000 + i;
    const type = i % 3 === 2 ? 'LORA' : 'Checkpoint';
    // Types cycle every model and ecosystems every three, so every type meets every ecosystem.
    const eco = ECOSYSTEMS[(Math.floor(i / 3) + 1) % ECOSYSTEMS.length];
    const airType = type === 'LORA' ? 'lora' : 'checkpoint';
    const word = ['Lighthouse', 'Watercolor', 'Neon', 'Pixel', 'Ink', 'Velvet', 'Copper', 'Glass'][i % 8];
    const nVersions = 1 + (i % 2);
    const versions: FakeModelVersion[] = [];
    for (let k = nVersions - 1; k >= 0; k--) {
      const vid = id * 10 + k;
      versions.push({ id: vid, name: `v${k + 1}.0`, baseModel: eco.baseModel, trainedWords: type === 'LORA' ? [`${word.toLowerCase()}_style`] : [], air: `urn:air:${eco.eco}:${airType}:civitai:${id}@${vid}` });
    }
    out.push({
      id,
      name: `${word} ${type === 'LORA' ? 'Style' : 'Mix'} ${i}`,
      type,
      nsfw: i % 17 === 5,
      downloads: (i * 7919) % 100_000,
      rating: ((i * 31) % 50) / 10,
      createdAt: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString(),
      tags: [word.toLowerCase()],
      creator: `creator${i % 11}`,
      versions,
    });
  }
  return out;
}

function versionView(m: FakeModel, v: FakeModelVersion): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    baseModel: v.baseModel,
    baseModelType: 'Standard',
    publishedAt: m.createdAt,
    supportsGeneration: true,
    trainedWords: v.trainedWords,
    stats: { downloadCount: m.downloads, thumbsUpCount: 1, thumbsDownCount: 0 },
    files: [{ id: v.id + 7, name: `${m.name.replace(/\W+/g, '_')}.safetensors`, type: 'Model', sizeKB: 2048, hashes: { AutoV2: 'ABCDEF0123' }, downloadUrl: `https://civitai.com/api/download/models/${v.id}`, primary: true, metadata: { format: 'SafeTensor' } }],
    images: [{ url: `https://image.civitai.com/xG1nkqKTMzGDvpLrqFT7WA/${v.id}/width=450/${v.id}.jpeg`, nsfwLevel: 1, width: 832, height: 1216, hash: 'U00000fQfQfQ', type: 'image' }],
    downloadUrl: `https://civitai.com/api/download/models/${v.id}`,
  };
}

function modelView(m: FakeModel): Record<string, unknown> {
  return {
    id: m.id,
    name: m.name,
    description: `<p>${m.name}</p>`,
    type: m.type,
    nsfw: m.nsfw,
    nsfwLevel: m.nsfw ? 4 : 1,
    availability: 'Public',
    supportsGeneration: true,
    allowNoCredit: true,
    allowCommercialUse: '{Image}',
    allowDerivatives: true,
    allowDifferentLicense: true,
    poi: false,
    minor: false,
    stats: { downloadCount: m.downloads, thumbsUpCount: Math.round(m.rating * 100), thumbsDownCount: 1, commentCount: 0, tippedAmountCount: 0 },
    creator: { username: m.creator, image: null },
    tags: m.tags,
    modelVersions: m.versions.map((v) => versionView(m, v)),
  };
}

export async function startCivitaiFake(opts: CivitaiFakeOptions = {}): Promise<CivitaiFake> {
  let key = opts.key ?? 'civitai-test-token-0123456789abcdef';
  let defaultPlan: CivitaiPlan = { ...DEFAULT_PLAN, ...opts.plan };
  let next: Partial<CivitaiPlan> | undefined;
  const workflows = new Map<string, CivitaiFakeWorkflow>();
  const submissions: unknown[] = [];
  const quotes: unknown[] = [];
  const buzzOf = (input: Record<string, unknown>) => fake.buzzPerImage * (typeof input.quantity === 'number' ? input.quantity : 1);
  const cancels: string[] = [];
  const models = makeCatalog(opts.modelCount ?? 300);
  const holder: { server?: FakeServer } = {};
  let clock = Date.UTC(2026, 0, 1);
  const now = () => new Date((clock += 1500)).toISOString();
  /** Image bytes by blob id, and the signatures still valid (each maps to its blob id). */
  const blobs = new Map<string, { bytes: Uint8Array; workflow: string }>();
  const signatures = new Map<string, string>();
  const sign = (blobId: string) => {
    const sig = randomBytes(8).toString('hex');
    signatures.set(sig, blobId);
    return sig;
  };

  function validate(body: unknown): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    const add = (path: string, message: string) => (errors[path] ??= []).push(message);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      add('$', 'The JSON value could not be converted to WorkflowTemplate.');
      return errors;
    }
    const steps = (body as { steps?: unknown }).steps;
    if (!Array.isArray(steps) || steps.length === 0) {
      add('steps', 'The steps field is required.');
      return errors;
    }
    steps.forEach((step: unknown, i) => {
      const s = (step ?? {}) as { $type?: unknown; input?: unknown };
      const at = `steps[${i}]`;
      if (s.$type !== 'textToImage') return add(`${at}.$type`, 'This fake knows only the textToImage step.');
      if (!s.input || typeof s.input !== 'object' || Array.isArray(s.input)) return add(`${at}.input`, 'The input field is required.');
      const input = s.input as Record<string, unknown>;
      const p = `${at}.input`;
      for (const k of Object.keys(input)) if (!INPUT_FIELDS.has(k)) add(`${p}.${k}`, `Could not find member '${k}' on object of type 'TextToImageInput'.`);
      if (typeof input.model !== 'string' || !AIR_PATTERN.test(input.model)) add(`${p}.model`, 'The field model must match the AIR pattern.');
      if (typeof input.prompt !== 'string' || input.prompt === '') add(`${p}.prompt`, 'The prompt field is required.');
      const range = (k: string, min: number, max: number, integer: boolean) => {
        const v = input[k];
        if (v === undefined || v === null) return;
        if (typeof v !== 'number' || (integer && !Number.isInteger(v)) || v < min || v > max) add(`${p}.${k}`, `The field ${k} must be between ${min} and ${max}.`);
      };
      range('steps', 1, 150, true);
      range('cfgScale', 1, 30, false);
      range('width', 64, 4084, true);
      range('height', 64, 4084, true);
      range('quantity', 1, 100, true);
      range('batchSize', 1, 100, true);
      range('seed', 0, 4294967295, true);
      range('sourceImageDenoiseStrenght', 0, 1, false);
      const nets = input.additionalNetworks;
      if (nets !== undefined && (typeof nets !== 'object' || nets === null || Array.isArray(nets))) add(`${p}.additionalNetworks`, 'Must be an object.');
      else for (const air of Object.keys((nets ?? {}) as object)) if (!AIR_PATTERN.test(air)) add(`${p}.additionalNetworks.${air}`, 'The key must be an AIR.');
      const src = input.sourceImage;
      if (src !== undefined && src !== null && (typeof src !== 'string' || !/^(https?:\/\/|data:image\/[\w.+-]+;base64,)/.test(src))) add(`${p}.sourceImage`, 'Either A URL, A DataURL or a Base64 string');
    });
    return errors;
  }

  function view(w: CivitaiFakeWorkflow): Record<string, unknown> {
    const p = w.plan;
    const done = TERMINAL.has(w.status);
    const imagesOut =
      w.status === 'succeeded'
        ? p.output ??
          {
            images: w.images.map((img, i) => {
              const available = w.unavailableLeft <= 0;
              // Mature output withheld unless the submission allowed it: available, no URL.
              const withheld = available && i < (p.mature ?? 0) && w.body.allowMatureContent !== true;
              const url = available && !withheld ? `https://${ORCH}/v2/consumer/blobs/${img.id}.png?sig=${sign(img.id)}&exp=2099-01-01T00:00:00Z` : null;
              return { type: 'image', id: img.id, available, url, urlExpiresAt: url ? '2099-01-01T00:00:00Z' : null, jobId: `${w.id}-job`, width: img.width, height: img.height, nsfwLevel: i < (p.mature ?? 0) ? 'x' : 'pg' };
            }),
          }
        : undefined;
    const job: Record<string, unknown> = { id: `${w.id}-job`, status: w.status, cost: 8 };
    if (!done && w.status !== 'processing') job.queuePosition = { precedingJobs: Math.max(0, p.sequence.length - w.gets), support: 'available' };
    if (w.status === 'failed') {
      job.reason = p.reason ?? 'no_provider_available';
      if (p.blockedReason) job.blockedReason = p.blockedReason;
    }
    if (w.status === 'expired') job.reason = p.reason ?? 'timeout';
    return {
      id: w.id,
      createdAt: w.createdAt,
      startedAt: w.startedAt ?? null,
      completedAt: w.completedAt ?? null,
      status: w.status,
      tags: (w.body.tags as string[] | undefined) ?? [],
      metadata: {},
      arguments: {},
      callbacks: [],
      upgradeMode: 'manual',
      currencies: [],
      forceRefunded: false,
      transactions: w.status === 'succeeded' ? { list: [{ type: 'debit', amount: buzzOf(w.input), id: `tx-${w.id}`, accountType: 'yellow' }] } : { list: [] },
      steps: [
        {
          $type: 'textToImage',
          name: '0',
          priority: 'normal',
          status: w.status,
          metadata: {},
          startedAt: w.startedAt ?? null,
          completedAt: w.completedAt ?? null,
          estimatedProgressRate: w.status === 'processing' ? Math.min(1, w.gets / Math.max(1, p.sequence.length)) : null,
          input: w.input,
          ...(imagesOut !== undefined ? { output: imagesOut } : {}),
          jobs: [job],
        },
      ],
    };
  }

  async function finish(w: CivitaiFakeWorkflow): Promise<void> {
    w.status = w.plan.end;
    w.completedAt = now();
    w.startedAt ??= w.completedAt;
    if (w.plan.end !== 'succeeded') return;
    const prompt = typeof w.input.prompt === 'string' ? w.input.prompt : '';
    const n = (typeof w.input.quantity === 'number' ? w.input.quantity : 1) * (typeof w.input.batchSize === 'number' ? w.input.batchSize : 1);
    for (let i = 0; i < n; i++) {
      const id = randomBytes(13).toString('hex').toUpperCase();
      const bytes = await pngBytes(w.plan.width, w.plan.height, colourOf(`${prompt}#${w.input.seed}#${i}`));
      const path = `/v2/consumer/blobs/${id}.png`;
      blobs.set(id, { bytes, workflow: w.id });
      w.images.push({ id, path, width: w.plan.width, height: w.plan.height });
    }
  }

  function listModels(req: FakeRequest, res: http.ServerResponse): void {
    const q = req.query;
    const limit = q.has('limit') ? Number(q.get('limit')) : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return sendJson(res, 400, { error: 'limit: Number must be less than or equal to 100' });
    const query = q.get('query')?.toLowerCase();
    const page = q.has('page') ? Number(q.get('page')) : undefined;
    if (page !== undefined && query) return sendJson(res, 400, { error: 'Cannot use page param with query search. Use cursor-based pagination.' });
    if (page !== undefined && page * limit > 1000) return sendJson(res, 429, { error: "You've requested too many pages, please use cursors instead" });
    const types = q.getAll('types').flatMap((t) => t.split(',')).filter(Boolean);
    const bases = q.getAll('baseModels').flatMap((t) => t.split(',')).filter(Boolean);
    const nsfw = q.get('nsfw') === 'true';
    const sort = q.get('sort') ?? 'Highest Rated';
    let list = models.filter((m) => (nsfw || !m.nsfw) && (!query || m.name.toLowerCase().includes(query)) && (types.length === 0 || types.includes(m.type)) && (bases.length === 0 || m.versions.some((v) => bases.includes(v.baseModel))));
    const score = (m: FakeModel) => (sort === 'Most Downloaded' ? m.downloads : sort === 'Newest' ? Date.parse(m.createdAt) : m.rating);
    list = list.sort((a, b) => score(b) - score(a) || b.id - a.id);
    // Opaque cursor in Civitai's style ("score|id"): the position after the last item served.
    let start = 0;
    const cursor = q.get('cursor');
    if (cursor) {
      const m = /^(-?[\d.]+)\|(\d+)$/.exec(cursor);
      if (!m) return sendJson(res, 400, { error: 'cursor: Invalid cursor' });
      const [s, id] = [Number(m[1]), Number(m[2])];
      start = list.findIndex((x) => score(x) < s || (score(x) === s && x.id < id));
      if (start < 0) start = list.length;
    } else if (page !== undefined) start = (page - 1) * limit;
    const items = list.slice(start, start + limit);
    const last = items.at(-1);
    const metadata: Record<string, unknown> = {};
    if (last && start + limit < list.length) {
      metadata.nextCursor = `${score(last)}|${last.id}`;
      metadata.nextPage = `https://civitai.com/api/v1/models?limit=${limit}&cursor=${encodeURIComponent(String(metadata.nextCursor))}`;
    }
    if (page !== undefined) Object.assign(metadata, { currentPage: page, pageSize: limit });
    sendJson(res, 200, { items: items.map(modelView), metadata });
  }

  const server = await startFakeServer(async (req, res) => {
    const route = routeOf(req);
    if (!route) return sendJson(res, 404, { error: 'Not found' });
    if (route === 'models') return listModels(req, res);
    if (route === 'blob') {
      // A signed URL: no token; a signature that expired (or never was) is refused.
      const id = decodeURIComponent(req.path.split('/').pop() ?? '').replace(/\.png$/, '');
      const blob = blobs.get(id);
      if (!blob) return problem(res, 404, 'Not Found', { detail: `Blob ${id} was not found.` });
      if (signatures.get(req.query.get('sig') ?? '') !== id) return problem(res, 403, 'Forbidden', { detail: 'The signature is invalid or has expired.' });
      const w = workflows.get(blob.workflow);
      if (w) {
        w.downloads++;
        if (w.plan.urlsExpireAfterDownloads !== undefined && w.downloads >= w.plan.urlsExpireAfterDownloads) signatures.clear();
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': blob.bytes.byteLength });
      res.end(Buffer.from(blob.bytes));
      return;
    }
    if (route === 'model') {
      const id = Number(req.path.split('/').pop());
      const m = models.find((x) => x.id === id);
      return m ? sendJson(res, 200, modelView(m)) : sendJson(res, 404, { error: `No model with id ${id}` });
    }
    if (route === 'version') {
      const id = Number(req.path.split('/').pop());
      const m = models.find((x) => x.versions.some((v) => v.id === id));
      const v = m?.versions.find((x) => x.id === id);
      if (!m || !v) return sendJson(res, 404, { error: `Model not found` });
      return sendJson(res, 200, { ...versionView(m, v), modelId: m.id, description: null, air: v.air, status: 'Published', availability: 'Public', model: { name: m.name, type: m.type, nsfw: m.nsfw, poi: false, minor: false } });
    }
    // Orchestration: bearer token required.
    if (req.headers.authorization !== `Bearer ${key}`) return problem(res, 401, 'Unauthorized', { detail: 'A valid bearer token is required.' });
    if (route === 'query') {
      const take = Number(req.query.get('take') ?? 100);
      return sendJson(res, 200, { next: '', items: [...workflows.values()].slice(0, take).map(view) });
    }
    if (route === 'whatif') {
      quotes.push(req.json);
      const errors = validate(req.json);
      if (Object.keys(errors).length) return problem(res, 400, 'One or more validation errors occurred.', { errors });
      const input = ((req.json as Record<string, unknown>).steps as { input: Record<string, unknown> }[])[0].input;
      const amount = buzzOf(input);
      return sendJson(res, 200, {
        id: null,
        createdAt: now(),
        status: 'unassigned',
        tags: [],
        metadata: {},
        arguments: {},
        callbacks: [],
        upgradeMode: 'manual',
        currencies: [],
        forceRefunded: false,
        cost: { base: amount, tips: { civitai: 0, creators: 0 }, total: amount },
        transactions: { list: [{ type: 'debit', amount, accountType: 'yellow' }], insufficientBuzz: amount > fake.balance },
        steps: [{ $type: 'textToImage', name: '0', priority: 'normal', input, output: null, jobs: [] }],
      });
    }
    if (route === 'submit') {
      submissions.push(req.json);
      const errors = validate(req.json);
      if (Object.keys(errors).length) return problem(res, 400, 'One or more validation errors occurred.', { errors });
      const body = req.json as Record<string, unknown>;
      const input = (body.steps as { input: Record<string, unknown> }[])[0].input;
      const id = `wf_${randomBytes(10).toString('hex').toUpperCase()}`;
      const plan = { ...defaultPlan, ...next };
      next = undefined;
      const w: CivitaiFakeWorkflow = { id, body, input, plan, gets: 0, status: 'unassigned', createdAt: now(), images: [], unavailableLeft: plan.unavailableGets, downloads: 0 };
      workflows.set(id, w);
      return sendJson(res, 200, view(w));
    }
    const id = decodeURIComponent(req.path.split('/').pop() ?? '');
    const w = workflows.get(id);
    if (!w) return problem(res, 404, 'Not Found', { detail: `Workflow ${id} was not found.` });
    if (route === 'delete') {
      workflows.delete(id);
      res.writeHead(204).end();
      return;
    }
    if (route === 'update') {
      const body = req.json as { status?: unknown } | undefined;
      if (!body || body.status !== 'canceled') return problem(res, 400, 'One or more validation errors occurred.', { errors: { status: ["The only status a workflow can be updated to is 'canceled'."] } });
      cancels.push(id);
      if (TERMINAL.has(w.status)) return problem(res, 409, 'Conflict', { detail: `Workflow ${id} is already ${w.status}.` });
      w.status = 'canceled';
      w.completedAt = now();
      return sendJson(res, 200, view(w));
    }
    // get: advance one step
    if (!TERMINAL.has(w.status)) {
      w.gets++;
      if (w.gets > w.plan.sequence.length) await finish(w);
      else {
        w.status = w.plan.sequence[w.gets - 1];
        if (w.status === 'processing' && !w.startedAt) w.startedAt = now();
      }
    }
    const out = view(w);
    if (w.status === 'succeeded' && w.unavailableLeft > 0) w.unavailableLeft--;
    return sendJson(res, 200, out);
  }, routeOf);
  holder.server = server;

  const fake: CivitaiFake = Object.assign(server, {
    key,
    workflows,
    submissions,
    quotes,
    buzzPerImage: 8,
    balance: Number.POSITIVE_INFINITY,
    cancels,
    models,
    plan: (p: Partial<CivitaiPlan>) => {
      defaultPlan = { ...defaultPlan, ...p };
    },
    nextJob: (p: Partial<CivitaiPlan>) => {
      next = p;
    },
    setKey: (k: string) => {
      key = k;
      fake.key = k;
    },
    expireUrls: () => signatures.clear(),
  });
  return fake;
}
