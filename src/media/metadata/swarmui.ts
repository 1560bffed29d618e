// SwarmUI (formerly StableSwarmUI). It writes one JSON object, {"sui_image_params": {prompt,
// negativeprompt, model, seed, steps, cfgscale, width, height, sampler, scheduler, loras,
// loraweights, …}, "sui_extra_data": {date, generation_time, …}, "sui_models": [{name, param,
// hash}]}: in a PNG as the `parameters` text chunk, in JPEG/WebP as EXIF UserComment (UNICODE);
// older builds put it in EXIF Model. Some copies carry the UserComment bytes, "UNICODE\0" and
// UTF-16, inside a PNG chunk. (mcmonkeyprojects/SwarmUI; as Diffusion Toolkit's
// ReadStableSwarmParameters, Infinite Image Browsing's stable_swarm_ui.py and
// stable-diffusion-prompt-reader's swarmui.py read it.)
import { decodeUserComment } from '../exif.ts';
import { isObj, MAX_PROMPT, modelName, num, parseJson, setParam, setSeed, str, type ImageMetadata, type Obj } from './values.ts';

/** The SwarmUI JSON among the texts, if any. */
export function swarmJson(t: Map<string, string>): Obj | undefined {
  for (const k of ['parameters', 'exif:UserComment', 'Comment', 'exif:Model']) {
    let text = t.get(k);
    if (!text || !text.includes('sui_image_params')) continue;
    if (text.startsWith('UNICODE')) text = decodeUserComment(Buffer.from(text, 'latin1'));
    const j = parseJson(text.slice(text.indexOf('{')));
    if (isObj(j) && isObj(j.sui_image_params)) return j;
  }
  return undefined;
}

export function applySwarmUI(m: ImageMetadata, j: Obj): void {
  m.tool = 'swarmui';
  const p = isObj(j.sui_image_params) ? j.sui_image_params : {};
  m.prompt = str(p.prompt, MAX_PROMPT);
  m.negativePrompt = str(p.negativeprompt, MAX_PROMPT);
  setSeed(m, p.seed);
  m.steps = num(p.steps);
  m.cfgScale = num(p.cfgscale);
  m.sampler = str(p.sampler) ?? str(p.comfyuisampler) ?? str(p.autowebuisampler);
  m.scheduler = str(p.scheduler) ?? str(p.comfyuischeduler);
  m.model = modelName(p.model);
  m.width = num(p.width);
  m.height = num(p.height);
  if (Array.isArray(p.loras) && p.loras.length) {
    const weights = Array.isArray(p.loraweights) ? p.loraweights : [];
    setParam(m, 'loras', p.loras.slice(0, 20).map((l, i) => `${modelName(l) ?? '?'}:${num(weights[i]) ?? 1}`).join(', '));
  }
  const skip = new Set(['prompt', 'negativeprompt', 'seed', 'steps', 'cfgscale', 'sampler', 'scheduler', 'model', 'width', 'height', 'loras', 'loraweights']);
  for (const [k, v] of Object.entries(p)) if (!skip.has(k)) setParam(m, k, v);
  const models = Array.isArray(j.sui_models) ? j.sui_models : [];
  const main = models.find((x) => isObj(x) && x.param === 'model');
  if (isObj(main)) setParam(m, 'model_hash', str(main.hash)?.replace(/^0x/, ''));
  if (isObj(j.sui_extra_data)) for (const k of ['date', 'generation_time', 'prep_time']) setParam(m, k, j.sui_extra_data[k]);
}
