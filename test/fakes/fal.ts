// A fake fal.ai, written from fal's documented queue, storage and OpenAPI protocol, for the
// REAL @fal-ai/client to talk to through our base-URL rewrite. Reusable by engine, e2e and demo.
//
//   const fake = await startFalFake({ key: 'fal-key-123' });
//   ctx.baseUrl = fake.baseUrl;          // or ARTFACTORY_FAL_BASE_URL=fake.baseUrl
//   ... await fake.close();
//
// Routes (paths as they arrive: /HOST/PATH):
//   POST /queue.fal.run/{endpoint}                        'submit'  → {request_id, status: IN_QUEUE, queue_position, *_url}
//   GET  /queue.fal.run/{owner}/{alias}/requests/{id}/status 'status' → 202 IN_QUEUE/IN_PROGRESS, 200 COMPLETED (logs=1 adds logs)
//   GET  /queue.fal.run/{owner}/{alias}/requests/{id}     'result'  → output JSON (images on v3.fal.media), or the planned failure
//   PUT  /queue.fal.run/{owner}/{alias}/requests/{id}/cancel 'cancel' → 202 CANCELLATION_REQUESTED / 400 ALREADY_COMPLETED
//   GET  /fal.ai/api/openapi/queue/openapi.json?endpoint_id=ID 'openapi' (public; unknown ids → 404)
//   POST /rest.fal.ai/storage/upload/initiate              'initiate' → {upload_url, file_url}
//   PUT  /v3.fal.media/upload/{token}                      'put'     (no auth, like fal's signed URL)
//   GET  /v3.fal.media/files/...                           downloads (outputs and uploads)
//   GET  /api.fal.ai/v1/models?endpoint_id=ID              'models'  → {models: [{endpoint_id, metadata: {display_name, category, …}}], next_cursor, has_more}
//   GET  /api.fal.ai/v1/models/pricing?endpoint_id=a,b     'pricing' → {prices: [{endpoint_id, unit_price, unit, currency}], next_cursor, has_more}
//        (docs platform-apis/v1/models/pricing: "Authentication: Required"; 1–50 ids, comma-separated
//        or repeated; ids without a price are not listed)
// The result response carries `x-fal-billable-units` (what fal billed, in the model's priced unit:
//   billable units × unit_price is the request's cost; the SDK drops the header, response.js).
// Auth: `Authorization: Key <key>` on queue and storage routes, else 401 {detail}.
// Validation (submit): `prompt` must be a non-empty string (422 detail loc [body, prompt]);
//   `num_images` > 4 → 422; image_url must be http(s) or data: (422 loc [body, image_url]).
//
// Controls:
//   fake.plan({ queueSteps, progressSteps, logs, fail, output, width, height })  default for new jobs
//     - queueSteps: status polls answered IN_QUEUE (positions count down); progressSteps: IN_PROGRESS
//     - logs: log lines revealed one per IN_PROGRESS poll (cumulative, as fal sends them)
//     - fail: {status, body, headers} → COMPLETED, but the result call answers this (fal's failed run),
//       with x-fal-request-id; a runner error is e.g. {status: 503, body: {detail, error_type:
//       "runner_disconnected"}, headers: {"x-fal-error-type": "runner_disconnected"}}
//     - output: replace the result JSON entirely; width/height of the generated PNGs
//     - billableUnits: the result's `x-fal-billable-units` (default: megapixels made for a model
//       priced per megapixel, else the number of outputs; null leaves the header out). A failed result sends it only when its `fail.headers` do.
//   fake.nextJob(plan)        the same, for the next submission only
//   fake.addFault({ route, status, body, headers, times, malformed, drop, delayMs })  e.g.
//     { route: 'submit', status: 429, headers: { 'retry-after': '3' } }, { route: 'status', status: 503, times: 2 }
//   fake.expireResult(id)    fal's retention ran out: the result answers 404 (status stays COMPLETED)
//   fake.displayNames        endpoint id → display name for the models API (others: none listed)
//   fake.prices              endpoint id → {unit_price, unit, currency} for the pricing API (others: none listed)
//   fake.jobs (id → job: endpoint, input, polls, canceled), fake.cancels (ids), fake.uploads (token → bytes, lifecycle)
//   fake.files (path → bytes; set truncateAt, or replace with big bytes for oversize tests)
//   fake.captured (every request: method, url, headers, body), fake.setKey(k)

import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { colourOf, fileUrl, pngBytes, sendJson, startFakeServer, type FakeRequest, type FakeServer } from './common.ts';

export interface FalJobPlan {
  queueSteps: number;
  progressSteps: number;
  logs: string[];
  fail?: { status: number; body: unknown; headers?: Record<string, string> };
  output?: unknown;
  width: number;
  height: number;
  billableUnits?: number | null;
}

export interface FalFakeJob {
  id: string;
  endpoint: string;
  appId: string;
  input: Record<string, unknown>;
  plan: FalJobPlan;
  polls: number;
  canceled: boolean;
  completed: boolean;
  resultExpired?: boolean;
}

export interface FalFake extends FakeServer {
  key: string;
  jobs: Map<string, FalFakeJob>;
  cancels: string[];
  uploads: Map<string, { bytes: Buffer; contentType: string; lifecycle?: unknown }>;
  displayNames: Map<string, string>;
  prices: Map<string, { unit_price: number; unit: string; currency: string }>;
  plan(p: Partial<FalJobPlan>): void;
  nextJob(p: Partial<FalJobPlan>): void;
  setKey(k: string): void;
  expireResult(id: string): void;
}

export interface FalFakeOptions {
  key?: string;
  plan?: Partial<FalJobPlan>;
  /** Endpoint ids the OpenAPI route knows (default: any id except ones containing "does-not-exist"). */
  knownEndpoint?: (id: string) => boolean;
}

const DEFAULT_PLAN: FalJobPlan = { queueSteps: 1, progressSteps: 1, logs: ['loading model', 'denoising'], width: 64, height: 64 };

function routeOf(req: FakeRequest): string | undefined {
  if (req.host === 'queue.fal.run') {
    if (req.path.endsWith('/cancel')) return 'cancel';
    if (req.path.endsWith('/status')) return 'status';
    if (req.path.includes('/requests/')) return 'result';
    return 'submit';
  }
  if (req.host === 'fal.ai') return 'openapi';
  if (req.host === 'api.fal.ai') return req.path === '/v1/models/pricing' ? 'pricing' : 'models';
  if (req.host === 'rest.fal.ai') return 'initiate';
  if (req.method === 'PUT') return 'put';
  return undefined;
}

function openApiFor(id: string): unknown {
  // Endpoints that take an image (fal's schemas name it image_url): image-to-image, edits,
  // upscalers, image-to-video (e.g. fal.ai/models/fal-ai/minimax/video-01/image-to-video, "image_url
  // (string, required): URL of the image to use as the first frame").
  const isI2I = /image-to-image|image-to-video|upscal|edit|redux/.test(id);
  const isVideo = /video/.test(id);
  const inputProps: Record<string, unknown> = {
    prompt: { type: 'string', title: 'Prompt', description: 'The prompt to generate an image from.' },
    image_size: {
      anyOf: [{ $ref: '#/components/schemas/ImageSize' }, { type: 'string', enum: ['square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9'] }],
      default: 'landscape_4_3',
    },
    num_inference_steps: { type: 'integer', minimum: 1, maximum: 50, default: 28 },
    seed: { type: 'integer', nullable: true },
    num_images: { type: 'integer', minimum: 1, maximum: 4, default: 1 },
    enable_safety_checker: { type: 'boolean', default: true },
    output_format: { $ref: '#/components/schemas/OutputFormat' },
  };
  if (isI2I) inputProps.image_url = { type: 'string', description: 'The URL of the image to transform.' };
  const inputName = `${id.replace(/[^A-Za-z0-9]/g, '_')}_Input`;
  return {
    openapi: '3.0.4',
    info: { title: `Queue OpenAPI for ${id}`, version: '1.0.0', description: `Fake schema for ${id}` },
    paths: {
      [`/${id}/requests/{request_id}/status`]: { get: { responses: {} } },
      [`/${id}`]: {
        post: {
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${inputName}` } } } },
          responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/QueueStatus' } } } } },
        },
      },
    },
    components: {
      schemas: {
        [inputName]: { type: 'object', title: 'Input', properties: inputProps, required: isI2I ? ['prompt', 'image_url'] : ['prompt'], 'x-fal-order-properties': Object.keys(inputProps) },
        ImageSize: { type: 'object', properties: { width: { type: 'integer', maximum: 14142 }, height: { type: 'integer', maximum: 14142 } } },
        OutputFormat: { type: 'string', enum: ['jpeg', 'png'], default: 'jpeg' },
        QueueStatus: { type: 'object', properties: { status: { type: 'string' } } },
        Output: isVideo ? { type: 'object', properties: { video: { $ref: '#/components/schemas/File' } } } : { type: 'object', properties: { images: { type: 'array' } } },
        File: { type: 'object', properties: { url: { type: 'string' } } },
      },
    },
  };
}

export async function startFalFake(opts: FalFakeOptions = {}): Promise<FalFake> {
  let key = opts.key ?? 'fal-test-key-0123456789abcdef';
  let defaultPlan: FalJobPlan = { ...DEFAULT_PLAN, ...opts.plan };
  let next: Partial<FalJobPlan> | undefined;
  const jobs = new Map<string, FalFakeJob>();
  const cancels: string[] = [];
  const uploads = new Map<string, { bytes: Buffer; contentType: string; lifecycle?: unknown }>();
  const displayNames = new Map<string, string>([
    ['fal-ai/flux/dev', 'FLUX.1 [dev]'],
    ['fal-ai/flux-pro/kontext', 'FLUX.1 Kontext [pro]'],
    ['fal-ai/kling-video/v2.1/standard/image-to-video', 'Kling 2.1 (standard) Image to Video'],
  ]);
  const knownEndpoint = opts.knownEndpoint ?? ((id: string) => !id.includes('does-not-exist'));
  // Prices as fal lists them on its model pages (fal-ai/flux/dev $0.025 per megapixel, schnell
  // $0.003; video per second); the fake's own figures, not a promise of today's prices.
  const prices = new Map<string, { unit_price: number; unit: string; currency: string }>([
    ['fal-ai/flux/dev', { unit_price: 0.025, unit: 'megapixels', currency: 'USD' }],
    ['fal-ai/flux/schnell', { unit_price: 0.003, unit: 'megapixels', currency: 'USD' }],
    ['fal-ai/flux-pro/v1.1-ultra', { unit_price: 0.06, unit: 'image', currency: 'USD' }],
    ['fal-ai/minimax/video-01', { unit_price: 0.5, unit: 'video', currency: 'USD' }],
  ]);

  const authorized = (req: FakeRequest) => req.headers.authorization === `Key ${key}`;
  const unauthorized = (res: http.ServerResponse) => sendJson(res, 401, { detail: 'Authentication is required to perform this action.' });

  // The base server is created first so the handler can store generated files in it.
  const holder: { server?: FakeServer } = {};

  async function outputFor(job: FalFakeJob): Promise<unknown> {
    if (job.plan.output !== undefined) return job.plan.output;
    const prompt = typeof job.input.prompt === 'string' ? job.input.prompt : '';
    const n = typeof job.input.num_images === 'number' ? job.input.num_images : 1;
    const images = [];
    for (let i = 0; i < n; i++) {
      const bytes = await pngBytes(job.plan.width, job.plan.height, colourOf(`${prompt}#${i}`));
      const path = `/v3.fal.media/files/${job.id}/${i}.png`;
      holder.server!.files.set(path, { bytes, contentType: 'image/png' });
      images.push({ url: fileUrl('v3.fal.media', `/files/${job.id}/${i}.png`), width: job.plan.width, height: job.plan.height, content_type: 'image/png' });
    }
    const seed = typeof job.input.seed === 'number' ? job.input.seed : 1234;
    if (/video/.test(job.endpoint)) {
      // An MP4's opening boxes (ftyp, then an empty mdat): enough for magic-byte checks; the
      // first image doubles as the "thumbnail" some video endpoints return beside the video.
      const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom\0\0\x02\0isomiso2', 'latin1'), Buffer.from([0, 0, 0, 8]), Buffer.from('mdat')]);
      holder.server!.files.set(`/v3.fal.media/files/${job.id}/out.mp4`, { bytes: mp4, contentType: 'video/mp4' });
      const video = { url: fileUrl('v3.fal.media', `/files/${job.id}/out.mp4`), content_type: 'video/mp4', file_name: 'out.mp4', file_size: mp4.length };
      return { video, thumbnail: { url: images[0].url, content_type: 'image/png' }, seed };
    }
    return { images, seed, timings: { inference: 0.42 }, has_nsfw_concepts: images.map(() => false), prompt };
  }

  function statusBody(job: FalFakeJob, withLogs: boolean): { code: number; body: Record<string, unknown> } {
    const urls = {
      response_url: `https://queue.fal.run/${job.appId}/requests/${job.id}`,
      status_url: `https://queue.fal.run/${job.appId}/requests/${job.id}/status`,
      cancel_url: `https://queue.fal.run/${job.appId}/requests/${job.id}/cancel`,
    };
    const p = job.plan;
    const inProgressPolls = Math.max(0, job.polls - p.queueSteps);
    const logs = p.logs.slice(0, Math.min(p.logs.length, inProgressPolls)).map((message) => ({ message, level: 'INFO', source: 'USER', timestamp: new Date(0).toISOString() }));
    if (!job.completed && !job.canceled) {
      if (job.polls < p.queueSteps) return { code: 202, body: { status: 'IN_QUEUE', queue_position: p.queueSteps - job.polls - 1, request_id: job.id, ...urls } };
      if (job.polls < p.queueSteps + p.progressSteps) return { code: 202, body: { status: 'IN_PROGRESS', request_id: job.id, ...urls, ...(withLogs ? { logs } : {}) } };
      job.completed = true;
    }
    return { code: 200, body: { status: 'COMPLETED', request_id: job.id, ...urls, ...(withLogs ? { logs: p.logs.map((message) => ({ message, level: 'INFO', source: 'USER', timestamp: new Date(0).toISOString() })) } : {}), metrics: { inference_time: 0.42 } } };
  }

  const server = await startFakeServer(async (req, res) => {
    const route = routeOf(req);
    if (route === 'openapi') {
      const id = req.query.get('endpoint_id') ?? '';
      if (req.path !== '/api/openapi/queue/openapi.json' || !knownEndpoint(id)) return sendJson(res, 404, { detail: `Endpoint ${id} not found` });
      return sendJson(res, 200, openApiFor(id));
    }
    if (route === 'models') {
      // "Model search", find mode (fal.ai/docs/platform-apis/v1/models): the key is optional;
      // each listed endpoint carries its metadata. Ids the fake has no name for are not listed.
      if (req.path !== '/v1/models') return sendJson(res, 404, { detail: 'Not Found' });
      if (req.headers.authorization !== undefined && !authorized(req)) return unauthorized(res);
      const ids = req.query.getAll('endpoint_id');
      const models = ids
        .filter((id) => displayNames.has(id))
        .map((id) => ({ endpoint_id: id, metadata: { display_name: displayNames.get(id), category: /video/.test(id) ? 'image-to-video' : 'text-to-image', description: `Fake ${displayNames.get(id)}`, status: 'active', tags: [], updated_at: new Date(0).toISOString(), thumbnail_url: 'https://fal.media/files/example.jpg', model_url: `https://fal.run/${id}`, date: new Date(0).toISOString(), highlighted: false, pinned: false } }));
      return sendJson(res, 200, { models, next_cursor: null, has_more: false });
    }
    if (route === 'pricing') {
      // "Pricing" (fal.ai/docs/platform-apis/v1/models/pricing): authentication required; 1–50
      // endpoint ids, comma-separated or repeated; the response lists the priced ones.
      if (!authorized(req)) return unauthorized(res);
      const ids = req.query.getAll('endpoint_id').flatMap((v) => v.split(',')).filter(Boolean);
      const listed = ids.filter((id) => prices.has(id)).map((id) => ({ endpoint_id: id, ...prices.get(id)! }));
      return sendJson(res, 200, { prices: listed, next_cursor: null, has_more: false });
    }
    if (route === 'put') {
      const token = req.path.replace(/^\/upload\//, '');
      const pending = uploads.get(token);
      if (!pending) return sendJson(res, 404, { detail: 'no such upload' });
      const contentType = String(req.headers['content-type'] ?? pending.contentType);
      uploads.set(token, { bytes: req.body, contentType, lifecycle: pending.lifecycle });
      server.files.set(`/v3.fal.media/files/uploads/${token}`, { bytes: req.body, contentType });
      return sendJson(res, 200, {});
    }
    if (!authorized(req)) return unauthorized(res);
    if (route === 'initiate') {
      if (req.path !== '/storage/upload/initiate') return sendJson(res, 404, { detail: 'not found' });
      const body = (req.json ?? {}) as { content_type?: string; file_name?: string };
      const token = `${randomUUID()}-${(body.file_name ?? 'file').replace(/[^\w.-]/g, '_')}`;
      // The client sends the asked lifetime as X-Fal-Object-Lifecycle (storage.js, initiateUpload).
      const lifecycleHeader = req.headers['x-fal-object-lifecycle'];
      const lifecycle = typeof lifecycleHeader === 'string' ? (JSON.parse(lifecycleHeader) as unknown) : undefined;
      uploads.set(token, { bytes: Buffer.alloc(0), contentType: body.content_type ?? 'application/octet-stream', lifecycle });
      return sendJson(res, 200, { upload_url: fileUrl('v3.fal.media', `/upload/${token}`), file_url: fileUrl('v3.fal.media', `/files/uploads/${token}`) });
    }
    const parts = req.path.split('/').filter(Boolean);
    if (route === 'submit') {
      if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method not allowed' });
      const endpoint = parts.join('/');
      const input = req.json;
      if (!input || typeof input !== 'object' || Array.isArray(input)) return sendJson(res, 422, { detail: [{ loc: ['body'], msg: 'Input should be an object', type: 'model_type' }] });
      const inp = input as Record<string, unknown>;
      const detail: { loc: (string | number)[]; msg: string; type: string }[] = [];
      if (typeof inp.prompt !== 'string' || !inp.prompt.trim()) detail.push({ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' });
      if (typeof inp.num_images === 'number' && inp.num_images > 4) detail.push({ loc: ['body', 'num_images'], msg: 'Input should be less than or equal to 4', type: 'less_than_equal' });
      if (inp.image_url !== undefined && (typeof inp.image_url !== 'string' || !/^(https?:|data:)/.test(inp.image_url))) {
        detail.push({ loc: ['body', 'image_url'], msg: 'Input should be a valid URL', type: 'url_parsing' });
      }
      if (detail.length) return sendJson(res, 422, { detail });
      const id = randomUUID();
      const appId = parts.slice(0, parts[0] === 'workflows' || parts[0] === 'comfy' ? 3 : 2).join('/');
      const job: FalFakeJob = { id, endpoint, appId, input: inp, plan: { ...defaultPlan, ...next }, polls: 0, canceled: false, completed: false };
      next = undefined;
      jobs.set(id, job);
      const urls = statusBody(job, false).body;
      return sendJson(res, 200, { ...urls, status: 'IN_QUEUE', queue_position: job.plan.queueSteps });
    }
    // /{owner}/{alias}/requests/{id}[/status|/cancel]
    const ri = parts.indexOf('requests');
    const job = ri >= 0 ? jobs.get(parts[ri + 1] ?? '') : undefined;
    if (!job || job.appId !== parts.slice(0, ri).join('/')) return sendJson(res, 404, { detail: 'Request not found' });
    if (route === 'status') {
      const s = statusBody(job, req.query.get('logs') === '1');
      job.polls++;
      return sendJson(res, s.code, s.body);
    }
    if (route === 'cancel') {
      if (req.method !== 'PUT') return sendJson(res, 405, { detail: 'Method not allowed' });
      cancels.push(job.id);
      if (job.completed) return sendJson(res, 400, { status: 'ALREADY_COMPLETED' });
      job.canceled = true;
      return sendJson(res, 202, { status: 'CANCELLATION_REQUESTED' });
    }
    // result
    if (job.canceled) return sendJson(res, 499, { detail: 'Request cancelled' }, { 'x-fal-request-id': job.id });
    if (!job.completed) return sendJson(res, 400, { detail: 'Request is still in progress' });
    // Results are kept an hour after completion, 6 minutes when 10 KB or larger (docs "Get
    // request result"); then the result answers 404.
    if (job.resultExpired) return sendJson(res, 404, { detail: 'Request not found' });
    // A failed run's result is the model's (or the runner's) error, with x-fal-request-id;
    // request errors carry `error_type` and X-Fal-Error-Type (docs "Request Error Types").
    if (job.plan.fail) return sendJson(res, job.plan.fail.status, job.plan.fail.body, { 'x-fal-request-id': job.id, ...job.plan.fail.headers });
    const output = await outputFor(job);
    const made = Array.isArray((output as { images?: unknown[] }).images) ? (output as { images: unknown[] }).images.length : 1;
    // By default what the model's priced unit counts: megapixels made, else outputs made. How fal
    // rounds megapixels is not documented; the fake bills the exact product.
    const perMp = prices.get(job.endpoint)?.unit === 'megapixels';
    const units = job.plan.billableUnits === undefined ? (perMp ? (made * job.plan.width * job.plan.height) / 1e6 : made) : job.plan.billableUnits;
    return sendJson(res, 200, output, { 'x-fal-request-id': job.id, ...(units === null ? {} : { 'x-fal-billable-units': String(units) }) });
  }, routeOf);
  holder.server = server;

  const fake: FalFake = Object.assign(server, {
    key,
    jobs,
    cancels,
    uploads,
    displayNames,
    prices,
    expireResult: (id: string) => {
      const job = jobs.get(id);
      if (job) job.resultExpired = true;
    },
    plan: (p: Partial<FalJobPlan>) => {
      defaultPlan = { ...defaultPlan, ...p };
    },
    nextJob: (p: Partial<FalJobPlan>) => {
      next = p;
    },
    setKey: (k: string) => {
      key = k;
      fake.key = k;
    },
  });
  return fake;
}
