// The offline Sample provider: deterministic images drawn locally with sharp from prompt,
// seed and size, with a queue delay and progress like a real provider. It needs no key and
// no network, so the demo and the end-to-end tests run anywhere. Its output is clearly
// marked "SAMPLE".
//
// A request id encodes everything about the job ({model, input, submittedAt}), so a fresh
// instance (after a restart) can report its status and draw its result: state follows
// from the time elapsed since submission.
import { createHash } from 'node:crypto';
import { requireSharp, SharpUnavailableError } from '../media/sharp.ts';
import { ProviderError } from './errors.ts';
import { pollUntilTerminal } from './poll.ts';
import type { Artifact, JobRef, JobResult, JsonSchema, ModelInfo, Provider, ProviderContext, ProviderFactory, StatusUpdate, SubmitRequest, WatchOptions } from './types.ts';

const ID = 'sample';
const QUEUE_SHARE = 0.25; // the first quarter of the duration is spent "in queue"

interface Job {
  model: string;
  input: Record<string, unknown>;
  submittedAt: number;
}

const SIZES = [256, 384, 512, 640, 768, 896, 1024, 1152, 1280, 1408, 1536];

function schema(extra: Record<string, unknown> = {}, defaultDuration = 1500): JsonSchema {
  return {
    type: 'object',
    title: 'Sample input',
    required: ['prompt'],
    additionalProperties: false,
    properties: {
      prompt: { type: 'string', minLength: 1, maxLength: 2000, description: 'What to draw. The same prompt and seed always give the same image.' },
      negative_prompt: { type: 'string', maxLength: 2000, default: '', description: 'Recorded with the product (the sample drawing ignores it).' },
      seed: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'Layout of the shapes. Omit for a random seed.' },
      width: { type: 'integer', enum: SIZES, default: 768, description: 'Image width in pixels.' },
      height: { type: 'integer', enum: SIZES, default: 512, description: 'Image height in pixels.' },
      num_images: { type: 'integer', minimum: 1, maximum: 4, default: 1, description: 'Images per job.' },
      guidance_scale: { type: 'number', minimum: 0, maximum: 20, default: 5, description: 'Contrast of the shapes (stands in for CFG scale).' },
      num_inference_steps: { type: 'integer', minimum: 1, maximum: 50, default: 20, description: 'Number of shapes drawn (stands in for sampling steps).' },
      duration_ms: { type: 'integer', minimum: 0, maximum: 600000, default: defaultDuration, description: 'How long the job pretends to take, queue included.' },
      ...extra,
    },
  };
}

const MODELS: (ModelInfo & { schema: JsonSchema; defaultDuration: number })[] = [
  {
    provider: ID,
    id: 'sample/gradient',
    title: 'Sample: Gradient Shapes (offline)',
    description: 'Deterministic offline images from prompt and seed. No key, no network.',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    schema: schema(),
    defaultDuration: 1500,
  },
  {
    provider: ID,
    id: 'sample/image-to-image',
    title: 'Sample: Tint an Image (offline)',
    description: 'Tints the input image with the prompt\'s colours. No key, no network.',
    capabilities: ['image-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    imageFields: ['image_url'],
    schema: (() => {
      const s = schema({ image_url: { type: 'string', description: 'The image to tint (as a data: URI, which is what this provider\'s upload gives).' } });
      (s.required as string[]).push('image_url');
      return s;
    })(),
    defaultDuration: 1500,
  },
  {
    provider: ID,
    id: 'sample/slow',
    title: 'Sample: Slow Job (offline)',
    description: 'Like Gradient Shapes, but takes 20 s by default: for trying cancel and restarts.',
    capabilities: ['text-to-image'],
    promptField: 'prompt',
    seedField: 'seed',
    schema: schema({}, 20000),
    defaultDuration: 20000,
  },
];

function encode(job: Job): string {
  return Buffer.from(JSON.stringify(job)).toString('base64url');
}

function decode(requestId: string): Job {
  try {
    const j = JSON.parse(Buffer.from(requestId, 'base64url').toString('utf8')) as Job;
    if (typeof j.model !== 'string' || typeof j.submittedAt !== 'number' || typeof j.input !== 'object' || !j.input) throw new Error('shape');
    return j;
  } catch {
    throw new ProviderError('not_found', ID, 'Sample: unknown request id.');
  }
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function hash(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/** The SVG for one image: palette from the prompt, layout from the seed. */
export function sampleSvg(prompt: string, seed: number, width: number, height: number, shapes: number, contrast: number): string {
  const h = hash(prompt);
  const hue = (i: number): number => (h[i] * 360) / 256;
  const rand = rng(seed ^ h.readUInt32LE(0));
  const alpha = Math.min(0.9, 0.25 + contrast / 25);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<defs><linearGradient id="bg" x1="0" y1="0" x2="${h[3] % 2}" y2="1"><stop offset="0" stop-color="hsl(${hue(1)},70%,${30 + (h[5] % 30)}%)"/><stop offset="1" stop-color="hsl(${hue(2)},60%,${15 + (h[6] % 25)}%)"/></linearGradient></defs>`,
    `<rect width="${width}" height="${height}" fill="url(#bg)"/>`,
  ];
  for (let i = 0; i < shapes; i++) {
    const x = rand() * width;
    const y = rand() * height;
    const r = (0.04 + rand() * 0.22) * Math.min(width, height);
    const color = `hsla(${(hue(7 + (i % 8)) + rand() * 40) % 360},${55 + rand() * 40}%,${40 + rand() * 40}%,${alpha.toFixed(2)})`;
    if (h[i % 32] % 3 === 0) parts.push(`<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${(2 * r).toFixed(1)}" height="${(2 * r).toFixed(1)}" rx="${(r / 4).toFixed(1)}" fill="${color}" transform="rotate(${(rand() * 90).toFixed(1)} ${x.toFixed(1)} ${y.toFixed(1)})"/>`);
    else parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="${color}"/>`);
  }
  const fs = Math.max(10, Math.round(Math.min(width, height) / 28));
  parts.push(
    `<rect x="${fs / 2}" y="${height - fs * 2}" width="${fs * 5.2}" height="${fs * 1.5}" rx="${fs / 4}" fill="rgba(0,0,0,0.55)"/>`,
    `<text x="${fs}" y="${height - fs * 0.9}" font-family="sans-serif" font-weight="bold" font-size="${fs}" fill="#fff">SAMPLE</text>`,
    `<text x="${fs * 6.3}" y="${height - fs * 0.9}" font-family="sans-serif" font-size="${Math.round(fs * 0.8)}" fill="rgba(255,255,255,0.85)">${escapeXml(prompt.slice(0, 60))}</text>`,
    '</svg>',
  );
  return parts.join('');
}

class SampleProvider implements Provider {
  readonly id = ID;
  readonly displayName = 'Sample (offline)';
  readonly needsKey = false;
  private readonly canceled = new Set<string>();

  constructor(private readonly ctx: ProviderContext) {}

  private now(): number {
    return (this.ctx.now ?? Date.now)();
  }

  private model(id: string): (typeof MODELS)[number] {
    const m = MODELS.find((x) => x.id === id);
    if (!m) throw new ProviderError('not_found', ID, `Sample has no model "${id}". Use one of: ${MODELS.map((x) => x.id).join(', ')}.`);
    return m;
  }

  listModels(): ModelInfo[] {
    return MODELS.map(({ schema: _s, defaultDuration: _d, ...m }) => m);
  }

  async describeModel(model: string): Promise<ModelInfo> {
    const { schema: _s, defaultDuration: _d, ...m } = this.model(model);
    return m;
  }

  async getInputSchema(model: string): Promise<JsonSchema> {
    return structuredClone(this.model(model).schema);
  }

  async submit(req: SubmitRequest): Promise<{ requestId: string }> {
    if (req.signal?.aborted) throw new ProviderError('canceled', ID, 'Sample: canceled before submission.');
    this.model(req.model);
    const prompt = req.input.prompt;
    if (typeof prompt !== 'string' || !prompt.trim()) {
      throw new ProviderError('validation', ID, 'Sample: "prompt" is required.', { status: 422, fieldErrors: [{ path: ['prompt'], message: 'Field required' }] });
    }
    await drawer(); // without sharp, fail now rather than after the whole simulated run
    const input = { ...req.input };
    if (input.seed === undefined) input.seed = Math.floor(Math.random() * 2 ** 32);
    return { requestId: encode({ model: req.model, input, submittedAt: this.now() }) };
  }

  async status(ref: JobRef): Promise<StatusUpdate> {
    const job = decode(ref.requestId);
    if (this.canceled.has(ref.requestId)) return { state: 'canceled', providerStatus: 'canceled', error: new ProviderError('canceled', ID, 'Sample: the job was canceled.') };
    const duration = Math.max(0, num(job.input.duration_ms, this.model(job.model).defaultDuration));
    const elapsed = this.now() - job.submittedAt;
    const queueTime = duration * QUEUE_SHARE;
    if (elapsed < queueTime) {
      // Submitted and waiting, as at a real provider; no queue place, since no other job is ahead.
      return { state: 'submitted', providerStatus: 'IN_QUEUE' };
    }
    if (elapsed < duration) {
      const progress = (elapsed - queueTime) / Math.max(1, duration - queueTime);
      const steps = num(job.input.num_inference_steps, 20);
      return { state: 'running', providerStatus: 'IN_PROGRESS', progress, logs: [`step ${Math.max(1, Math.round(progress * steps))}/${steps}`] };
    }
    if (String(job.input.prompt).includes('[fail]')) {
      return { state: 'failed', providerStatus: 'FAILED', error: new ProviderError('failed', ID, 'Sample: the prompt asked to fail ("[fail]"). Remove it and run again.') };
    }
    return { state: 'succeeded', providerStatus: 'COMPLETED', progress: 1 };
  }

  watch(ref: JobRef, opts: WatchOptions = {}): AsyncIterable<StatusUpdate> {
    return pollUntilTerminal(ID, this.ctx, () => this.status(ref), { intervalMs: 250, ...opts });
  }

  async result(ref: JobRef): Promise<JobResult> {
    const job = decode(ref.requestId);
    const st = await this.status(ref);
    if (st.state !== 'succeeded') throw st.error ?? new ProviderError('failed', ID, `Sample: the job is ${st.state}, not finished.`);
    const sharp = await drawer();
    const width = num(job.input.width, 768);
    const height = num(job.input.height, 512);
    const seed = num(job.input.seed, 0);
    const count = Math.min(4, Math.max(1, num(job.input.num_images, 1)));
    const prompt = String(job.input.prompt);
    const artifacts: Artifact[] = [];
    for (let i = 0; i < count; i++) {
      const svg = sampleSvg(prompt, seed + i, width, height, Math.max(1, num(job.input.num_inference_steps, 20)), num(job.input.guidance_scale, 5));
      let img = sharp(Buffer.from(svg));
      if (job.model === 'sample/image-to-image' && typeof job.input.image_url === 'string') {
        const m = /^data:[^;,]+;base64,(.*)$/s.exec(job.input.image_url);
        if (!m) throw new ProviderError('validation', ID, 'Sample: "image_url" must be a data: URI.', { fieldErrors: [{ path: ['image_url'], message: 'Expected a data: URI' }] });
        const h = hash(prompt);
        img = sharp(Buffer.from(m[1], 'base64'))
          .resize(width, height, { fit: 'cover' })
          .tint({ r: h[0], g: h[1], b: h[2] })
          .composite([{ input: Buffer.from(svg.replace(/<rect width="[^"]*" height="[^"]*" fill="url\(#bg\)"\/>/, '')), blend: 'over' }]);
      }
      const data = new Uint8Array(await img.png().toBuffer());
      artifacts.push({ data, mediaType: 'image/png', kind: 'image', width, height, size: data.length });
    }
    const duration = num(job.input.duration_ms, this.model(job.model).defaultDuration) / 1000;
    return { artifacts, seed, timings: { queue: duration * QUEUE_SHARE, inference: duration * (1 - QUEUE_SHARE) }, modelVersion: 'sample-1' };
  }

  async cancel(ref: JobRef): Promise<void> {
    decode(ref.requestId);
    this.canceled.add(ref.requestId);
  }

  /** Uploads are data: URIs, which never expire. */
  readonly uploadTtlMs = Infinity;

  async upload(data: Uint8Array, mediaType: string): Promise<string> {
    return `data:${mediaType};base64,${Buffer.from(data).toString('base64')}`;
  }

  async testConnection(): Promise<void> {
    // Nothing to reach; it only needs sharp to draw.
    await drawer();
  }
}

/** sharp, which draws the images; without it the Sample provider cannot work and says so. */
async function drawer(): Promise<typeof import('sharp')> {
  try {
    return await requireSharp('The Sample provider');
  } catch (e) {
    throw e instanceof SharpUnavailableError ? new ProviderError('failed', ID, e.message) : e;
  }
}

export const createSampleProvider: ProviderFactory = (ctx) => new SampleProvider(ctx);
