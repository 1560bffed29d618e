// A fake Replicate, written from Replicate's documented HTTP API, for the REAL `replicate`
// client to talk to through our base-URL rewrite. Reusable by engine, e2e and demo.
//
//   const fake = await startReplicateFake({ key: 'r8_…' });
//   ctx.baseUrl = fake.baseUrl;          // or ARTFACTORY_REPLICATE_BASE_URL=fake.baseUrl
//
// Routes (paths as they arrive: /HOST/PATH), auth `Authorization: Bearer <key>` on the API:
//   POST /api.replicate.com/v1/models/{owner}/{name}/predictions {input}  'create' → 201 Prediction
//   POST /api.replicate.com/v1/predictions {version, input}               'create' → 201 Prediction
//   GET  /api.replicate.com/v1/predictions/{id}                           'get'    (advances the plan one step)
//   POST /api.replicate.com/v1/predictions/{id}/cancel                    'cancel' → Prediction (canceled)
//   GET  /api.replicate.com/v1/models/{owner}/{name}[/versions/{id}]      'model'  → openapi_schema with $refs
//   POST /api.replicate.com/v1/files (multipart: content, metadata)       'files'  → File object, urls.get
//   GET  /api.replicate.com/v1/account                                    'account'
//   GET  /replicate.delivery/xezq/{id}/out-N.png                          downloads (no auth)
// Errors are problem JSON ({title, detail, status}); 422 adds invalid_fields. Validation on
// create: `prompt` required ("prompt is required"), width/height multiples of 8, image inputs
// must be http(s)/data: URLs. Model owner "nobody" → 404.
//
// As the real API does (sources cited where each is implemented):
// - the official-model route serves official models only; a community model answers it 404
//   (replicate-javascript #347, replicate-python #320), and is run by `version` through
//   POST /v1/predictions, its latest version read from GET /v1/models/{owner}/{name};
// - predictions of official models report `"version": "hidden"`, community ones their version;
// - outputs are deleted an hour after the prediction ends: `data_removed: true`, output gone
//   and its files 404 (docs "Data retention");
// - a 429 body reads "Request was throttled. Your rate limit resets in ~30s." (docs "Rate limits").
//
// Controls:
//   fake.plan({ startingSteps, processingSteps, logs, end, error, output, outputAsString, width, height, completedAgoMs })
//     - startingSteps/processingSteps: GETs answered starting/processing; logs revealed one per processing GET
//     - end: 'succeeded' (default) | 'failed' | 'canceled' | 'aborted'; error: the failure text
//     - output: replace the output entirely; outputAsString: a single URL instead of an array
//     - completedAgoMs: report `completed_at` this long before now (an old prediction)
//   fake.removeData(id)       Replicate's hourly clean-up of one prediction: data_removed, files gone
//   fake.isOfficial(model)    which models the official route serves (default: owners black-forest-labs, minimax)
//   fake.nextJob(plan)        the same, for the next prediction only
//   fake.addFault({ route, status, body, headers, times, malformed, drop, delayMs })  e.g.
//     { route: 'create', status: 429, headers: { 'retry-after': '3' }, body: { detail: 'Request was throttled…' } }
//   fake.predictions (id → prediction state, input), fake.cancels, fake.uploads (id → bytes),
//   fake.files, fake.captured, fake.setKey(k)

import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import { colourOf, fileUrl, pngBytes, sendJson, startFakeServer, type FakeRequest, type FakeServer } from './common.ts';

export type ReplicateEnd = 'succeeded' | 'failed' | 'canceled' | 'aborted';

export interface ReplicatePlan {
  startingSteps: number;
  processingSteps: number;
  logs: string[];
  end: ReplicateEnd;
  error?: string;
  output?: unknown;
  outputAsString?: boolean;
  width: number;
  height: number;
  completedAgoMs?: number;
}

export interface ReplicateFakePrediction {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  plan: ReplicatePlan;
  gets: number;
  status: string;
  output: unknown;
  error: string | null;
  completedAt?: number;
  dataRemoved: boolean;
  files: string[];
}

export interface ReplicateFake extends FakeServer {
  key: string;
  predictions: Map<string, ReplicateFakePrediction>;
  cancels: string[];
  uploads: Map<string, { bytes: Buffer; contentType: string; filename: string }>;
  plan(p: Partial<ReplicatePlan>): void;
  nextJob(p: Partial<ReplicatePlan>): void;
  setKey(k: string): void;
  removeData(id: string): void;
  isOfficial(model: string): boolean;
  /** The latest version id the fake reports for `owner/name`. */
  versionOf(model: string): string;
}

export interface ReplicateFakeOptions {
  key?: string;
  plan?: Partial<ReplicatePlan>;
  /** Models the official route serves (default: owners black-forest-labs and minimax). */
  official?: (model: string) => boolean;
}

const DEFAULT_PLAN: ReplicatePlan = { startingSteps: 1, processingSteps: 1, logs: ['Using seed: 4242', '50%|█████     | 2/4', '100%|██████████| 4/4'], end: 'succeeded', width: 64, height: 64 };
/** A model's latest version: 64 hex digits, fixed per model. */
function versionOf(model: string): string {
  return createHash('sha256').update(`version:${model}`).digest('hex');
}
const DEFAULT_OFFICIAL = (model: string) => /^(black-forest-labs|minimax)\//.test(model);

function routeOf(req: FakeRequest): string | undefined {
  if (req.host !== 'api.replicate.com') return undefined;
  const p = req.path;
  if (/^\/v1\/(models\/[^/]+\/[^/]+\/)?predictions$/.test(p) && req.method === 'POST') return 'create';
  if (/^\/v1\/predictions\/[^/]+\/cancel$/.test(p)) return 'cancel';
  if (/^\/v1\/predictions\/[^/]+$/.test(p)) return 'get';
  if (p.startsWith('/v1/models/')) return 'model';
  if (p.startsWith('/v1/files')) return 'files';
  if (p === '/v1/account') return 'account';
  return undefined;
}

function problem(res: http.ServerResponse, status: number, title: string, detail: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { type: `https://replicate.com/docs/errors#${status}`, title, detail, status, ...extra }, { 'content-type': 'application/problem+json' });
}

function openApiSchema(model: string): unknown {
  return {
    openapi: '3.0.2',
    info: { title: 'Cog', version: '0.1.0' },
    paths: {},
    components: {
      schemas: {
        Input: {
          type: 'object',
          title: 'Input',
          required: ['prompt'],
          properties: {
            prompt: { type: 'string', title: 'Prompt', 'x-order': 0 },
            aspect_ratio: { allOf: [{ $ref: '#/components/schemas/aspect_ratio' }], default: '1:1', 'x-order': 1 },
            num_outputs: { type: 'integer', minimum: 1, maximum: 4, default: 1, 'x-order': 2 },
            seed: { type: 'integer', title: 'Seed', 'x-order': 3 },
            output_format: { allOf: [{ $ref: '#/components/schemas/output_format' }], default: 'webp', 'x-order': 4 },
            ...(/kontext|sdxl|img2img|dev/.test(model) ? { image: { type: 'string', format: 'uri', title: 'Image', 'x-order': 5 } } : {}),
          },
        },
        aspect_ratio: { type: 'string', title: 'aspect_ratio', enum: ['1:1', '16:9', '9:16'], description: 'An enumeration.' },
        output_format: { type: 'string', title: 'output_format', enum: ['webp', 'jpg', 'png'], description: 'An enumeration.' },
        Output: { type: 'array', items: { type: 'string', format: 'uri' }, title: 'Output' },
        Status: { type: 'string', enum: ['starting', 'processing', 'succeeded', 'canceled', 'failed'] },
      },
    },
  };
}

export async function startReplicateFake(opts: ReplicateFakeOptions = {}): Promise<ReplicateFake> {
  let key = opts.key ?? 'r8_TestToken0123456789abcdefABCDEF';
  let defaultPlan: ReplicatePlan = { ...DEFAULT_PLAN, ...opts.plan };
  let next: Partial<ReplicatePlan> | undefined;
  const predictions = new Map<string, ReplicateFakePrediction>();
  const cancels: string[] = [];
  const uploads = new Map<string, { bytes: Buffer; contentType: string; filename: string }>();
  const holder: { server?: FakeServer } = {};
  const newId = () => randomBytes(13).toString('hex').slice(0, 26);
  const isOfficial = opts.official ?? DEFAULT_OFFICIAL;
  /** version id → owner/name, for predictions created by version. */
  const models = new Map<string, string>([['7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc', 'stability-ai/sdxl']]);

  function view(p: ReplicateFakePrediction): Record<string, unknown> {
    const done = ['succeeded', 'failed', 'canceled', 'aborted'].includes(p.status);
    const shownLogs = p.plan.logs.slice(0, Math.max(0, p.gets - p.plan.startingSteps)).join('\n');
    return {
      id: p.id,
      model: p.model,
      version: p.version,
      // After the clean-up the input, output and logs are gone (docs "Data retention").
      input: p.dataRemoved ? {} : p.input,
      logs: p.dataRemoved ? '' : p.status === 'starting' ? '' : done ? p.plan.logs.join('\n') : shownLogs,
      output: p.status === 'succeeded' && !p.dataRemoved ? p.output : null,
      data_removed: p.dataRemoved,
      error: p.error,
      status: p.status,
      source: 'api',
      created_at: new Date(0).toISOString(),
      started_at: p.status === 'starting' ? null : new Date(1000).toISOString(),
      completed_at: done && p.completedAt !== undefined ? new Date(p.completedAt).toISOString() : null,
      urls: {
        get: `https://api.replicate.com/v1/predictions/${p.id}`,
        cancel: `https://api.replicate.com/v1/predictions/${p.id}/cancel`,
        stream: `https://stream.replicate.com/v1/files/${p.id}`,
        web: `https://replicate.com/p/${p.id}`,
      },
      metrics: p.status === 'succeeded' ? { predict_time: 1.5, total_time: 2.25 } : {},
    };
  }

  async function finish(p: ReplicateFakePrediction): Promise<void> {
    p.status = p.plan.end;
    p.completedAt = Date.now() - (p.plan.completedAgoMs ?? 0);
    if (p.plan.end === 'failed') p.error = p.plan.error ?? 'CUDA out of memory';
    if (p.plan.end === 'aborted') p.error = p.plan.error ?? null;
    if (p.plan.end !== 'succeeded') return;
    if (p.plan.output !== undefined) {
      p.output = p.plan.output;
      return;
    }
    const prompt = typeof p.input.prompt === 'string' ? p.input.prompt : '';
    const n = typeof p.input.num_outputs === 'number' ? p.input.num_outputs : 1;
    const urls: string[] = [];
    for (let i = 0; i < n; i++) {
      const bytes = await pngBytes(p.plan.width, p.plan.height, colourOf(`${prompt}#${i}`));
      const path = `/xezq/${p.id}/out-${i}.png`;
      holder.server!.files.set(`/replicate.delivery${path}`, { bytes, contentType: 'image/png' });
      p.files.push(`/replicate.delivery${path}`);
      urls.push(fileUrl('replicate.delivery', path));
    }
    p.output = p.plan.outputAsString ? urls[0] : urls;
  }

  function validate(input: Record<string, unknown>): { field: string; description: string; type: string }[] {
    const errs: { field: string; description: string; type: string }[] = [];
    if (typeof input.prompt !== 'string' || input.prompt === '') errs.push({ type: 'required', field: 'input', description: 'prompt is required' });
    for (const k of ['width', 'height']) {
      const v = input[k];
      if (v !== undefined && (typeof v !== 'number' || v % 8 !== 0)) errs.push({ type: 'multiple_of', field: `input.${k}`, description: 'Must be a multiple of 8' });
    }
    for (const k of ['image', 'input_image', 'mask', 'first_frame_image']) {
      const v = input[k];
      if (v !== undefined && (typeof v !== 'string' || !/^(https?:|data:)/.test(v))) errs.push({ type: 'format', field: `input.${k}`, description: 'Does not match format \'uri\'' });
    }
    return errs;
  }

  const server = await startFakeServer(async (req, res) => {
    const route = routeOf(req);
    if (!route) return sendJson(res, 404, { detail: 'Not found.' });
    if (req.headers.authorization !== `Bearer ${key}`) return problem(res, 401, 'Unauthenticated', 'You did not pass a valid authentication token');
    const parts = req.path.split('/').filter(Boolean); // v1, …
    if (route === 'account') return sendJson(res, 200, { type: 'user', username: 'tester', name: 'Test User', github_url: 'https://github.com/tester' });
    if (route === 'model') {
      const [, , owner, name, sub, version] = parts;
      if (!owner || !name || owner === 'nobody') return problem(res, 404, 'Not found', 'The requested resource could not be found.');
      const latest = versionOf(`${owner}/${name}`);
      models.set(latest, `${owner}/${name}`);
      const ver = { id: version ?? latest, created_at: new Date(0).toISOString(), cog_version: '0.9.0', openapi_schema: openApiSchema(`${owner}/${name}`) };
      if (sub === 'versions') return sendJson(res, 200, ver);
      return sendJson(res, 200, { url: `https://replicate.com/${owner}/${name}`, owner, name, description: `Fake ${name} model`, visibility: 'public', latest_version: ver });
    }
    if (route === 'files') {
      if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method not allowed' });
      const form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': String(req.headers['content-type'] ?? '') } }).formData();
      const content = form.get('content');
      if (!(content instanceof Blob)) return problem(res, 400, 'Bad request', 'content is required');
      const id = newId();
      const bytes = Buffer.from(await content.arrayBuffer());
      const filename = content instanceof File ? content.name : 'file';
      uploads.set(id, { bytes, contentType: content.type || 'application/octet-stream', filename });
      return sendJson(res, 201, {
        id,
        name: filename,
        content_type: content.type || 'application/octet-stream',
        size: bytes.length,
        etag: id,
        checksums: {},
        metadata: {},
        created_at: new Date(0).toISOString(),
        expires_at: new Date(86_400_000).toISOString(),
        urls: { get: `https://api.replicate.com/v1/files/${id}` },
      });
    }
    if (route === 'create') {
      const body = req.json as { input?: unknown; version?: unknown } | undefined;
      if (!body || typeof body !== 'object') return problem(res, 400, 'Bad request', 'The request body is not valid JSON');
      let model: string;
      let version: string;
      if (parts[1] === 'models') {
        model = `${parts[2]}/${parts[3]}`;
        // The official-model route serves official models only; any other model, or one that
        // does not exist, is a 404 (replicate-javascript #347, replicate-python #320). Their
        // predictions report `"version": "hidden"`.
        if (parts[2] === 'nobody' || !isOfficial(model)) return problem(res, 404, 'Not found', 'The requested resource could not be found.');
        version = 'hidden';
      } else {
        if (typeof body.version !== 'string' || !/^[a-z0-9]{8,}$/.test(body.version)) return problem(res, 422, 'Invalid version', 'Invalid version or not permitted', { invalid_fields: [{ type: 'invalid', field: 'version', description: 'Invalid version or not permitted' }] });
        model = models.get(body.version) ?? 'unknown/model';
        version = body.version;
      }
      const input = body.input && typeof body.input === 'object' ? (body.input as Record<string, unknown>) : {};
      const invalid = validate(input);
      if (invalid.length) return problem(res, 422, 'Input validation failed', invalid.map((i) => `- ${i.field}: ${i.description}`).join('\n'), { invalid_fields: invalid });
      const p: ReplicateFakePrediction = { id: newId(), model, version, input, plan: { ...defaultPlan, ...next }, gets: 0, status: 'starting', output: null, error: null, dataRemoved: false, files: [] };
      next = undefined;
      predictions.set(p.id, p);
      return sendJson(res, 201, view(p));
    }
    const p = predictions.get(parts[2] ?? '');
    if (!p) return problem(res, 404, 'Not found', 'The requested resource could not be found.');
    if (route === 'cancel') {
      if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method not allowed' });
      cancels.push(p.id);
      if (p.status === 'starting' || p.status === 'processing') p.status = 'canceled';
      return sendJson(res, 200, view(p));
    }
    // get: advance one step
    if (p.status === 'starting' || p.status === 'processing') {
      p.gets++;
      if (p.gets > p.plan.startingSteps + p.plan.processingSteps) await finish(p);
      else if (p.gets > p.plan.startingSteps) p.status = 'processing';
    }
    return sendJson(res, 200, view(p));
  }, routeOf);
  holder.server = server;

  const fake: ReplicateFake = Object.assign(server, {
    key,
    predictions,
    cancels,
    uploads,
    plan: (p: Partial<ReplicatePlan>) => {
      defaultPlan = { ...defaultPlan, ...p };
    },
    nextJob: (p: Partial<ReplicatePlan>) => {
      next = p;
    },
    setKey: (k: string) => {
      key = k;
      fake.key = k;
    },
    removeData: (id: string) => {
      const p = predictions.get(id);
      if (!p) return;
      p.dataRemoved = true;
      for (const f of p.files) server.files.delete(f);
    },
    isOfficial,
    versionOf,
  });
  return fake;
}
