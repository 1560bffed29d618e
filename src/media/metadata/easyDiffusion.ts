// Easy Diffusion (easydiffusion/easydiffusion, ui/easydiffusion/utils/save_utils.py with
// sdkit.utils.save_dicts). Its metadata is one flat dictionary, written as:
//   PNG    one tEXt chunk per key, str() of the value ("None", "True", "['a', 'b']");
//   JPEG / WebP  EXIF UserComment (piexif, UNICODE) holding the dictionary as JSON;
//   .txt   "Key: value" lines beside the image; .json  the dictionary beside the image.
// With the txt format chosen, every form uses the display names instead of the keys
// (TASK_TEXT_MAPPING: prompt → "Prompt", num_inference_steps → "Steps", …).
import { MAX_PROMPT, modelName, num, setParam, setSeed, str, type ImageMetadata } from './values.ts';

/** key → display name (TASK_TEXT_MAPPING), for the fields read here. */
const NAMES: Record<string, string> = {
  prompt: 'Prompt',
  negative_prompt: 'Negative Prompt',
  seed: 'Seed',
  use_stable_diffusion_model: 'Stable Diffusion model',
  clip_skip: 'Clip Skip',
  use_vae_model: 'VAE model',
  sampler_name: 'Sampler',
  width: 'Width',
  height: 'Height',
  num_inference_steps: 'Steps',
  guidance_scale: 'Guidance Scale',
  prompt_strength: 'Prompt Strength',
  use_lora_model: 'LoRA model',
  lora_alpha: 'LoRA Strength',
  use_hypernetwork_model: 'Hypernetwork model',
  use_embeddings_model: 'Embedding models',
  tiling: 'Seamless Tiling',
  use_face_correction: 'Use Face Correction',
  use_upscale: 'Use Upscaling',
  upscale_amount: 'Upscale By',
  use_controlnet_model: 'ControlNet model',
};
const DISPLAY = new Set(Object.values(NAMES));

/** Easy Diffusion's dictionary: keys of its own that no other tool writes. */
export function isEasyDiffusion(d: { has(k: string): boolean }): boolean {
  return d.has('use_stable_diffusion_model') || d.has('Stable Diffusion model') || (d.has('num_inference_steps') && d.has('guidance_scale')) || (d.has('Negative Prompt') && d.has('Guidance Scale'));
}

/** "Key: value" lines (the .txt form), only keys Easy Diffusion writes. */
export function easyDiffusionTextLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.replace(/\r\n/g, '\n').split('\n').slice(0, 500)) {
    const kv = /^([A-Za-z][\w ]{0,40}):\s?(.*)$/.exec(line);
    if (kv && DISPLAY.has(kv[1])) {
      last = kv[1];
      out.set(last, kv[2]);
    } else if (last && line) out.set(last, `${out.get(last)}\n${line}`); // a prompt over several lines
  }
  return out;
}

const none = (v: string | undefined) => (v === undefined || v === 'None' || v === 'null' || v === '' ? undefined : v);

export function applyEasyDiffusion(m: ImageMetadata, d: Map<string, string>): void {
  m.tool = 'easydiffusion';
  const get = (key: string) => none(d.get(key) ?? d.get(NAMES[key]));
  m.prompt = get('prompt')?.slice(0, MAX_PROMPT);
  m.negativePrompt = get('negative_prompt')?.slice(0, MAX_PROMPT);
  setSeed(m, get('seed'));
  m.steps = num(get('num_inference_steps'));
  m.cfgScale = num(get('guidance_scale'));
  m.sampler = str(get('sampler_name'));
  m.model = modelName(get('use_stable_diffusion_model'));
  m.width = num(get('width'));
  m.height = num(get('height'));
  for (const k of ['clip_skip', 'use_vae_model', 'prompt_strength', 'use_lora_model', 'lora_alpha', 'use_hypernetwork_model', 'use_embeddings_model', 'tiling', 'use_face_correction', 'use_upscale', 'upscale_amount', 'use_controlnet_model']) {
    const v = get(k);
    if (v !== undefined && v !== 'False') setParam(m, k, num(v) ?? v);
  }
}

/** A JSON dictionary (UserComment, .json) as the same key → text map. */
export function easyDiffusionJson(j: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(j).slice(0, 200)) {
    if (v === null || v === undefined) continue;
    out.set(k, typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
  }
  return out;
}
