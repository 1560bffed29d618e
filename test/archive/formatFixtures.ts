// Images in the shapes the other tools write (issue 13's import formats), built in code. Each
// shape cites the tool's own writer, or test data taken from real files where one was found.
// The containers come from metadataFixtures.ts (PNG chunks, TIFF/EXIF, JPEG, WebP).
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import * as F from './metadataFixtures.ts';

// ---- NovelAI ----

/** NovelAI's request dictionary, from a real NovelAI V3 image (deepghs/imgutils
 * test/metadata/test_geninfo.py, the EXIF of nai3_webp.webp). */
export const NOVELAI_COMMENT = {
  prompt: '2girls,side-by-side,nekomata okayu,shiina mahiru,symmetrical pose,general,masterpiece,, best quality, amazing quality, very aesthetic, absurdres',
  steps: 28,
  height: 832,
  width: 1216,
  scale: 5.0,
  uncond_scale: 0.0,
  cfg_rescale: 0.0,
  seed: 210306140,
  n_samples: 1,
  hide_debug_overlay: false,
  noise_schedule: 'native',
  legacy_v3_extend: false,
  reference_information_extracted_multiple: [],
  reference_strength_multiple: [],
  sampler: 'k_euler_ancestral',
  controlnet_strength: 1.0,
  controlnet_model: null,
  dynamic_thresholding: false,
  dynamic_thresholding_percentile: 0.999,
  dynamic_thresholding_mimic_scale: 10.0,
  sm: false,
  sm_dyn: false,
  skip_cfg_above_sigma: null,
  skip_cfg_below_sigma: 0.0,
  lora_unet_weights: null,
  lora_clip_weights: null,
  deliberate_euler_ancestral_bug: true,
  prefer_brownian: false,
  cfg_sched_eligibility: 'enable_for_post_summer_samplers',
  explike_fine_detail: false,
  minimize_sigma_inf: false,
  uncond_per_vibe: true,
  wonky_vibe_correlation: true,
  version: 1,
  uc: 'lowres, {bad}, error, fewer, extra, missing, worst quality, jpeg artifacts, bad quality, watermark, unfinished, displeasing, chromatic aberration, signature, extra digits, artistic error, username, scan, [abstract], ',
  request_type: 'PromptGenerateRequest',
  signed_hash: 'nM6vZLFGJWW7SH2xc4lpRY9sJGbPQKXaUzhUVX/u2NvCAyLg9abn90XBCiNmwqh1hK5hk+o7wYHkPJvhkfAnBg==',
};

/** The same image's chunks (Title, Description, Software, Source, Generation time, Comment). */
export const NOVELAI_CHUNKS: F.TextChunkSpec[] = [
  { keyword: 'Title', text: 'AI generated image' },
  { keyword: 'Description', text: NOVELAI_COMMENT.prompt },
  { keyword: 'Software', text: 'NovelAI' },
  { keyword: 'Source', text: 'Stable Diffusion XL C1E1DE52' },
  { keyword: 'Generation time', text: '6.494704299024306' },
  { keyword: 'Comment', text: JSON.stringify(NOVELAI_COMMENT) },
];

/** NovelAI's WebP: the dictionary as JSON in EXIF UserComment, Comment as an object (json.dumps
 * with indent 4, as read back in imgutils' test). */
export const NOVELAI_WEBP_DICT = JSON.stringify(
  { Title: 'AI generated image', Description: NOVELAI_COMMENT.prompt, Software: 'NovelAI', Source: 'Stable Diffusion XL C1E1DE52', 'Generation time': '6.494704299024306', Comment: NOVELAI_COMMENT },
  null,
  4,
);

/** NovelAI V4's prompt structure (v4_prompt / v4_negative_prompt with captions), the prompt
 * field empty as V4 requests leave it when characters are used. */
export const NOVELAI_V4_COMMENT = {
  prompt: '',
  steps: 23,
  height: 1216,
  width: 832,
  scale: 5,
  seed: 3816166865,
  sampler: 'k_euler_ancestral',
  noise_schedule: 'karras',
  v4_prompt: { caption: { base_caption: '2girls, rooftop at night, city lights', char_captions: [{ char_caption: 'girl, red hair', centers: [{ x: 0.3, y: 0.5 }] }, { char_caption: 'girl, blue hair', centers: [{ x: 0.7, y: 0.5 }] }] }, use_coords: true, use_order: true },
  v4_negative_prompt: { caption: { base_caption: 'lowres, blurry', char_captions: [] }, legacy_uc: false },
  uc: '',
  request_type: 'PromptGenerateRequest',
};

// ---- stealth parameters ----

/** An RGBA PNG with `text` hidden as sd_webui_stealth_pnginfo's add_data writes it
 * (ashen-sensored/sd_webui_stealth_pnginfo scripts/stealth_pnginfo.py): alpha set to 255,
 * then signature + 32-bit bit length + payload, one bit per pixel in the alpha's lowest bit
 * (rgb mode: three, in r, g, b), visiting x = 0…width-1 and, inside, y = 0…height-1. */
export async function stealthPng(text: string, opts: { mode?: 'alpha' | 'rgb'; compressed?: boolean; width?: number; height?: number } = {}): Promise<Buffer> {
  const { mode = 'alpha', compressed = true, width = 64, height = 48 } = opts;
  const raw = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).ensureAlpha(1).raw().toBuffer();
  const signature = `stealth_${mode === 'alpha' ? 'png' : 'rgb'}${compressed ? 'comp' : 'info'}`;
  const payload = compressed ? gzipSync(Buffer.from(text, 'utf8')) : Buffer.from(text, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length * 8);
  const bits: number[] = [];
  for (const byte of Buffer.concat([Buffer.from(signature, 'utf8'), len, payload])) for (let b = 7; b >= 0; b--) bits.push((byte >> b) & 1);
  const perPixel = mode === 'alpha' ? 1 : 3;
  if (bits.length > width * height * perPixel) throw new Error('image too small for the text');
  let i = 0;
  for (let x = 0; x < width && i < bits.length; x++) {
    for (let y = 0; y < height && i < bits.length; y++) {
      const at = (y * width + x) * 4;
      if (mode === 'alpha') raw[at + 3] = (raw[at + 3] & ~1) | bits[i++];
      else for (let c = 0; c < 3 && i < bits.length; c++) raw[at + c] = (raw[at + c] & ~1) | bits[i++];
    }
  }
  return sharp(raw, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

// ---- SwarmUI ----

/** A SwarmUI `parameters` JSON (mcmonkeyprojects/SwarmUI; sui_image_params as in real outputs
 * published by ataylorm/FluxAIGridComparisons, sui_models as SwarmUI adds them), with a seed
 * past 2^53 (SwarmUI seeds are 64-bit). */
export const SWARM_JSON = JSON.stringify(
  {
    sui_image_params: {
      prompt: 'A headshot photograph of a 30 year old woman, <lora:detail_slider:0.6>',
      negativeprompt: 'blurry',
      model: 'Flux/flux1-dev-fp8',
      seed: '<seed>',
      steps: 25,
      cfgscale: 1.0,
      aspectratio: 'Custom',
      width: 512,
      height: 768,
      sampler: 'euler',
      scheduler: 'normal',
      fluxguidancescale: 3.5,
      loras: ['detail_slider'],
      loraweights: ['0.6'],
      vae: 'ae.sft',
      swarm_version: '0.9.1.1',
    },
    sui_extra_data: { date: '2024-08-07', prep_time: '143.17 sec', generation_time: '35.81 sec' },
    sui_models: [{ name: 'Flux/flux1-dev-fp8.safetensors', param: 'model', hash: '0x8e91b68084b53a7fc44ed2a3756d821e355ac1a7b6fe29be760c1db532f3d88a' }],
  },
  null,
  2,
).replace('"<seed>"', '1234567890123456789'); // a JSON integer JSON.stringify could not write

// ---- Easy Diffusion ----

/** Easy Diffusion's dictionary in TASK_TEXT_MAPPING order, as get_printable_request builds it
 * (easydiffusion ui/easydiffusion/utils/save_utils.py), values as sdkit's save_dicts str()s them. */
export const EASY_DIFFUSION: [string, string][] = [
  ['prompt', 'a watercolor fox in a misty forest'],
  ['negative_prompt', 'photo, blurry'],
  ['seed', '3291457211'],
  ['use_stable_diffusion_model', 'C:\\EasyDiffusion\\models\\stable-diffusion\\sd-v1-5.safetensors'],
  ['clip_skip', 'False'],
  ['use_vae_model', 'vae-ft-mse-840000-ema-pruned'],
  ['sampler_name', 'dpmpp_2m'],
  ['width', '512'],
  ['height', '768'],
  ['num_inference_steps', '25'],
  ['guidance_scale', '7.5'],
  ['use_lora_model', 'None'],
  ['use_embeddings_model', 'None'],
  ['tiling', 'None'],
  ['use_face_correction', 'GFPGANv1.4'],
  ['use_upscale', 'None'],
];

/** Display names (TASK_TEXT_MAPPING) for the txt format. */
const ED_NAMES: Record<string, string> = { prompt: 'Prompt', negative_prompt: 'Negative Prompt', seed: 'Seed', use_stable_diffusion_model: 'Stable Diffusion model', clip_skip: 'Clip Skip', use_vae_model: 'VAE model', sampler_name: 'Sampler', width: 'Width', height: 'Height', num_inference_steps: 'Steps', guidance_scale: 'Guidance Scale', use_lora_model: 'LoRA model', use_embeddings_model: 'Embedding models', tiling: 'Seamless Tiling', use_face_correction: 'Use Face Correction', use_upscale: 'Use Upscaling' };

/** save_dicts(…, output_format="txt"): "Key: value" lines with the display names. */
export const EASY_DIFFUSION_TXT = EASY_DIFFUSION.map(([k, v]) => `${ED_NAMES[k]}: ${v}`).join('\n') + '\n';

/** save_dicts(…, "embed") for JPEG/WebP: json.dumps(metadata) (numbers as numbers) in UserComment. */
export const EASY_DIFFUSION_JSON = JSON.stringify({ prompt: 'a watercolor fox in a misty forest', negative_prompt: 'photo, blurry', seed: 3291457211, use_stable_diffusion_model: 'sd-v1-5', clip_skip: false, use_vae_model: null, sampler_name: 'dpmpp_2m', width: 512, height: 768, num_inference_steps: 25, guidance_scale: 7.5 });

// ---- Draw Things ----

/** Draw Things' XMP (its rdf:Description as Draw Things writes it: dc:description,
 * xmp:CreatorTool, exif:UserComment holding the configuration JSON). */
export function drawThingsXmp(config: Record<string, unknown>): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const description = `${String(config.c)}&#xA;-${esc(String(config.uc))}&#xA;Steps: ${String(config.steps)}, Sampler: ${String(config.sampler)}, Guidance Scale: ${String(config.scale)}, Seed: ${String(config.seed)}, Size: ${String(config.size)}, Model: ${String(config.model)}`;
  return `<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 6.0.0">
   <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about=""
            xmlns:dc="http://purl.org/dc/elements/1.1/"
            xmlns:xmp="http://ns.adobe.com/xap/1.0/"
            xmlns:exif="http://ns.adobe.com/exif/1.0/">
         <dc:description>
            <rdf:Alt>
               <rdf:li xml:lang="x-default">${description}</rdf:li>
            </rdf:Alt>
         </dc:description>
         <xmp:CreatorTool>Draw Things</xmp:CreatorTool>
         <exif:UserComment>
            <rdf:Alt>
               <rdf:li xml:lang="x-default">${esc(JSON.stringify(config))}</rdf:li>
            </rdf:Alt>
         </exif:UserComment>
      </rdf:Description>
   </rdf:RDF>
</x:xmpmeta>
`;
}

export const DRAW_THINGS_CONFIG = { c: 'Lichen colony, (mist:1.3) & bark', uc: 'blurry <lowres>', model: 'flux_1_schnell_q5p.ckpt', sampler: 'Euler A Trailing', scale: 1, seed: 1172910896, seed_mode: 'Scale Alike', shift: 3, size: '768x1024', steps: 4, strength: 1, v2: { loras: [{ file: 'detail_tweaker_f16.ckpt', weight: 0.8 }] } };

/** A JPEG with an XMP APP1 segment ("http://ns.adobe.com/xap/1.0/\0" + packet). */
export async function jpegWithXmp(xmp: string): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#5a5' } }).jpeg().toBuffer();
  const payload = Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), Buffer.from(xmp, 'utf8')]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, payload, jpeg.subarray(2)]);
}

// ---- Midjourney ----

/** A Midjourney website download (its Description and Author, as exiftool shows them; the XMP
 * rdf:Description attributes iptcExt:DigImageGUID and iptcExt:DigitalSourceType). */
export const MIDJOURNEY_JOB = 'a7421d2f-b262-44f9-977c-ac23e9c7d3e3';
export const MIDJOURNEY_CHUNKS: F.TextChunkSpec[] = [
  { keyword: 'Author', text: 'peterkaminski' },
  { keyword: 'Creation Time', text: '2024-05-02T18:23:11+00:00' },
  { keyword: 'Description', text: `a lighthouse at dusk, oil painting --ar 2:1 --stylize 80 --seed 4242 --no people, boats --v 6 Job ID: ${MIDJOURNEY_JOB}` },
  {
    keyword: 'XML:com.adobe.xmp',
    type: 'iTXt',
    text: `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:iptcExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" iptcExt:DigImageGUID="${MIDJOURNEY_JOB}" iptcExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/></rdf:RDF></x:xmpmeta>`,
  },
];

// ---- InvokeAI 5 graph ----

/** An `invokeai_graph` as InvokeAI 5's SD1 graph builder makes it (invokeai/frontend/web/src/
 * features/nodes/util/graph/generation/buildSD1Graph.ts: node types and fields, edges
 * {source: {node_id, field}, destination: {node_id, field}}, prefixed ids), without a
 * core_metadata node (a workflow-editor graph has none unless the user adds one). */
export const INVOKE_GRAPH_SD1 = {
  id: 'sd1_graph:kH3dYb9mQx',
  nodes: {
    'sd1_model_loader:Ab12Cd34Ef': { type: 'main_model_loader', id: 'sd1_model_loader:Ab12Cd34Ef', model: { key: 'e1f2', hash: 'blake3:1234', name: 'Deliberate v2', base: 'sd-1', type: 'main' }, is_intermediate: true, use_cache: true },
    'clip_skip:Gh56Ij78Kl': { type: 'clip_skip', id: 'clip_skip:Gh56Ij78Kl', skipped_layers: 0, is_intermediate: true, use_cache: true },
    'pos_cond:Mn90Op12Qr': { type: 'compel', id: 'pos_cond:Mn90Op12Qr', prompt: 'a cozy cabin in the snow, warm light', is_intermediate: true, use_cache: true },
    'pos_cond_collect:St34Uv56Wx': { type: 'collect', id: 'pos_cond_collect:St34Uv56Wx', is_intermediate: true, use_cache: true },
    'neg_cond:Yz78Ab90Cd': { type: 'compel', id: 'neg_cond:Yz78Ab90Cd', prompt: 'lowres, watermark', is_intermediate: true, use_cache: true },
    'neg_cond_collect:Ef12Gh34Ij': { type: 'collect', id: 'neg_cond_collect:Ef12Gh34Ij', is_intermediate: true, use_cache: true },
    'noise:Kl56Mn78Op': { type: 'noise', id: 'noise:Kl56Mn78Op', seed: 2897315614, width: 512, height: 640, use_cpu: true, is_intermediate: true, use_cache: true },
    'denoise_latents:Qr90St12Uv': { type: 'denoise_latents', id: 'denoise_latents:Qr90St12Uv', cfg_scale: 6.5, cfg_rescale_multiplier: 0, scheduler: 'dpmpp_2m_k', steps: 32, denoising_start: 0, denoising_end: 1, is_intermediate: true, use_cache: true },
    'canvas_output:Wx34Yz56Ab': { type: 'l2i', id: 'canvas_output:Wx34Yz56Ab', fp32: false, is_intermediate: false, use_cache: false },
  },
  edges: [
    ['sd1_model_loader:Ab12Cd34Ef', 'unet', 'denoise_latents:Qr90St12Uv', 'unet'],
    ['sd1_model_loader:Ab12Cd34Ef', 'clip', 'clip_skip:Gh56Ij78Kl', 'clip'],
    ['clip_skip:Gh56Ij78Kl', 'clip', 'pos_cond:Mn90Op12Qr', 'clip'],
    ['clip_skip:Gh56Ij78Kl', 'clip', 'neg_cond:Yz78Ab90Cd', 'clip'],
    ['pos_cond:Mn90Op12Qr', 'conditioning', 'pos_cond_collect:St34Uv56Wx', 'item'],
    ['neg_cond:Yz78Ab90Cd', 'conditioning', 'neg_cond_collect:Ef12Gh34Ij', 'item'],
    ['pos_cond_collect:St34Uv56Wx', 'collection', 'denoise_latents:Qr90St12Uv', 'positive_conditioning'],
    ['neg_cond_collect:Ef12Gh34Ij', 'collection', 'denoise_latents:Qr90St12Uv', 'negative_conditioning'],
    ['noise:Kl56Mn78Op', 'noise', 'denoise_latents:Qr90St12Uv', 'noise'],
    ['denoise_latents:Qr90St12Uv', 'latents', 'canvas_output:Wx34Yz56Ab', 'latents'],
  ].map(([s, sf, d, df]) => ({ source: { node_id: s, field: sf }, destination: { node_id: d, field: df } })),
};

/** The same graph as InvokeAI 5 saves it from the canvas: with the core_metadata node that
 * Graph.upsertMetadata adds (the fields buildSD1Graph passes it), a FLUX model this time. */
export const INVOKE_GRAPH_WITH_METADATA = {
  ...INVOKE_GRAPH_SD1,
  nodes: {
    ...INVOKE_GRAPH_SD1.nodes,
    'core_metadata:Cd78Ef90Gh': { id: 'core_metadata:Cd78Ef90Gh', type: 'core_metadata', is_intermediate: true, use_cache: true, generation_mode: 'txt2img', positive_prompt: 'a red lantern on a pier', negative_prompt: '', width: 1024, height: 1024, seed: 94881612, steps: 28, guidance: 3.5, scheduler: 'euler', model: { key: 'f1', hash: 'blake3:ab', name: 'FLUX Dev (Quantized)', base: 'flux', type: 'main' } },
  },
};

// ---- ComfyUI: newer node packs ----

/** SD3.5 as ComfyUI's example workflow builds it (comfyanonymous.github.io sd3 examples; node
 * and input names from comfy_extras/nodes_sd3.py and nodes_model_advanced.py), with a 64-bit
 * seed past 2^53 written as a JSON integer. */
export const COMFY_API_SD3 = `{
  "3": {"class_type": "KSampler", "inputs": {"seed": 18446744073709551557, "steps": 40, "cfg": 4.5, "sampler_name": "dpmpp_2m", "scheduler": "sgm_uniform", "denoise": 1, "model": ["13", 0], "positive": ["16", 0], "negative": ["40", 0], "latent_image": ["53", 0]}},
  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd3.5_large.safetensors"}},
  "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
  "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
  "11": {"class_type": "TripleCLIPLoader", "inputs": {"clip_name1": "clip_g.safetensors", "clip_name2": "clip_l.safetensors", "clip_name3": "t5xxl_fp16.safetensors"}},
  "13": {"class_type": "ModelSamplingSD3", "inputs": {"shift": 3, "model": ["4", 0]}},
  "16": {"class_type": "CLIPTextEncodeSD3", "inputs": {"clip_l": "", "clip_g": "", "t5xxl": "a tiny astronaut hatching from an egg on the moon", "empty_padding": "none", "clip": ["11", 0]}},
  "40": {"class_type": "CLIPTextEncode", "inputs": {"text": "lowres, text", "clip": ["11", 0]}},
  "53": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1344, "batch_size": 1}}
}`;

/** The custom-sampler family (comfy_extras/nodes_custom_sampler.py): CFGGuider, a Sampler*
 * node and a *Scheduler node instead of KSamplerSelect / BasicScheduler; a GGUF UNet loader
 * (city96/ComfyUI-GGUF UnetLoaderGGUF) and rgthree's Power Lora Loader between. */
export const COMFY_API_CUSTOM = {
  '1': { class_type: 'UnetLoaderGGUF', inputs: { unet_name: 'flux1-dev-Q8_0.gguf' } },
  '2': { class_type: 'Power Lora Loader (rgthree)', inputs: { PowerLoraLoaderHeaderWidget: { type: 'PowerLoraLoaderHeaderWidget' }, lora_1: { on: true, lora: 'flux/ink_style.safetensors', strength: 0.75 }, lora_2: { on: false, lora: 'flux/off.safetensors', strength: 1 }, '➕ Add Lora': '', model: ['1', 0], clip: ['3', 0] } },
  '3': { class_type: 'DualCLIPLoaderGGUF', inputs: { clip_name1: 'clip_l.safetensors', clip_name2: 't5-v1_1-xxl-encoder-Q8_0.gguf', type: 'flux' } },
  '4': { class_type: 'CLIPTextEncode', inputs: { text: 'ink drawing of a heron', clip: ['2', 1] } },
  '5': { class_type: 'CLIPTextEncode', inputs: { text: 'color, photo', clip: ['2', 1] } },
  '6': { class_type: 'CFGGuider', inputs: { cfg: 2.5, model: ['2', 0], positive: ['4', 0], negative: ['5', 0] } },
  '7': { class_type: 'SamplerDPMPP_2M_SDE', inputs: { solver_type: 'midpoint', eta: 1, s_noise: 1, noise_device: 'gpu' } },
  '8': { class_type: 'KarrasScheduler', inputs: { steps: 26, sigma_max: 14.614642, sigma_min: 0.0291675, rho: 7 } },
  '9': { class_type: 'RandomNoise', inputs: { noise_seed: '<seed>' } },
  '10': { class_type: 'EmptyLatentImage', inputs: { width: 832, height: 1216, batch_size: 1 } },
  '11': { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['9', 0], guider: ['6', 0], sampler: ['7', 0], sigmas: ['8', 0], latent_image: ['10', 0] } },
  '12': { class_type: 'VAEDecode', inputs: { samples: ['11', 0], vae: ['13', 0] } },
  '13': { class_type: 'VAELoader', inputs: { vae_name: 'ae.safetensors' } },
  '14': { class_type: 'SaveImage', inputs: { filename_prefix: 'heron', images: ['12', 0] } },
};

/** As saved: the seed 2^53 + 1 as a JSON integer (a double would read it as 2^53). */
export const COMFY_API_CUSTOM_JSON = JSON.stringify(COMFY_API_CUSTOM).replace('"<seed>"', '9007199254740993');

/** efficiency-nodes-comfyui: the Efficient Loader takes the checkpoint, a LoRA, both prompts
 * and the latent size as widgets; KSampler (Efficient) reads them through its outputs
 * (MODEL, CONDITIONING+, CONDITIONING-, LATENT, VAE, CLIP). */
export const COMFY_API_EFFICIENT = {
  '1': { class_type: 'Efficient Loader', inputs: { ckpt_name: 'SDXL/juggernautXL_v9.safetensors', vae_name: 'Baked VAE', clip_skip: -2, lora_name: 'add-detail-xl.safetensors', lora_model_strength: 0.8, lora_clip_strength: 0.8, positive: 'a samurai in the rain, cinematic', negative: 'cartoon', token_normalization: 'none', weight_interpretation: 'comfy', empty_latent_width: 1024, empty_latent_height: 1024, batch_size: 1 } },
  '2': { class_type: 'KSampler (Efficient)', inputs: { seed: 640271075062843, steps: 30, cfg: 6, sampler_name: 'dpmpp_2m_sde', scheduler: 'karras', denoise: 1, preview_method: 'auto', vae_decode: 'true', model: ['1', 0], positive: ['1', 1], negative: ['1', 2], latent_image: ['1', 3], optional_vae: ['1', 4] } },
  '3': { class_type: 'SaveImage', inputs: { filename_prefix: 'eff', images: ['2', 5] } },
};

/** DualCFGGuider (nodes_custom_sampler.py: model, cond1, cond2, negative, cfg_conds,
 * cfg_cond2_negative) with BasicScheduler and KSamplerSelect. */
export const COMFY_API_DUAL = {
  '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl/base.safetensors' } },
  '2': { class_type: 'CLIPTextEncode', inputs: { text: 'a glass teapot, studio light', clip: ['1', 1] } },
  '3': { class_type: 'CLIPTextEncode', inputs: { text: 'minimalist', clip: ['1', 1] } },
  '4': { class_type: 'CLIPTextEncode', inputs: { text: 'noisy', clip: ['1', 1] } },
  '5': { class_type: 'DualCFGGuider', inputs: { cfg_conds: 7, cfg_cond2_negative: 2, model: ['1', 0], cond1: ['2', 0], cond2: ['3', 0], negative: ['4', 0] } },
  '6': { class_type: 'KSamplerSelect', inputs: { sampler_name: 'euler_ancestral' } },
  '7': { class_type: 'BasicScheduler', inputs: { scheduler: 'beta', steps: 18, denoise: 0.9, model: ['1', 0] } },
  '8': { class_type: 'RandomNoise', inputs: { noise_seed: 77 } },
  '9': { class_type: 'EmptyLatentImage', inputs: { width: 1024, height: 768, batch_size: 1 } },
  '10': { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['8', 0], guider: ['5', 0], sampler: ['6', 0], sigmas: ['7', 0], latent_image: ['9', 0] } },
  '11': { class_type: 'VAEDecode', inputs: { samples: ['10', 0], vae: ['1', 2] } },
  '12': { class_type: 'SaveImage', inputs: { filename_prefix: 'dual', images: ['11', 0] } },
};

/** A WebP as ComfyUI's SaveAnimatedWEBP writes it (comfy_extras/nodes_images.py: EXIF IFD0
 * 0x0110 Model = "prompt:" + json.dumps(prompt), 0x010f Make = "workflow:" + …). */
export async function comfyWebp(prompt: unknown, workflow: unknown): Promise<Buffer> {
  const block = F.tiff(
    [
      { tag: 0x010f, type: 2, data: Buffer.from(`workflow:${JSON.stringify(workflow)}\0`, 'utf8'), ifd: 0 },
      { tag: 0x0110, type: 2, data: Buffer.from(`prompt:${typeof prompt === 'string' ? prompt : JSON.stringify(prompt)}\0`, 'utf8'), ifd: 0 },
    ],
    'II',
  );
  return F.webpWithExif(block);
}

// ---- Fooocus forks and logs ----

/** Fooocus's log.html (modules/private_logger.py): one div per image, id = the file name with
 * "." as "_", a metadata table of label/value cells (labels as async_worker.py logs them). */
export function fooocusLogHtml(entries: { file: string; rows: [string, string][] }[]): string {
  const items = entries
    .map(
      ({ file, rows }) =>
        `<div id="${file.replace(/\./g, '_')}" class="image-container">\n<hr><table><tr><td><a href='${file}'><img src='${file}' loading='lazy'></img></a><div>${file}</div></td><td><table class='metadata'>` +
        rows.map(([k, v]) => `<tr><td class='label'>${k}</td><td class='value'>${v.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</td></tr>\n`).join('') +
        `</table></td></tr></table></div>\n\n`,
    )
    .join('');
  return `<html><head><style>body { background-color: #121212; }</style></head><body><p>Fooocus Log 2024-03-01 (private)</p>\n<p>All images do not contain any hidden data.</p><!--fooocus-log-split-->\n${items}\n<!--fooocus-log-split--></body></html>`;
}

export const FOOOCUS_LOG_ROWS: [string, string][] = [
  ['Prompt', 'a red fox in snow'],
  ['Negative Prompt', 'blurry'],
  ['Fooocus V2 Expansion', 'a red fox in snow, intricate, highly detailed'],
  ['Styles', "['Fooocus V2', 'Fooocus Enhance']"],
  ['Performance', 'Speed'],
  ['Steps', '30'],
  ['Resolution', '(1152, 896)'],
  ['Guidance Scale', '4'],
  ['Sharpness', '2'],
  ['ADM Guidance', '(1.5, 0.8, 0.3)'],
  ['Base Model', 'juggernautXL_v8Rundiffusion.safetensors'],
  ['Refiner Model', 'None'],
  ['Sampler', 'dpmpp_2m_sde_gpu'],
  ['Scheduler', 'karras'],
  ['Seed', '12345678901234567890'],
  ['LoRA 1', 'sd_xl_offset_example-lora_1.0.safetensors : 0.1'],
  ['Version', 'Fooocus v2.1.865'],
];

/** Fooocus-MRE's Comment JSON (read as Diffusion Toolkit's ReadFooocusMREParameters does). */
export const FOOOCUS_MRE = JSON.stringify({ prompt: 'castle on a hill', negative_prompt: '', real_prompt: ['castle on a hill, epic'], real_negative_prompt: [], positive_prompt_strength: 1.0, steps: 30, cfg: 7.0, width: 1024, height: 1024, seed: 42424242, sampler: 'dpmpp_2m_sde_gpu', scheduler: 'karras', base_model: 'sd_xl_base_1.0_0.9vae.safetensors', styles: "['Fooocus V2']" });

/** RuinedFooocus's `parameters` JSON (fields as Diffusion Toolkit's ReadRuinedFooocusParameters reads them). */
export const RUINED_FOOOCUS = JSON.stringify({ Prompt: 'a neon koi', Negative: 'dull', steps: 20, cfg: 6.0, width: 896, height: 1152, seed: 1234, sampler_name: 'dpmpp_2m', scheduler: 'karras', base_model_name: 'sdxl/dreamshaperXL.safetensors', base_model_hash: 'abcd1234', software: 'RuinedFooocus' });
