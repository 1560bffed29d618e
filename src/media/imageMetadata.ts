// Generation parameters embedded by other tools, read from an image's own metadata:
//
//   A1111 / Forge  PNG text chunk `parameters` (A1111 text); JPEG/WebP EXIF UserComment
//                  (modules/images.py: piexif, "UNICODE\0" + UTF-16BE).
//   ComfyUI        PNG text chunks `prompt` (the API graph: {id: {class_type, inputs}}, inputs
//                  linking as [nodeId, outputIndex]) and `workflow` (the editor's graph:
//                  nodes with widgets_values, links [id, from, slot, to, slot, type]); nodes.py
//                  SaveImage writes both with json.dumps.
//   InvokeAI       PNG `invokeai_metadata` (3.x+: positive_prompt, negative_prompt, seed,
//                  steps, cfg_scale, scheduler, model {model_name | name}); 2.x `sd-metadata`;
//                  1.x `Dream` (a command line).
//   Fooocus        PNG `parameters` + `fooocus_scheme` ("fooocus": JSON; "a1111": A1111 text);
//                  JPEG/WebP EXIF UserComment (Pillow, no charset code) + MakerNote = scheme.
//
// Everything here is untrusted input. Nothing is evaluated, no path is built from it, every
// text is capped, graph walks are bounded, and nothing throws: a tool we cannot read yields
// `tool: 'unknown'` with the raw text kept and a warning saying why.
import { parseA1111Parameters } from './a1111.ts';
import { readExifText } from './exif.ts';
import { readPngTextChunks } from './pngChunks.ts';
import { sniffMedia } from './sniff.ts';

export type ImportTool = 'a1111' | 'comfyui' | 'invokeai' | 'fooocus' | 'unknown';

export type ParamValue = string | number | boolean;

export interface ImageMetadata {
  tool: ImportTool;
  prompt?: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  cfgScale?: number;
  sampler?: string;
  scheduler?: string;
  model?: string;
  width?: number;
  height?: number;
  /** Other parameters that were read (LoRAs, denoise, guidance, version, …). */
  params: Record<string, ParamValue>;
  /** The metadata texts as found (chunk keyword or EXIF field → text), each capped. */
  raw: Record<string, string>;
  /** True when some raw text was longer than the cap and was cut. */
  rawTruncated: boolean;
  /** Why something could not be read. Never fatal. */
  warnings: string[];
}

/** Per text kept in `raw`, and for all of them together. The record stays small (the database
 * pages it to the gallery); the complete text always stays inside the image file itself. */
export const RAW_TEXT_LIMIT = 16 * 1024;
const RAW_TOTAL_LIMIT = 32 * 1024;
/** Texts larger than this are not parsed at all (a hostile or broken file). */
const PARSE_LIMIT = 8 * 1024 * 1024;
const MAX_PROMPT = 20_000;
const MAX_VALUE = 2_000;
const MAX_PARAMS = 100;
const MAX_DEPTH = 48;

const KNOWN_KEYS = new Set(['parameters', 'prompt', 'workflow', 'invokeai_metadata', 'invokeai_graph', 'invokeai_workflow', 'sd-metadata', 'Dream', 'fooocus_scheme', 'artfactory', 'Comment', 'comment', 'Software', 'Description']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = MAX_VALUE): string | undefined => (typeof v === 'string' && v.trim() ? v.slice(0, max) : undefined);
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
};
/** Seeds are kept only when exact: larger than 2^53 they go to `params` as text. */
function setSeed(m: ImageMetadata, v: unknown): void {
  if (v === undefined || v === null || v === '') return;
  const n = num(v);
  if (n !== undefined && Number.isSafeInteger(n)) m.seed = n;
  else if (typeof v === 'string' && /^\d+$/.test(v.trim())) m.params.seed = v.trim();
  else if (typeof v === 'number') {
    m.params.seed = String(v);
    m.warnings.push('The seed is larger than 2^53 and may not be exact; see the raw metadata.');
  }
}
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
function setParam(m: ImageMetadata, key: string, v: unknown): void {
  if (Object.keys(m.params).length >= MAX_PARAMS || UNSAFE_KEYS.has(key)) return;
  const k = key.slice(0, 80);
  if (typeof v === 'string' && v !== '') m.params[k] = v.slice(0, MAX_VALUE);
  else if (typeof v === 'number' && Number.isFinite(v)) m.params[k] = v;
  else if (typeof v === 'boolean') m.params[k] = v;
  else if (v !== undefined && v !== null && typeof v === 'object') {
    const s = JSON.stringify(v);
    if (s.length <= MAX_VALUE) m.params[k] = s;
  }
}
/** Model file names keep only their base name, without the extension. */
function modelName(v: unknown): string | undefined {
  const s = str(v, 500);
  if (!s) return undefined;
  const base = s.split(/[\\/]/).pop() ?? s;
  return base.replace(/\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$/i, '') || undefined;
}

function parseJson(text: string | undefined): Json | undefined {
  if (!text || text.length > PARSE_LIMIT) return undefined;
  try {
    // JSON.parse builds plain data only; "__proto__" keys become own properties, never prototypes.
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

// ---- A1111 text ----

function applyA1111(m: ImageMetadata, text: string): void {
  const p = parseA1111Parameters(text.slice(0, PARSE_LIMIT));
  if (p.prompt) m.prompt = p.prompt.slice(0, MAX_PROMPT);
  if (p.negativePrompt) m.negativePrompt = p.negativePrompt.slice(0, MAX_PROMPT);
  if (p.steps !== undefined) m.steps = p.steps;
  if (p.cfgScale !== undefined) m.cfgScale = p.cfgScale;
  if (p.sampler) m.sampler = p.sampler.slice(0, 200);
  if (p.width && p.height) [m.width, m.height] = [p.width, p.height];
  if (p.model) m.model = p.model.slice(0, 300);
  if (p.seed !== undefined && Number.isSafeInteger(p.seed)) m.seed = p.seed;
  for (const [k, v] of Object.entries(p.extra ?? {})) {
    if (k === 'Schedule type' || k === 'Scheduler') m.scheduler = String(v).slice(0, 200);
    else setParam(m, k, v);
  }
  // A seed too large for a number: keep its exact text.
  const seedText = /(?:^|[\n,]\s*)Seed:\s*(\d{16,})/.exec(text)?.[1];
  if (seedText && m.seed === undefined) setSeed(m, seedText);
}

/** A1111 text has a settings line (Steps: …) or a negative prompt; other comments are not it. */
function looksLikeA1111(text: string): boolean {
  return /(^|\n)\s*Steps: *\d+/.test(text) || /(^|\n)Negative prompt:/.test(text);
}

// ---- InvokeAI ----

function applyInvokeMetadata(m: ImageMetadata, j: Obj): void {
  m.prompt = str(j.positive_prompt, MAX_PROMPT);
  m.negativePrompt = str(j.negative_prompt, MAX_PROMPT);
  setSeed(m, j.seed);
  m.steps = num(j.steps);
  m.cfgScale = num(j.cfg_scale);
  m.scheduler = str(j.scheduler);
  m.width = num(j.width);
  m.height = num(j.height);
  const model = j.model;
  m.model = isObj(model) ? (str(model.name) ?? str(model.model_name)) : str(model);
  if (isObj(model)) setParam(m, 'base_model', model.base ?? model.base_model);
  for (const k of ['generation_mode', 'app_version', 'clip_skip', 'cfg_rescale_multiplier', 'positive_style_prompt', 'negative_style_prompt', 'strength', 'denoising_start', 'guidance']) setParam(m, k, j[k]);
  if (Array.isArray(j.loras) && j.loras.length) {
    const names = j.loras
      .map((l) => (isObj(l) ? `${str((isObj(l.model) ? l.model : isObj(l.lora) ? l.lora : {}).name ?? (isObj(l.lora) ? l.lora.model_name : undefined)) ?? '?'}:${num(l.weight) ?? 1}` : undefined))
      .filter(Boolean);
    if (names.length) setParam(m, 'loras', names.join(', '));
  }
}

/** 2.x `sd-metadata`: {model_weights, model_hash, image: {prompt: string | [{prompt, weight}], steps, cfg_scale, seed, sampler, width, height}}. The negative prompt sits in [brackets]. */
function applySdMetadata(m: ImageMetadata, j: Obj): void {
  const image = isObj(j.image) ? j.image : {};
  const p = image.prompt;
  const prompt = Array.isArray(p) ? str(isObj(p[0]) ? p[0].prompt : undefined, MAX_PROMPT) : str(p, MAX_PROMPT);
  if (prompt) splitInvokeNegative(m, prompt);
  m.steps = num(image.steps);
  m.cfgScale = num(image.cfg_scale);
  setSeed(m, image.seed);
  m.sampler = str(image.sampler);
  m.width = num(image.width);
  m.height = num(image.height);
  m.model = str(j.model_weights);
  setParam(m, 'model_hash', j.model_hash);
  setParam(m, 'type', image.type);
}

function splitInvokeNegative(m: ImageMetadata, prompt: string): void {
  const open = prompt.lastIndexOf('[');
  const close = prompt.lastIndexOf(']');
  if (open >= 0 && close > open) {
    m.prompt = (prompt.slice(0, open) + prompt.slice(close + 1)).trim() || undefined;
    m.negativePrompt = prompt.slice(open + 1, close).trim() || undefined;
  } else m.prompt = prompt.trim();
}

/** 1.x `Dream`: "a prompt [negative]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms */
function applyDream(m: ImageMetadata, dream: string): void {
  const quoted = /^"((?:\\.|[^"\\])*)"/.exec(dream.trim());
  if (quoted) splitInvokeNegative(m, quoted[1].replace(/\\"/g, '"'));
  const flag = (f: string) => new RegExp(`(?:^|\\s)-${f}\\s+(\\S+)`).exec(dream)?.[1];
  m.steps = num(flag('s'));
  setSeed(m, flag('S'));
  m.width = num(flag('W'));
  m.height = num(flag('H'));
  m.cfgScale = num(flag('C'));
  m.sampler = flag('A')?.slice(0, 100);
}

// ---- Fooocus ----

/** The Fooocus scheme's JSON (meta_parser.py FooocusMetadataParser.to_string). */
function applyFooocusJson(m: ImageMetadata, j: Obj): void {
  m.tool = 'fooocus';
  m.prompt = str(j.prompt, MAX_PROMPT) ?? (Array.isArray(j.full_prompt) ? j.full_prompt.filter((x) => typeof x === 'string').join(', ').slice(0, MAX_PROMPT) || undefined : undefined);
  m.negativePrompt = str(j.negative_prompt, MAX_PROMPT);
  setSeed(m, j.seed);
  m.steps = num(j.steps);
  m.cfgScale = num(j.guidance_scale);
  m.sampler = str(j.sampler);
  m.scheduler = str(j.scheduler);
  m.model = modelName(j.base_model);
  // resolution is a Python tuple's str(): "(1152, 896)"
  const res = /^\(\s*'?(\d+)'?\s*,\s*'?(\d+)'?\s*\)$/.exec(String(j.resolution ?? ''));
  if (res) [m.width, m.height] = [Number(res[1]), Number(res[2])];
  for (const k of ['styles', 'performance', 'sharpness', 'adm_guidance', 'refiner_model', 'refiner_switch', 'vae', 'version', 'prompt_expansion', 'base_model_hash', 'clip_skip']) setParam(m, k, j[k]);
  for (const [k, v] of Object.entries(j)) if (/^lora_combined_\d+$/.test(k)) setParam(m, k, v);
}

// ---- ComfyUI ----

type Link = [string, number];
interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
}
type ApiGraph = Map<string, ApiNode>;

const isLink = (v: unknown): v is Link => Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && typeof v[1] === 'number';

function toApiGraph(j: Json | undefined): ApiGraph | undefined {
  if (!isObj(j)) return undefined;
  const g: ApiGraph = new Map();
  for (const [id, n] of Object.entries(j)) {
    if (!isObj(n) || typeof n.class_type !== 'string') continue;
    const inputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(isObj(n.inputs) ? n.inputs : {})) inputs[k] = isLink(v) ? [String(v[0]), v[1]] : v;
    g.set(id, { class_type: n.class_type, inputs });
  }
  return g.size ? g : undefined;
}

/** Widget order of the nodes whose parameters we read, for the editor (`workflow`) format. */
const WIDGETS: Record<string, string[]> = {
  KSampler: ['seed', 'control_after_generate', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise'],
  KSamplerAdvanced: ['add_noise', 'noise_seed', 'control_after_generate', 'steps', 'cfg', 'sampler_name', 'scheduler', 'start_at_step', 'end_at_step', 'return_with_leftover_noise'],
  SamplerCustom: ['add_noise', 'noise_seed', 'control_after_generate', 'cfg'],
  CLIPTextEncode: ['text'],
  CLIPTextEncodeSDXL: ['width', 'height', 'crop_w', 'crop_h', 'target_width', 'target_height', 'text_g', 'text_l'],
  CLIPTextEncodeFlux: ['clip_l', 't5xxl', 'guidance'],
  CheckpointLoaderSimple: ['ckpt_name'],
  CheckpointLoader: ['config_name', 'ckpt_name'],
  UNETLoader: ['unet_name', 'weight_dtype'],
  LoraLoader: ['lora_name', 'strength_model', 'strength_clip'],
  LoraLoaderModelOnly: ['lora_name', 'strength_model'],
  EmptyLatentImage: ['width', 'height', 'batch_size'],
  EmptySD3LatentImage: ['width', 'height', 'batch_size'],
  RandomNoise: ['noise_seed', 'control_after_generate'],
  KSamplerSelect: ['sampler_name'],
  BasicScheduler: ['scheduler', 'steps', 'denoise'],
  FluxGuidance: ['guidance'],
  CFGGuider: ['cfg'],
};

/** The editor's graph, converted to the API shape for the nodes we know (others keep their links,
 * and a lone string widget as `text`, which covers primitive and note-like text nodes). */
function workflowToApi(j: Json | undefined): ApiGraph | undefined {
  if (!isObj(j) || !Array.isArray(j.nodes)) return undefined;
  const links = new Map<number, Link>();
  if (Array.isArray(j.links)) {
    for (const l of j.links.slice(0, 100_000)) {
      if (Array.isArray(l) && l.length >= 5 && typeof l[0] === 'number' && (typeof l[1] === 'number' || typeof l[1] === 'string') && typeof l[2] === 'number') links.set(l[0], [String(l[1]), l[2]]);
      else if (isObj(l) && typeof l.id === 'number' && (typeof l.origin_id === 'number' || typeof l.origin_id === 'string') && typeof l.origin_slot === 'number') links.set(l.id, [String(l.origin_id), l.origin_slot]);
    }
  }
  const g: ApiGraph = new Map();
  for (const n of j.nodes.slice(0, 10_000)) {
    if (!isObj(n) || typeof n.type !== 'string' || (typeof n.id !== 'number' && typeof n.id !== 'string')) continue;
    if (n.mode === 2 || n.mode === 4) continue; // muted or bypassed
    const inputs: Record<string, unknown> = {};
    const widgets = Array.isArray(n.widgets_values) ? n.widgets_values : [];
    const names = WIDGETS[n.type];
    if (names) names.forEach((name, i) => i < widgets.length && (inputs[name] = widgets[i]));
    else if (widgets.length === 1 && typeof widgets[0] === 'string') inputs.text = widgets[0];
    if (Array.isArray(n.inputs)) {
      for (const inp of n.inputs) {
        if (!isObj(inp) || typeof inp.name !== 'string' || typeof inp.link !== 'number') continue;
        const link = links.get(inp.link);
        if (link) inputs[inp.name] = link;
      }
    }
    g.set(String(n.id), { class_type: n.type, inputs });
  }
  return g.size ? g : undefined;
}

const SAMPLER = /^(KSampler|KSamplerAdvanced|SamplerCustom|SamplerCustomAdvanced)$|KSampler/i;

class ComfyReader {
  private steps = 0;
  loras: string[] = [];
  constructor(private readonly g: ApiGraph) {}

  node(link: unknown): ApiNode | undefined {
    if (!isLink(link) || ++this.steps > 20_000) return undefined;
    return this.g.get(String(link[0]));
  }

  /** The sampler nearest to an output node (the last pass), else the first one. */
  findSampler(): ApiNode | undefined {
    const isSampler = (n: ApiNode) => SAMPLER.test(n.class_type) && ('positive' in n.inputs || 'guider' in n.inputs || 'model' in n.inputs);
    const outputs = [...this.g.values()].filter((n) => /Save|Preview/i.test(n.class_type) && 'images' in n.inputs);
    const seen = new Set<ApiNode>();
    let frontier = outputs;
    for (let d = 0; d < MAX_DEPTH && frontier.length; d++) {
      const next: ApiNode[] = [];
      for (const n of frontier) {
        if (seen.has(n)) continue;
        seen.add(n);
        if (isSampler(n) && d > 0) return n;
        for (const v of Object.values(n.inputs)) {
          const up = this.node(v);
          if (up && !seen.has(up)) next.push(up);
        }
      }
      frontier = next;
    }
    return [...this.g.values()].find(isSampler);
  }

  /** A value input: a literal, or a link to a node holding it (primitives, seed nodes). */
  value(v: unknown, keys: string[], depth = 0): unknown {
    if (!isLink(v)) return v;
    const n = this.node(v);
    if (!n || depth > MAX_DEPTH) return undefined;
    for (const k of [...keys, 'value', 'seed', 'noise_seed', 'int', 'float', 'number', 'string', 'text']) {
      if (k in n.inputs) return this.value(n.inputs[k], keys, depth + 1);
    }
    return undefined;
  }

  /** The text behind a link: a string node, or two joined (concatenate nodes). */
  string(v: unknown, depth = 0): string | undefined {
    if (typeof v === 'string') return v;
    const n = this.node(v);
    if (!n || depth > MAX_DEPTH) return undefined;
    for (const k of ['text', 'string', 'value', 'prompt', 'Text', 'STRING', 'text_positive']) if (k in n.inputs) return this.string(n.inputs[k], depth + 1);
    const parts = ['string_a', 'string_b', 'text_a', 'text_b', 'text1', 'text2'].filter((k) => k in n.inputs).map((k) => this.string(n.inputs[k], depth + 1)).filter((s): s is string => !!s);
    if (parts.length) return parts.join(typeof n.inputs.delimiter === 'string' ? n.inputs.delimiter : ', ');
    return undefined;
  }

  /** The prompt behind a conditioning input, through encoders and pass-through nodes. */
  prompt(v: unknown, side: 'positive' | 'negative', depth = 0): string | undefined {
    const n = this.node(v);
    if (!n || depth > MAX_DEPTH) return undefined;
    const i = n.inputs;
    if ('text_g' in i || 'text_l' in i) {
      const g = this.string(i.text_g);
      const l = this.string(i.text_l);
      return g && l && g !== l ? `${g}\n${l}` : (g ?? l);
    }
    if ('t5xxl' in i || 'clip_l' in i) {
      if (typeof i.guidance === 'number') this.guidance ??= i.guidance;
      return this.string(i.t5xxl) ?? this.string(i.clip_l);
    }
    if (/CLIPTextEncode|TextEncode|PromptEncode/i.test(n.class_type) || 'text' in i) {
      const t = this.string(i.text);
      if (t !== undefined) return t;
    }
    if (typeof i.guidance === 'number') this.guidance ??= i.guidance;
    for (const k of [side, 'conditioning', 'conditioning_1', 'conditioning_to', 'conditioning_from', 'cond', 'conditioning_2']) {
      if (!(k in i)) continue;
      const t = this.prompt(i[k], side, depth + 1);
      if (t !== undefined) return t;
    }
    return undefined;
  }

  guidance?: number;

  /** The model behind a model input: the loader's file name, through LoRAs and patches. */
  model(v: unknown, depth = 0): string | undefined {
    const n = this.node(v);
    if (!n || depth > MAX_DEPTH) return undefined;
    const i = n.inputs;
    const name = i.ckpt_name ?? i.unet_name ?? (/Loader/i.test(n.class_type) && !/Lora/i.test(n.class_type) ? i.model_name : undefined);
    if (typeof name === 'string') return modelName(name);
    if (typeof i.lora_name === 'string' && this.loras.length < 20) this.loras.push(`${modelName(i.lora_name) ?? '?'}:${num(i.strength_model) ?? 1}`);
    return this.model(i.model, depth + 1);
  }

  size(v: unknown, depth = 0): { width?: number; height?: number } {
    const n = this.node(v);
    if (!n || depth > MAX_DEPTH) return {};
    const w = num(this.value(n.inputs.width, ['width']));
    const h = num(this.value(n.inputs.height, ['height']));
    if (w && h) return { width: w, height: h };
    for (const k of ['samples', 'latent_image', 'latent', 'pixels']) if (k in n.inputs) return this.size(n.inputs[k], depth + 1);
    return {};
  }
}

/** Read the parameters of one ComfyUI graph into `m`. Returns false when no sampler was found. */
function applyComfyGraph(m: ImageMetadata, g: ApiGraph): boolean {
  const r = new ComfyReader(g);
  const s = r.findSampler();
  if (!s) return false;
  const i = s.inputs;
  const guider = r.node(i.guider);
  const sigmas = r.node(i.sigmas);
  const samplerNode = r.node(i.sampler);
  const noise = r.node(i.noise);
  setSeed(m, r.value(i.seed ?? i.noise_seed ?? noise?.inputs.noise_seed, ['seed', 'noise_seed']));
  m.steps = num(r.value(i.steps ?? sigmas?.inputs.steps, ['steps']));
  m.cfgScale = num(r.value(i.cfg ?? guider?.inputs.cfg, ['cfg']));
  m.sampler = str(r.value(i.sampler_name ?? samplerNode?.inputs.sampler_name, ['sampler_name']), 200);
  m.scheduler = str(r.value(i.scheduler ?? sigmas?.inputs.scheduler, ['scheduler']), 200);
  const denoise = num(r.value(i.denoise ?? sigmas?.inputs.denoise, ['denoise']));
  if (denoise !== undefined && denoise !== 1) setParam(m, 'denoise', denoise);
  const positive = i.positive ?? guider?.inputs.positive ?? guider?.inputs.conditioning;
  const negative = i.negative ?? guider?.inputs.negative;
  m.prompt = r.prompt(positive, 'positive')?.slice(0, MAX_PROMPT) || undefined;
  m.negativePrompt = r.prompt(negative, 'negative')?.slice(0, MAX_PROMPT) || undefined;
  m.model = r.model(i.model ?? guider?.inputs.model);
  if (r.guidance !== undefined) setParam(m, 'guidance', r.guidance);
  if (r.loras.length) setParam(m, 'loras', r.loras.join(', '));
  const size = r.size(i.latent_image);
  if (size.width) [m.width, m.height] = [size.width, size.height];
  setParam(m, 'sampler_node', s.class_type);
  return true;
}

// ---- the entry point ----

function emptyMetadata(): ImageMetadata {
  return { tool: 'unknown', params: {}, raw: {}, rawTruncated: false, warnings: [] };
}

/** Collect the text metadata of a PNG / JPEG / WebP file: keyword → text. */
function collectTexts(bytes: Uint8Array, m: ImageMetadata): Map<string, string> {
  const texts = new Map<string, string>();
  const type = sniffMedia(bytes)?.mediaType;
  if (type === 'image/png') {
    let chunks: { keyword: string; text: string }[] = [];
    try {
      chunks = readPngTextChunks(bytes);
    } catch (e) {
      m.warnings.push(`The PNG text chunks could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const c of chunks.slice(0, 200)) if (!texts.has(c.keyword)) texts.set(c.keyword, c.text);
  }
  const exif = readExifText(bytes);
  if (exif.userComment) texts.set('exif:UserComment', exif.userComment);
  if (exif.makerNote) texts.set('exif:MakerNote', exif.makerNote);
  if (exif.software) texts.set('exif:Software', exif.software);
  if (exif.imageDescription) texts.set('exif:ImageDescription', exif.imageDescription);
  if (exif.jpegComment) texts.set('jpeg:COM', exif.jpegComment);
  return texts;
}

function keepRaw(m: ImageMetadata, texts: Map<string, string>): void {
  let total = 0;
  for (const [k, v] of texts) {
    // Keep what generators write, not every camera tag or date chunk.
    if (!KNOWN_KEYS.has(k) && !k.startsWith('exif:') && !k.startsWith('jpeg:') && !/prompt|param|workflow|metadata|comment/i.test(k)) continue;
    if (UNSAFE_KEYS.has(k)) continue;
    const room = Math.min(RAW_TEXT_LIMIT, RAW_TOTAL_LIMIT - total);
    if (room <= 0) {
      m.rawTruncated = true;
      break;
    }
    const kept = v.length > room ? v.slice(0, room) : v;
    if (kept.length < v.length) m.rawTruncated = true;
    m.raw[k.slice(0, 80)] = kept;
    total += kept.length;
  }
}

/** The generation parameters embedded in an image by another tool. Never throws. */
export function readImageMetadata(bytes: Uint8Array): ImageMetadata {
  const m = emptyMetadata();
  let texts: Map<string, string>;
  try {
    texts = collectTexts(bytes, m);
  } catch (e) {
    m.warnings.push(`The metadata could not be read: ${e instanceof Error ? e.message : String(e)}`);
    return m;
  }
  keepRaw(m, texts);
  try {
    detect(m, texts);
  } catch (e) {
    // A parser bug or a pathological input must never fail the import.
    const raw = m.raw;
    Object.assign(m, emptyMetadata(), { raw, rawTruncated: m.rawTruncated, warnings: [...m.warnings, `The metadata could not be interpreted: ${e instanceof Error ? e.message : String(e)}`] });
  }
  return m;
}

/** InvokeAI's JSON chunks, newest format first (1.x `Dream` is a command line, read apart). */
const INVOKE_JSON: [string, (m: ImageMetadata, j: Obj) => void][] = [
  ['invokeai_metadata', applyInvokeMetadata],
  ['sd-metadata', applySdMetadata],
];

/** Fooocus's JSON scheme: a prompt and a field of its own. */
function isFooocusJson(j: Json | undefined): j is Obj {
  return isObj(j) && ('prompt' in j || 'full_prompt' in j) && ('base_model' in j || 'guidance_scale' in j || 'performance' in j);
}

function detect(m: ImageMetadata, t: Map<string, string>): void {
  const parameters = t.get('parameters');
  const scheme = (t.get('fooocus_scheme') ?? t.get('exif:MakerNote'))?.trim().toLowerCase();
  const fooocusSoftware = /^Fooocus/i.test(t.get('exif:Software') ?? '') || /Version: "?Fooocus/i.test(parameters ?? t.get('exif:UserComment') ?? '');

  // InvokeAI, newest format first.
  for (const [key, apply] of INVOKE_JSON) {
    const text = t.get(key);
    if (text === undefined) continue;
    m.tool = 'invokeai';
    const j = parseJson(text);
    if (isObj(j)) apply(m, j);
    else m.warnings.push(`The ${key} chunk is not valid JSON; it is kept as raw text.`);
    return;
  }
  const dream = t.get('Dream');
  if (dream !== undefined) {
    m.tool = 'invokeai';
    applyDream(m, dream.slice(0, 100_000));
    return;
  }

  // Fooocus (PNG: parameters + fooocus_scheme; JPEG/WebP: UserComment + MakerNote).
  const fooocusText = parameters ?? t.get('exif:UserComment');
  if (fooocusText !== undefined && (scheme === 'fooocus' || scheme === 'a1111' || fooocusSoftware)) {
    const j = parseJson(fooocusText);
    if (isObj(j)) return applyFooocusJson(m, j);
    if (scheme === 'a1111' || fooocusSoftware || looksLikeA1111(fooocusText)) {
      m.tool = 'fooocus';
      applyA1111(m, fooocusText);
      return;
    }
  }

  // ComfyUI graphs (also when a saver node added A1111 text: that text wins, the graph fills gaps).
  const prompt = t.get('prompt');
  const workflow = t.get('workflow');
  if (prompt !== undefined || workflow !== undefined) {
    m.tool = 'comfyui';
    const api = toApiGraph(parseJson(prompt));
    let read = api ? applyComfyGraph(m, api) : false;
    if (!read) {
      const wf = workflowToApi(parseJson(workflow));
      read = wf ? applyComfyGraph(m, wf) : false;
    }
    if (!read) m.warnings.push('No sampler was found in the ComfyUI graph; the graph is kept as raw text.');
    if (parameters !== undefined && looksLikeA1111(parameters)) {
      const fromGraph = { ...m, params: { ...m.params } };
      applyA1111(m, parameters);
      for (const k of ['prompt', 'negativePrompt', 'seed', 'steps', 'cfgScale', 'sampler', 'scheduler', 'model', 'width', 'height'] as const) {
        if (m[k] === undefined && fromGraph[k] !== undefined) (m as unknown as Record<string, unknown>)[k] = fromGraph[k];
      }
    }
    return;
  }

  // A JSON `parameters` without a scheme: Fooocus's own fallback treats a dict as its scheme.
  if (parameters !== undefined) {
    const j = parseJson(parameters);
    if (isFooocusJson(j)) return applyFooocusJson(m, j);
    if (j !== undefined && typeof j !== 'string') {
      m.warnings.push('The parameters chunk holds JSON of a tool we do not know; it is kept as raw text.');
      return;
    }
    m.tool = 'a1111';
    applyA1111(m, parameters);
    return;
  }

  // JPEG / WebP: A1111 puts its text in UserComment.
  const comment = t.get('exif:UserComment');
  if (comment !== undefined) {
    const j = parseJson(comment);
    if (isFooocusJson(j)) return applyFooocusJson(m, j);
    if (looksLikeA1111(comment)) {
      m.tool = 'a1111';
      applyA1111(m, comment);
      return;
    }
  }
  // Older Fooocus wrote its JSON into the JPEG comment.
  const com = parseJson(t.get('jpeg:COM') ?? t.get('Comment') ?? t.get('comment'));
  if (isFooocusJson(com)) return applyFooocusJson(m, com);
  if (Object.keys(m.raw).length) m.warnings.push('The image has metadata, but not from a tool we read; it is kept as raw text.');
}
