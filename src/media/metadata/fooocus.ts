// Fooocus and its forks:
//   Fooocus 2.2+     PNG `parameters` + `fooocus_scheme` ("fooocus": JSON; "a1111": A1111 text);
//                    JPEG/WebP EXIF UserComment (Pillow, no charset code) + MakerNote = scheme
//                    (lllyasviel/Fooocus modules/meta_parser.py).
//   Fooocus (older)  no metadata in the image: `log.html` beside it, one
//                    `<div id="<name with . as _>">` per image with a `<table class='metadata'>`
//                    of key/value cells (modules/private_logger.py). Read as a companion file.
//   Fooocus-MRE      PNG `Comment` (JPEG comment) JSON: prompt, negative_prompt, real_prompt,
//                    base_model, sampler, seed, cfg, steps, width, height (as Diffusion
//                    Toolkit's ReadFooocusMREParameters reads it).
//   RuinedFooocus    PNG `parameters` JSON with "software": "RuinedFooocus": Prompt, Negative,
//                    steps, cfg, width, height, seed, sampler_name, base_model_name, base_model_hash.
import { decodeXmlText } from './xmp.ts';
import { isObj, MAX_PROMPT, modelName, num, setParam, setSeed, str, type ImageMetadata, type Json, type Obj } from './values.ts';

/** A Fooocus-family JSON: a prompt and a field of its own. */
export function isFooocusJson(j: Json | undefined): j is Obj {
  return isObj(j) && ('prompt' in j || 'full_prompt' in j || 'Prompt' in j) && ('base_model' in j || 'guidance_scale' in j || 'performance' in j || j.software === 'RuinedFooocus');
}

const joined = (v: Json | undefined) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string').join(', ').slice(0, MAX_PROMPT) || undefined : undefined);

/** The scheme JSON (meta_parser.py FooocusMetadataParser.to_string), Fooocus-MRE's Comment
 * JSON, or RuinedFooocus's parameters JSON. */
export function applyFooocusJson(m: ImageMetadata, j: Obj): void {
  m.tool = 'fooocus';
  if (j.software === 'RuinedFooocus') {
    setParam(m, 'software', 'RuinedFooocus');
    m.prompt = str(j.Prompt, MAX_PROMPT);
    m.negativePrompt = str(j.Negative, MAX_PROMPT);
    setSeed(m, j.seed);
    m.steps = num(j.steps);
    m.cfgScale = num(j.cfg);
    m.sampler = str(j.sampler_name);
    m.scheduler = str(j.scheduler);
    m.model = modelName(j.base_model_name);
    m.width = num(j.width);
    m.height = num(j.height);
    setParam(m, 'base_model_hash', j.base_model_hash);
    return;
  }
  m.prompt = str(j.prompt, MAX_PROMPT) ?? joined(j.full_prompt);
  m.negativePrompt = str(j.negative_prompt, MAX_PROMPT) ?? joined(j.full_negative_prompt);
  setSeed(m, j.seed);
  m.steps = num(j.steps);
  m.cfgScale = num(j.guidance_scale ?? j.cfg);
  m.sampler = str(j.sampler);
  m.scheduler = str(j.scheduler);
  m.model = modelName(j.base_model);
  // resolution is a Python tuple's str(): "(1152, 896)"
  const res = /^\(\s*'?(\d+)'?\s*,\s*'?(\d+)'?\s*\)$/.exec(String(j.resolution ?? ''));
  if (res) [m.width, m.height] = [Number(res[1]), Number(res[2])];
  else if (num(j.width) && num(j.height)) [m.width, m.height] = [num(j.width), num(j.height)];
  for (const k of ['styles', 'performance', 'sharpness', 'adm_guidance', 'refiner_model', 'refiner_switch', 'vae', 'version', 'prompt_expansion', 'base_model_hash', 'clip_skip', 'real_prompt', 'positive_prompt_strength']) setParam(m, k, j[k]);
  for (const [k, v] of Object.entries(j)) if (/^lora_combined_\d+$/.test(k)) setParam(m, k, v);
}

/** The row of `fileName` in a Fooocus `log.html`, as key → value, or undefined. */
export function fooocusLogEntry(html: string, fileName: string): Map<string, string> | undefined {
  const id = fileName.replace(/\./g, '_');
  const start = html.indexOf(`<div id="${id}"`);
  if (start < 0) return undefined;
  const end = html.indexOf('</table>', start);
  const block = html.slice(start, end < 0 ? start + 200_000 : end);
  const rows = new Map<string, string>();
  const re = /<td class=['"](?:key|label)['"]>([\s\S]*?)<\/td>\s*<td class=['"]value['"]>([\s\S]*?)<\/td>/g;
  for (let r = re.exec(block); r && rows.size < 200; r = re.exec(block)) {
    const text = (s: string) => decodeXmlText(s.replace(/<[^>]*>/g, '')).trim();
    rows.set(text(r[1]), text(r[2]));
  }
  return rows.size ? rows : undefined;
}

/** A log.html row into `m` (the labels async_worker.py gives its log). */
export function applyFooocusLog(m: ImageMetadata, row: Map<string, string>): void {
  m.tool = 'fooocus';
  const get = (k: string) => row.get(k) || undefined;
  m.prompt = get('Prompt')?.slice(0, MAX_PROMPT);
  m.negativePrompt = get('Negative Prompt')?.slice(0, MAX_PROMPT);
  setSeed(m, get('Seed'));
  m.steps = num(get('Steps'));
  m.cfgScale = num(get('Guidance Scale'));
  m.sampler = get('Sampler');
  m.scheduler = get('Scheduler');
  m.model = modelName(get('Base Model'));
  const res = /\(\s*(\d+)\s*,\s*(\d+)\s*\)/.exec(get('Resolution') ?? '');
  if (res) [m.width, m.height] = [Number(res[1]), Number(res[2])];
  for (const k of ['Styles', 'Performance', 'Sharpness', 'ADM Guidance', 'Refiner Model', 'Refiner Switch', 'Fooocus V2 Expansion', 'Version']) setParam(m, k, get(k));
  for (const [k, v] of row) if (/^LoRA \d+$/.test(k)) setParam(m, k, v);
}
