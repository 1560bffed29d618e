// Test images carrying other tools' metadata, built in code (no fixture files are committed).
// The containers are assembled here by hand, independently of src/media/exif.ts, so the
// reader is tested against bytes it did not write. Each shape cites where it comes from.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { crc32 } from '../../src/media/pngChunks.ts';

export async function plainPng(w = 24, h = 16, rgb: [number, number, number] = [40, 120, 200]): Promise<Buffer> {
  return sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
}

/** One PNG chunk: length, type, data and its CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4, 8), data), 0);
  return Buffer.concat([head, data, crc]);
}

export type TextChunkSpec = { keyword: string; text: string; type?: 'tEXt' | 'iTXt' | 'zTXt' | 'iTXt-z'; raw?: Buffer };

/** A PNG with text chunks, as Pillow's PngInfo.add_text writes them (tEXt for Latin-1, iTXt
 * for other text), plus zTXt and compressed iTXt. `raw` puts the given bytes as the data. */
export async function pngWithText(chunks: TextChunkSpec[], base?: Buffer): Promise<Buffer> {
  const png = base ?? (await plainPng());
  const iend = png.length - 12;
  const extra = chunks.map((c) => {
    const key = Buffer.from(c.keyword, 'latin1');
    if (c.raw) return pngChunk(c.type ?? 'tEXt', Buffer.concat([key, Buffer.from([0]), c.raw]));
    const type = c.type ?? ([...c.text].every((ch) => ch.charCodeAt(0) <= 0xff) ? 'tEXt' : 'iTXt');
    if (type === 'tEXt') return pngChunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(c.text, 'latin1')]));
    if (type === 'zTXt') return pngChunk('zTXt', Buffer.concat([key, Buffer.from([0, 0]), deflateSync(Buffer.from(c.text, 'latin1'))]));
    const z = type === 'iTXt-z';
    const body = z ? deflateSync(Buffer.from(c.text, 'utf8')) : Buffer.from(c.text, 'utf8');
    return pngChunk('iTXt', Buffer.concat([key, Buffer.from([0, z ? 1 : 0, 0, 0, 0]), body]));
  });
  return Buffer.concat([png.subarray(0, iend), ...extra, png.subarray(iend)]);
}

export interface TiffField {
  tag: number;
  type: number; // 2 ASCII, 7 UNDEFINED
  data: Buffer;
  ifd: 0 | 'exif';
}

/** A minimal TIFF block in either byte order: IFD0 (with an Exif IFD pointer) and the Exif IFD. */
export function tiff(fields: TiffField[], order: 'II' | 'MM' = 'MM'): Buffer {
  const le = order === 'II';
  const w16 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const w32 = (b: Buffer, v: number, at: number) => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const ifd0 = fields.filter((f) => f.ifd === 0);
  const exif = fields.filter((f) => f.ifd === 'exif');
  const ifd0Count = ifd0.length + 1;
  const ifd0At = 8;
  const exifAt = ifd0At + 2 + ifd0Count * 12 + 4;
  let dataAt = exifAt + 2 + exif.length * 12 + 4;
  const blobs: Buffer[] = [];
  const head = Buffer.alloc(dataAt);
  head.write(order, 0, 'latin1');
  w16(head, 42, 2);
  w32(head, ifd0At, 4);
  const entry = (at: number, f: TiffField) => {
    w16(head, f.tag, at);
    w16(head, f.type, at + 2);
    w32(head, f.data.length, at + 4);
    if (f.data.length <= 4) f.data.copy(head, at + 8);
    else {
      w32(head, dataAt, at + 8);
      blobs.push(f.data);
      dataAt += f.data.length;
    }
  };
  w16(head, ifd0Count, ifd0At);
  const sorted0 = [...ifd0, { tag: 0x8769, type: 4, data: Buffer.alloc(4), ifd: 0 as const }].sort((a, b) => a.tag - b.tag);
  sorted0.forEach((f, i) => {
    if (f.tag === 0x8769) {
      const at = ifd0At + 2 + i * 12;
      w16(head, 0x8769, at);
      w16(head, 4, at + 2);
      w32(head, 1, at + 4);
      w32(head, exifAt, at + 8);
    } else entry(ifd0At + 2 + i * 12, f);
  });
  w16(head, exif.length, exifAt);
  exif.forEach((f, i) => entry(exifAt + 2 + i * 12, f));
  return Buffer.concat([head, ...blobs]);
}

/** piexif.helper.UserComment.dump(text, encoding="unicode"): "UNICODE\0" + UTF-16BE (A1111). */
export function userCommentUnicodeBE(text: string): Buffer {
  return Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from(text, 'utf16le').swap16()]);
}
export function userCommentUnicodeLE(text: string): Buffer {
  return Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from(text, 'utf16le')]);
}
export function userCommentAscii(text: string): Buffer {
  return Buffer.concat([Buffer.from('ASCII\0\0\0', 'latin1'), Buffer.from(text, 'utf8')]);
}

/** A JPEG with an APP1 Exif segment right after SOI (piexif.insert's placement). */
export async function jpegWithExif(tiffBlock: Buffer, opts: { comment?: string } = {}): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#c83' } }).jpeg().toBuffer();
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiffBlock]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  const parts = [jpeg.subarray(0, 2), app1, payload];
  if (opts.comment !== undefined) {
    const c = Buffer.from(opts.comment, 'utf8');
    const com = Buffer.alloc(4);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(c.length + 2, 2);
    parts.push(com, c);
  }
  parts.push(jpeg.subarray(2));
  return Buffer.concat(parts);
}

/** A WebP (extended layout, as sharp writes it with EXIF) whose EXIF chunk holds `tiffBlock`,
 * with or without the "Exif\0\0" header some writers keep. */
export async function webpWithExif(tiffBlock: Buffer, withHeader = false): Promise<Buffer> {
  const webp = await sharp({ create: { width: 24, height: 16, channels: 3, background: '#38c' } }).webp().withExif({ IFD0: { Software: 'placeholder' } }).toBuffer();
  const chunks: Buffer[] = [];
  for (let at = 12; at < webp.length; ) {
    const id = webp.toString('latin1', at, at + 4);
    const size = webp.readUInt32LE(at + 4);
    const data = webp.subarray(at + 8, at + 8 + size);
    const body = id === 'EXIF' ? (withHeader ? Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiffBlock]) : tiffBlock) : data;
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    chunks.push(head, body, Buffer.alloc(body.length & 1));
    at += 8 + size + (size & 1);
  }
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...chunks]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

// ---- metadata texts, in the shapes the tools write ----

/** A1111 / Forge `parameters` (modules/processing.py create_infotext via images.save_image). */
export const A1111_TEXT = [
  'masterpiece, a lighthouse at dusk, <lora:film:0.7>',
  'Negative prompt: blurry, lowres',
  'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3021544718, Size: 832x1216, Model hash: 6ce0161689, Model: sd_xl_base_1.0, Lora hashes: "film: 1a2b3c4d5e6f", Version: f2.0.1v1.10.1-previous-313-g8a042934',
].join('\n');

/** ComfyUI's API prompt for the default workflow (comfyanonymous/ComfyUI script_examples/basic_api_example.py). */
export const COMFY_API_DEFAULT = {
  '3': { class_type: 'KSampler', inputs: { cfg: 8, denoise: 1, latent_image: ['5', 0], model: ['4', 0], negative: ['7', 0], positive: ['6', 0], sampler_name: 'euler', scheduler: 'normal', seed: 8566257, steps: 20 } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { batch_size: 1, height: 512, width: 512 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: 'masterpiece best quality girl' } },
  '7': { class_type: 'CLIPTextEncode', inputs: { clip: ['4', 1], text: 'bad hands' } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
};

/** ComfyUI's editor graph for the default workflow (Comfy-Org/ComfyUI_frontend src/scripts/defaultGraph.ts). */
export const COMFY_WORKFLOW_DEFAULT = {
  last_node_id: 9,
  last_link_id: 9,
  nodes: [
    { id: 7, type: 'CLIPTextEncode', pos: [413, 389], size: [425, 180], flags: {}, order: 3, mode: 0, inputs: [{ name: 'clip', type: 'CLIP', link: 5 }], outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [6], slot_index: 0 }], properties: {}, widgets_values: ['text, watermark'] },
    { id: 6, type: 'CLIPTextEncode', pos: [415, 186], size: [422, 164], flags: {}, order: 2, mode: 0, inputs: [{ name: 'clip', type: 'CLIP', link: 3 }], outputs: [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [4], slot_index: 0 }], properties: {}, widgets_values: ['beautiful scenery nature glass bottle landscape, , purple galaxy bottle,'] },
    { id: 5, type: 'EmptyLatentImage', pos: [473, 609], size: [315, 106], flags: {}, order: 1, mode: 0, outputs: [{ name: 'LATENT', type: 'LATENT', links: [2], slot_index: 0 }], properties: {}, widgets_values: [512, 512, 1] },
    { id: 3, type: 'KSampler', pos: [863, 186], size: [315, 262], flags: {}, order: 4, mode: 0, inputs: [{ name: 'model', type: 'MODEL', link: 1 }, { name: 'positive', type: 'CONDITIONING', link: 4 }, { name: 'negative', type: 'CONDITIONING', link: 6 }, { name: 'latent_image', type: 'LATENT', link: 2 }], outputs: [{ name: 'LATENT', type: 'LATENT', links: [7], slot_index: 0 }], properties: {}, widgets_values: [156680208700286, true, 20, 8, 'euler', 'normal', 1] },
    { id: 8, type: 'VAEDecode', pos: [1209, 188], size: [210, 46], flags: {}, order: 5, mode: 0, inputs: [{ name: 'samples', type: 'LATENT', link: 7 }, { name: 'vae', type: 'VAE', link: 8 }], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [9], slot_index: 0 }], properties: {} },
    { id: 9, type: 'SaveImage', pos: [1451, 189], size: [210, 26], flags: {}, order: 6, mode: 0, inputs: [{ name: 'images', type: 'IMAGE', link: 9 }], properties: {} },
    { id: 4, type: 'CheckpointLoaderSimple', pos: [26, 474], size: [315, 98], flags: {}, order: 0, mode: 0, outputs: [{ name: 'MODEL', type: 'MODEL', links: [1], slot_index: 0 }, { name: 'CLIP', type: 'CLIP', links: [3, 5], slot_index: 1 }, { name: 'VAE', type: 'VAE', links: [8], slot_index: 2 }], properties: {}, widgets_values: ['v1-5-pruned-emaonly.ckpt'] },
  ],
  links: [
    [1, 4, 0, 3, 0, 'MODEL'],
    [2, 5, 0, 3, 3, 'LATENT'],
    [3, 4, 1, 6, 0, 'CLIP'],
    [4, 6, 0, 3, 1, 'CONDITIONING'],
    [5, 4, 1, 7, 0, 'CLIP'],
    [6, 7, 0, 3, 2, 'CONDITIONING'],
    [7, 3, 0, 8, 0, 'LATENT'],
    [8, 4, 2, 8, 1, 'VAE'],
    [9, 8, 0, 9, 0, 'IMAGE'],
  ],
  groups: [],
  config: {},
  extra: {},
  version: 0.4,
};

/** A Flux graph with the custom-sampler nodes (node and input names from ComfyUI
 * comfy_extras/nodes_custom_sampler.py, nodes_flux.py and nodes.py UNETLoader). */
export const COMFY_API_FLUX = {
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat holding a sign that says hello', clip: ['11', 0] } },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['13', 0], vae: ['10', 0] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI', images: ['8', 0] } },
  '10': { class_type: 'VAELoader', inputs: { vae_name: 'ae.safetensors' } },
  '11': { class_type: 'DualCLIPLoader', inputs: { clip_name1: 't5xxl_fp16.safetensors', clip_name2: 'clip_l.safetensors', type: 'flux' } },
  '12': { class_type: 'UNETLoader', inputs: { unet_name: 'flux1-dev.safetensors', weight_dtype: 'default' } },
  '13': { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['25', 0], guider: ['22', 0], sampler: ['16', 0], sigmas: ['17', 0], latent_image: ['27', 0] } },
  '16': { class_type: 'KSamplerSelect', inputs: { sampler_name: 'euler' } },
  '17': { class_type: 'BasicScheduler', inputs: { scheduler: 'simple', steps: 20, denoise: 1, model: ['30', 0] } },
  '22': { class_type: 'BasicGuider', inputs: { model: ['30', 0], conditioning: ['26', 0] } },
  '25': { class_type: 'RandomNoise', inputs: { noise_seed: 219670278747233 } },
  '26': { class_type: 'FluxGuidance', inputs: { guidance: 3.5, conditioning: ['6', 0] } },
  '27': { class_type: 'EmptySD3LatentImage', inputs: { width: 1024, height: 1024, batch_size: 1 } },
  '30': { class_type: 'ModelSamplingFlux', inputs: { max_shift: 1.15, base_shift: 0.5, width: 1024, height: 1024, model: ['12', 0] } },
};

/** InvokeAI 3.x `invokeai_metadata` (as in civitai's test data for its InvokeAI reader). */
export const INVOKE_V3 = `{"app_version": "3.3.0post3", "generation_mode": "txt2img", "positive_prompt": "landscape", "negative_prompt": "low quality", "width": 768, "height": 432, "seed": 356120443, "rand_device": "cpu", "cfg_scale": 7.5, "steps": 50, "scheduler": "dpmpp_2m_sde_k", "clip_skip": 0, "model": {"model_name": "amixx_3Prunedfp16", "base_model": "sd-1", "model_type": "main"}, "controlnets": [], "ipAdapters": [], "t2iAdapters": [], "loras": [], "vae": {"model_name": "sd-vae-ft-mse", "base_model": "sd-1"}}`;

/** InvokeAI 4.x/5.x: the model is a ModelIdentifierField {key, hash, name, base, type}
 * (invokeai/app/invocations/model.py), LoRAs are {model, weight}. */
export const INVOKE_V5 = JSON.stringify({
  app_version: '5.6.0',
  generation_mode: 'sdxl_txt2img',
  positive_prompt: 'a fox in a snowy forest, golden hour',
  negative_prompt: 'blurry',
  width: 1024,
  height: 1024,
  seed: 1234567,
  cfg_scale: 5,
  cfg_rescale_multiplier: 0,
  steps: 30,
  scheduler: 'euler',
  model: { key: 'a1b2c3', hash: 'blake3:deadbeef', name: 'Juggernaut XL v9', base: 'sdxl', type: 'main' },
  loras: [{ model: { key: 'k1', hash: 'blake3:feed', name: 'detail-tweaker', base: 'sdxl', type: 'lora' }, weight: 0.6 }],
});

/** InvokeAI 2.x `sd-metadata` and 1.x `Dream` (receyuki/stable-diffusion-prompt-reader format/invokeai.py). */
export const INVOKE_SD_METADATA = JSON.stringify({
  model: 'stable diffusion',
  model_weights: 'stable-diffusion-1.5',
  model_hash: 'cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516',
  app_id: 'invoke-ai/InvokeAI',
  app_version: '2.2.4',
  image: { prompt: [{ prompt: 'a cottage in the woods [ugly, blurry]', weight: 1 }], steps: 30, cfg_scale: 7.5, threshold: 0, perlin: 0, height: 512, width: 512, seed: 3175549447, seamless: false, hires_fix: false, type: 'txt2img', postprocessing: null, sampler: 'k_lms', variations: [] },
});
export const INVOKE_DREAM = '"a cottage in the woods [ugly, blurry]" -s 30 -S 3175549447 -W 512 -H 512 -C 7.5 -A k_lms';

/** Fooocus scheme "fooocus": FooocusMetadataParser.to_string's sorted JSON (lllyasviel/Fooocus
 * modules/meta_parser.py); the seed is a string and larger than 2^53. */
export const FOOOCUS_JSON = JSON.stringify({
  adm_guidance: '(1.5, 0.8, 0.3)',
  base_model: 'juggernautXL_v8Rundiffusion',
  base_model_hash: 'aeb7e9e689',
  full_negative_prompt: ['(worst quality, low quality:1.4)'],
  full_prompt: ['a red fox in snow', 'cinematic, dramatic light'],
  guidance_scale: 4.0,
  loras: [['sd_xl_offset_example-lora_1.0', 0.1, '4852686128']],
  metadata_scheme: 'fooocus',
  negative_prompt: '',
  performance: 'Speed',
  prompt: 'a red fox in snow',
  prompt_expansion: 'a red fox in snow, cinematic, dramatic light',
  refiner_model: 'None',
  refiner_switch: 0.5,
  resolution: '(1152, 896)',
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  seed: '127589946317439009',
  sharpness: 2.0,
  steps: 30,
  styles: "['Fooocus V2', 'Fooocus Enhance', 'Fooocus Sharp']",
  vae: 'Default (model)',
  version: 'Fooocus v2.5.5',
});

/** Fooocus scheme "a1111": A1111MetadataParser.to_string. */
export const FOOOCUS_A1111 = [
  'a red fox in snow, cinematic, dramatic light',
  'Negative prompt: (worst quality, low quality:1.4)',
  'Steps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 2887412, Size: 1152x896, CFG scale: 4.0, Sharpness: 2.0, ADM Guidance: "(1.5, 0.8, 0.3)", Model: juggernautXL_v8Rundiffusion, Model hash: aeb7e9e689, Performance: Speed, Scheduler: karras, VAE: Default (model), Raw prompt: a red fox in snow, Version: Fooocus v2.5.5',
].join('\n');
