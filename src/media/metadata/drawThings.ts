// Draw Things (iOS / macOS) writes XMP: in a PNG the iTXt chunk "XML:com.adobe.xmp", in a JPEG
// the APP1 XMP packet. Its rdf:Description holds xmp:CreatorTool "Draw Things", dc:description
// (prompt, "-" + negative prompt, and a settings line, separated by line breaks) and
// exif:UserComment, an rdf:Alt whose rdf:li is the configuration as JSON: c (prompt), uc
// (negative prompt), model, sampler, scale, seed, size "WxH", steps, strength, seed_mode,
// shift, lora / v2.loras (as stable-diffusion-prompt-reader's drawthings.py reads it).
import { applyA1111 } from './a1111Text.ts';
import { xmpProperty } from './xmp.ts';
import { isObj, MAX_PROMPT, modelName, num, parseJson, setParam, setSeed, str, type ImageMetadata } from './values.ts';

export function isDrawThings(xmp: string | undefined): xmp is string {
  return !!xmp && /Draw Things/.test(xmpProperty(xmp, 'xmp:CreatorTool') ?? '');
}

export function applyDrawThings(m: ImageMetadata, xmp: string): void {
  m.tool = 'drawthings';
  const j = parseJson(xmpProperty(xmp, 'exif:UserComment'));
  if (!isObj(j)) {
    // No configuration JSON: the description is A1111-like text with "-" before the negative.
    const description = xmpProperty(xmp, 'dc:description');
    if (description) applyA1111(m, description.replace(/\n-/, '\nNegative prompt: ').replace(/\nSteps:/, '\nSteps:'));
    else m.warnings.push('The Draw Things XMP has no configuration; it is kept as raw text.');
    return;
  }
  m.prompt = str(j.c, MAX_PROMPT);
  m.negativePrompt = str(j.uc, MAX_PROMPT);
  setSeed(m, j.seed);
  m.steps = num(j.steps);
  m.cfgScale = num(j.scale);
  m.sampler = str(j.sampler);
  m.model = modelName(j.model);
  const size = /^(\d+)x(\d+)$/.exec(String(j.size ?? ''));
  if (size) [m.width, m.height] = [Number(size[1]), Number(size[2])];
  for (const k of ['strength', 'seed_mode', 'shift', 'clip_skip', 'aesthetic_score', 'sharpness', 'hires_fix', 'refiner_model']) setParam(m, k, j[k]);
  const v2 = isObj(j.v2) ? j.v2 : {};
  const loras = Array.isArray(j.lora) ? j.lora : Array.isArray(v2.loras) ? v2.loras : [];
  const names = loras
    .filter(isObj)
    .slice(0, 20)
    .map((l) => `${modelName(l.model ?? l.file) ?? '?'}:${num(l.weight) ?? 1}`);
  if (names.length) setParam(m, 'loras', names.join(', '));
}
