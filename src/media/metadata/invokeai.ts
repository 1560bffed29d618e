// InvokeAI, every generation of it:
//   5.x / 4.x / 3.x  PNG `invokeai_metadata`: the core metadata (positive_prompt, negative_prompt,
//                    seed, steps, cfg_scale, scheduler, model {name | model_name}, loras, …);
//                    `invokeai_graph`: the graph that ran ({nodes: {id: {type, …fields}}, edges:
//                    [{source: {node_id, field}, destination: {node_id, field}}]}), whose
//                    `core_metadata` node holds the same fields, and whose generation nodes
//                    (denoise_latents, flux_denoise, sd3_denoise, noise, compel, model loaders)
//                    give them when that node is missing (invokeai/app/invocations/*.py names).
//   2.x              `sd-metadata`: {model_weights, model_hash, image: {prompt, steps, …}}.
//   1.x              `Dream`: a command line, "a prompt [negative]" -s 50 -S 42 -W 512 -H 512 …
import { isObj, MAX_PROMPT, num, setParam, setSeed, str, type ImageMetadata, type Obj } from './values.ts';

export function applyInvokeMetadata(m: ImageMetadata, j: Obj): void {
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

/** Fields of a graph node that are the node's bookkeeping, not generation metadata. */
const NODE_FIELDS = new Set(['id', 'type', 'is_intermediate', 'use_cache']);

/** `invokeai_graph`: its core_metadata node, else the generation nodes themselves. Returns false
 * when the graph holds neither. */
export function applyInvokeGraph(m: ImageMetadata, g: Obj): boolean {
  const nodes = isObj(g.nodes) ? Object.values(g.nodes).filter(isObj).slice(0, 2000) : Array.isArray(g.nodes) ? g.nodes.filter(isObj).slice(0, 2000) : [];
  const core = nodes.find((n) => n.type === 'core_metadata' || n.type === 'metadata');
  if (core) {
    applyInvokeMetadata(m, Object.fromEntries(Object.entries(core).filter(([k]) => !NODE_FIELDS.has(k))));
    if (m.prompt || m.seed !== undefined || m.model) return true;
  }
  const byId = new Map(nodes.map((n) => [String(n.id), n]));
  const edges = Array.isArray(g.edges) ? g.edges.filter(isObj).slice(0, 10_000) : [];
  const typed = (re: RegExp) => nodes.find((n) => typeof n.type === 'string' && re.test(n.type));
  const denoise = typed(/^(sdxl_)?denoise_latents$|^(flux|sd3|cogview4|z_image)_denoise$|denoise/);
  if (!denoise) return false;
  /** The node feeding `field` of `to` (InvokeAI's edges name the destination field). */
  const from = (to: Obj, field: string): Obj | undefined => {
    const e = edges.find((x) => isObj(x.destination) && String(x.destination.node_id) === String(to.id) && x.destination.field === field);
    return e && isObj(e.source) ? byId.get(String(e.source.node_id)) : undefined;
  };
  const promptOf = (n: Obj | undefined, depth = 0): string | undefined => {
    if (!n || depth > 8) return undefined;
    const direct = str(n.prompt, MAX_PROMPT) ?? str(n.positive_prompt, MAX_PROMPT) ?? str(n.t5_encoder_prompt, MAX_PROMPT);
    if (direct) return direct;
    for (const f of ['prompt', 'conditioning', 'collection', 'item']) {
      const up = from(n, f);
      if (up) return str(up.value, MAX_PROMPT) ?? promptOf(up, depth + 1);
    }
    return undefined;
  };
  m.prompt = promptOf(from(denoise, 'positive_conditioning') ?? from(denoise, 'positive_text_conditioning'));
  m.negativePrompt = promptOf(from(denoise, 'negative_conditioning') ?? from(denoise, 'negative_text_conditioning'));
  const noise = from(denoise, 'noise') ?? typed(/^noise$/);
  setSeed(m, denoise.seed ?? noise?.seed);
  m.steps = num(denoise.steps ?? denoise.num_steps);
  m.cfgScale = num(denoise.cfg_scale);
  m.scheduler = str(denoise.scheduler);
  m.width = num(denoise.width ?? noise?.width);
  m.height = num(denoise.height ?? noise?.height);
  if (num(denoise.guidance) !== undefined) setParam(m, 'guidance', num(denoise.guidance));
  const loader = typed(/model_loader$/);
  const model = loader?.model;
  if (isObj(model)) {
    m.model = str(model.name) ?? str(model.model_name);
    setParam(m, 'base_model', model.base ?? model.base_model);
  }
  return true;
}

/** 2.x `sd-metadata`: {model_weights, model_hash, image: {prompt: string | [{prompt, weight}], steps, cfg_scale, seed, sampler, width, height}}. The negative prompt sits in [brackets]. */
export function applySdMetadata(m: ImageMetadata, j: Obj): void {
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
export function applyDream(m: ImageMetadata, dream: string): void {
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

