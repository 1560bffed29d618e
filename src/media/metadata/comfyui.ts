// ComfyUI, as its savers write it:
//   PNG            text chunks `prompt` (the API graph: {id: {class_type, inputs}}, inputs linking
//                  as [nodeId, outputIndex]) and `workflow` (the editor's graph: nodes with
//                  widgets_values, links [id, from, slot, to, slot, type]); nodes.py SaveImage
//                  writes both with json.dumps. A saver node may add A1111 `parameters` too.
//   WebP / animated EXIF IFD0 Model = "prompt:{…}" and Make = "workflow:{…}"
//                  (comfy_extras/nodes_images.py SaveAnimatedWEBP: 0x0110 and 0x010f).
//   JPEG / WebP    savers that write EXIF UserComment as {"prompt": {…}, "workflow": {…}}.
// The sampler nearest the output is read, through the node packs people use: core samplers,
// the custom-sampler family (SamplerCustomAdvanced with CFGGuider / DualCFGGuider / BasicGuider,
// RandomNoise, KSamplerSelect or a Sampler* node, BasicScheduler or a *Scheduler node;
// comfy_extras/nodes_custom_sampler.py), Flux (FluxGuidance, CLIPTextEncodeFlux, UNETLoader;
// nodes_flux.py), SD3 (CLIPTextEncodeSD3, EmptySD3LatentImage, TripleCLIPLoader; nodes_sd3.py),
// GGUF loaders (city96/ComfyUI-GGUF UnetLoaderGGUF), efficiency-nodes (Efficient Loader with
// its prompt and size widgets, KSampler (Efficient)) and rgthree's Power Lora Loader.
import { isObj, MAX_DEPTH, MAX_PROMPT, modelName, num, parseJson, setParam, setSeed, str, type ImageMetadata, type Json } from './values.ts';

type Link = [string, number];
interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
}
type ApiGraph = Map<string, ApiNode>;

const isLink = (v: unknown): v is Link => Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && typeof v[1] === 'number';

export function toApiGraph(j: Json | undefined): ApiGraph | undefined {
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
  DualCFGGuider: ['cfg_conds', 'cfg_cond2_negative'],
  CLIPTextEncodeSD3: ['clip_l', 'clip_g', 't5xxl', 'empty_padding'],
  UnetLoaderGGUF: ['unet_name'],
  KarrasScheduler: ['steps', 'sigma_max', 'sigma_min', 'rho'],
  ExponentialScheduler: ['steps', 'sigma_max', 'sigma_min'],
  PolyexponentialScheduler: ['steps', 'sigma_max', 'sigma_min', 'rho'],
  AlignYourStepsScheduler: ['model_type', 'steps', 'denoise'],
  BetaSamplingScheduler: ['steps', 'alpha', 'beta'],
  SDTurboScheduler: ['steps', 'denoise'],
  // Prompt and seed nodes (Diffusion Toolkit's comfy-nodes.json lists them the same way).
  DPRandomGenerator: ['text', 'seed', 'autorefresh'],
  DPCombinatorialGenerator: ['text', 'autorefresh'],
  'Seed (rgthree)': ['seed'],
};

/** The editor's graph, converted to the API shape for the nodes we know (others keep their links,
 * and a lone string widget as `text`, which covers primitive and note-like text nodes). */
export function workflowToApi(j: Json | undefined): ApiGraph | undefined {
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
    if ('t5xxl' in i || 'clip_l' in i || 'clip_g' in i) {
      if (typeof i.guidance === 'number') this.guidance ??= i.guidance;
      return this.string(i.t5xxl) || this.string(i.clip_g) || this.string(i.clip_l);
    }
    // A loader that takes the prompts itself (efficiency-nodes' Efficient Loader: positive, negative).
    if (typeof i[side] === 'string' && /Loader/i.test(n.class_type)) return i[side] as string;
    if (/CLIPTextEncode|TextEncode|PromptEncode/i.test(n.class_type) || 'text' in i) {
      const t = this.string(i.text);
      if (t !== undefined) return t;
    }
    if (typeof i.guidance === 'number') this.guidance ??= i.guidance;
    for (const k of [side, 'conditioning', 'conditioning_1', 'conditioning_to', 'conditioning_from', 'cond', 'cond1', 'conditioning_2']) {
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
    if (typeof name === 'string') {
      // efficiency-nodes' loader takes a LoRA of its own.
      if (typeof i.lora_name === 'string' && i.lora_name !== 'None') this.addLora(i.lora_name, i.lora_model_strength);
      return modelName(name);
    }
    if (typeof i.lora_name === 'string') this.addLora(i.lora_name, i.strength_model);
    // rgthree Power Lora Loader: lora_1 … lora_n = {on, lora, strength}.
    for (const [k, v] of Object.entries(i)) if (/^lora_\d+$/.test(k) && isObj(v) && v.on !== false && typeof v.lora === 'string') this.addLora(v.lora, v.strength);
    return this.model(i.model, depth + 1);
  }

  private addLora(name: string, strength: unknown): void {
    if (this.loras.length < 20) this.loras.push(`${modelName(name) ?? '?'}:${num(strength) ?? 1}`);
  }

  size(v: unknown, depth = 0): { width?: number; height?: number } {
    const n = this.node(v);
    if (!n || depth > MAX_DEPTH) return {};
    const w = num(this.value(n.inputs.width ?? n.inputs.empty_latent_width, ['width']));
    const h = num(this.value(n.inputs.height ?? n.inputs.empty_latent_height, ['height']));
    if (w && h) return { width: w, height: h };
    for (const k of ['samples', 'latent_image', 'latent', 'pixels']) if (k in n.inputs) return this.size(n.inputs[k], depth + 1);
    return {};
  }
}

/** A sampler or scheduler named by its node class (custom-sampler nodes): SamplerDPMPP_2M_SDE →
 * dpmpp_2m_sde, KarrasScheduler → karras, AlignYourStepsScheduler → align_your_steps. */
function nodeName(n: ApiNode | undefined, test: RegExp, strip: string): string | undefined {
  if (!n || !test.test(n.class_type)) return undefined;
  const core = strip ? n.class_type.slice(0, -strip.length) : n.class_type.replace(/^Sampler/, '');
  return core.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase() || undefined;
}

/** Read the parameters of one ComfyUI graph into `m`. Returns false when no sampler was found. */
export function applyComfyGraph(m: ImageMetadata, g: ApiGraph): boolean {
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
  m.cfgScale = num(r.value(i.cfg ?? guider?.inputs.cfg ?? guider?.inputs.cfg_conds, ['cfg']));
  m.sampler = str(r.value(i.sampler_name ?? samplerNode?.inputs.sampler_name, ['sampler_name']), 200) ?? nodeName(samplerNode, /^Sampler(?!Custom)/, '');
  m.scheduler = str(r.value(i.scheduler ?? sigmas?.inputs.scheduler, ['scheduler']), 200) ?? nodeName(sigmas, /Scheduler$/, 'Scheduler');
  const denoise = num(r.value(i.denoise ?? sigmas?.inputs.denoise, ['denoise']));
  if (denoise !== undefined && denoise !== 1) setParam(m, 'denoise', denoise);
  if (guider && guider.class_type !== 'CFGGuider' && guider.class_type !== 'BasicGuider') setParam(m, 'guider', guider.class_type);
  const positive = i.positive ?? guider?.inputs.positive ?? guider?.inputs.conditioning ?? guider?.inputs.cond1;
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


/** The ComfyUI graphs of an image, wherever its saver put them: PNG chunks, EXIF Model/Make
 * ("prompt:" / "workflow:"), or a UserComment JSON holding them. */
export function comfyGraphTexts(t: Map<string, string>): { prompt?: string; workflow?: string } | undefined {
  if (t.has('prompt') || t.has('workflow')) {
    const prompt = t.get('prompt');
    // Easy Diffusion also writes a `prompt` chunk, as plain text: only a JSON object is a graph.
    if (t.has('workflow') || prompt?.trimStart().startsWith('{')) return { prompt, workflow: t.get('workflow') };
  }
  const tagged = (k: string, label: string) => {
    const v = t.get(k);
    return v && v.slice(0, label.length + 1).toLowerCase() === `${label}:` ? v.slice(label.length + 1) : undefined;
  };
  const exifPrompt = tagged('exif:Model', 'prompt') ?? tagged('exif:Make', 'prompt');
  const exifWorkflow = tagged('exif:Make', 'workflow') ?? tagged('exif:Model', 'workflow');
  if (exifPrompt || exifWorkflow) return { prompt: exifPrompt, workflow: exifWorkflow };
  // Some savers put the API graph in A1111's `parameters` chunk (Infinite Image Browsing's
  // is_img_created_by_comfyui accepts a `parameters` holding "class_type").
  const parameters = t.get('parameters');
  if (parameters?.trimStart().startsWith('{') && parameters.includes('"class_type"') && toApiGraph(parseJson(parameters))) return { prompt: parameters };
  const comment = t.get('exif:UserComment');
  if (comment?.startsWith('{') && /"(prompt|workflow)"\s*:\s*\{/.test(comment.slice(0, 200))) {
    const j = parseJson(comment);
    if (isObj(j) && (isObj(j.prompt) || isObj(j.workflow))) return { prompt: isObj(j.prompt) ? JSON.stringify(j.prompt) : undefined, workflow: isObj(j.workflow) ? JSON.stringify(j.workflow) : undefined };
  }
  return undefined;
}
