// The A1111/Forge "parameters" text that Civitai, A1111, Forge and many viewers read:
//   <prompt>
//   Negative prompt: <negative>
//   Steps: 28, Sampler: Euler, CFG scale: 3.5, Seed: 123, Size: 1024x768, Model: flux-dev
import { addPngTextChunks, readPngTextChunks } from './pngChunks.ts';
import { sniffMedia } from './sniff.ts';

export interface A1111Parameters {
  prompt?: string;
  negativePrompt?: string;
  steps?: number;
  sampler?: string;
  cfgScale?: number;
  /** A number, or its exact digits when a JavaScript number cannot hold it. */
  seed?: number | string;
  width?: number;
  height?: number;
  model?: string;
  extra?: Record<string, string | number>;
}

/** A1111 quotes a value holding a separator the way JSON quotes a string. */
function quote(v: string | number): string {
  const s = String(v);
  return /[,:"\n]/.test(s) ? JSON.stringify(s) : s;
}

export function formatA1111Parameters(p: A1111Parameters): string {
  const lines: string[] = [(p.prompt ?? '').trim()];
  if (p.negativePrompt?.trim()) lines.push(`Negative prompt: ${p.negativePrompt.trim()}`);
  const fields: [string, string | number | undefined][] = [
    ['Steps', p.steps],
    ['Sampler', p.sampler],
    ['CFG scale', p.cfgScale],
    ['Seed', p.seed],
    ['Size', p.width && p.height ? `${p.width}x${p.height}` : undefined],
    ['Model', p.model],
    ...Object.entries(p.extra ?? {}),
  ];
  const settings = fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${quote(v!)}`);
  if (settings.length) lines.push(settings.join(', '));
  return lines.join('\n');
}

/** Split "A: 1, B: \"x, y\", C: 2" into pairs, honouring JSON-quoted values. */
function splitSettings(line: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /\s*([\w \-/().]+?):\s*("(?:\\.|[^\\"])*"|[^,]*)\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < line.length && (m = re.exec(line))) {
    let v = m[2].trim();
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        // keep the raw text
      }
    }
    out.push([m[1].trim(), v]);
    if (m[0] === '') break;
  }
  return out;
}

const SETTINGS_LINE = /^(Steps|Sampler|CFG scale|Seed|Size|Model)\s*:/;

export function parseA1111Parameters(text: string): A1111Parameters {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let settingsIndex = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (SETTINGS_LINE.test(lines[i].trim()) || /(^|, )Steps: \d+/.test(lines[i])) {
      settingsIndex = i;
      break;
    }
  }
  const body = settingsIndex >= 0 ? lines.slice(0, settingsIndex) : lines;
  const negAt = body.findIndex((l) => l.startsWith('Negative prompt:'));
  const result: A1111Parameters = {
    prompt: (negAt >= 0 ? body.slice(0, negAt) : body).join('\n').trim(),
  };
  if (negAt >= 0) result.negativePrompt = body.slice(negAt).join('\n').replace(/^Negative prompt:\s*/, '').trim();
  if (settingsIndex >= 0) {
    const extra: Record<string, string> = {};
    for (const [k, v] of splitSettings(lines.slice(settingsIndex).join(' '))) {
      const n = Number(v);
      if (k === 'Steps' && Number.isFinite(n)) result.steps = n;
      else if (k === 'Sampler') result.sampler = v;
      else if (k === 'CFG scale' && Number.isFinite(n)) result.cfgScale = n;
      else if (k === 'Seed' && /^-?\d+$/.test(v)) result.seed = Number.isSafeInteger(n) ? n : v;
      else if (k === 'Seed' && Number.isFinite(n)) result.seed = n;
      else if (k === 'Size' && /^\d+x\d+$/.test(v)) [result.width, result.height] = v.split('x').map(Number);
      else if (k === 'Model') result.model = v;
      else extra[k] = v;
    }
    if (Object.keys(extra).length) result.extra = extra;
  }
  return result;
}

function pick(input: Record<string, unknown> | undefined, ...keys: string[]): unknown {
  for (const k of keys) if (input?.[k] !== undefined) return input[k];
  return undefined;
}

const asNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const asString = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

export interface EmbedRecord {
  prompt?: string;
  negativePrompt?: string;
  seed?: number | string;
  width?: number;
  height?: number;
  model?: string;
  input?: Record<string, unknown>;
}

/** The A1111 fields for a product, derived from its input where the names differ by provider. */
export function a1111FromRecord(r: EmbedRecord): A1111Parameters {
  return {
    prompt: r.prompt,
    negativePrompt: r.negativePrompt,
    steps: asNumber(pick(r.input, 'num_inference_steps', 'steps', 'num_steps')),
    sampler: asString(pick(r.input, 'sampler', 'scheduler', 'sampler_name')),
    cfgScale: asNumber(pick(r.input, 'guidance_scale', 'cfg_scale', 'cfgScale', 'guidance')),
    seed: r.seed,
    width: r.width,
    height: r.height,
    model: r.model,
  };
}

/** PNG: add the `parameters` chunk (A1111) and an `artfactory` chunk with the full record.
 * Other formats come back unchanged. */
export function embedParameters(bytes: Uint8Array, record: EmbedRecord, fullJson: string): Uint8Array {
  if (sniffMedia(bytes)?.mediaType !== 'image/png') return bytes;
  return addPngTextChunks(bytes, [
    { keyword: 'parameters', text: formatA1111Parameters(a1111FromRecord(record)) },
    { keyword: 'artfactory', text: fullJson },
  ]);
}

/** The embedded parameters of a PNG, if any. */
export function readEmbeddedParameters(bytes: Uint8Array): { parameters?: A1111Parameters; artfactory?: unknown } {
  const texts = readPngTextChunks(bytes);
  const params = texts.find((t) => t.keyword === 'parameters');
  const af = texts.find((t) => t.keyword === 'artfactory');
  let artfactory: unknown;
  try {
    artfactory = af ? JSON.parse(af.text) : undefined;
  } catch {
    artfactory = undefined;
  }
  return { parameters: params ? parseA1111Parameters(params.text) : undefined, artfactory };
}
