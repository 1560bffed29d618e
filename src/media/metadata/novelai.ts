// NovelAI. Its PNGs carry tEXt chunks Title ("NovelAI generated image"), Description (the
// prompt), Software ("NovelAI"), Source (the model and its hash: "NovelAI Diffusion V4.5
// 4BDE2A90", "Stable Diffusion XL C1E1DE52"), Generation time, and Comment: the request as JSON
// (prompt, uc = the negative prompt, steps, scale, seed, sampler, noise_schedule, width, height,
// cfg_rescale, strength, v4_prompt {caption {base_caption, char_captions}}, …). The same
// dictionary is hidden in the alpha channel as gzip JSON (stealth.ts), which survives sites that
// strip text chunks, and a WebP carries it as JSON in EXIF UserComment, with Comment as an
// object (deepghs/imgutils test/metadata/test_geninfo.py, nai3_webp.webp). Field names as
// Diffusion Toolkit's ReadNovelAIParameters and stable-diffusion-prompt-reader's novelai.py read them.
import { isObj, MAX_PROMPT, num, parseJson, setParam, setSeed, str, type ImageMetadata, type Json, type Obj } from './values.ts';

/** A JSON dictionary of NovelAI's chunks (WebP UserComment, stealth) as the same texts. */
export function novelAIDictionary(j: Json | undefined): Map<string, string> | undefined {
  if (!isObj(j) || !/^NovelAI/i.test(String(j.Software ?? '')) || !('Comment' in j || 'Description' in j)) return undefined;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(j).slice(0, 50)) if (typeof v === 'string' || isObj(v)) out.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return out;
}

/** NovelAI's texts among an image's: its PNG chunks, or its EXIF UserComment dictionary. */
export function novelAITexts(t: Map<string, string>): Map<string, string> | undefined {
  if (/^NovelAI/i.test(t.get('Software') ?? '') && (t.has('Comment') || t.has('Description'))) return t;
  const comment = t.get('exif:UserComment');
  return comment?.trimStart().startsWith('{') && comment.includes('NovelAI') ? novelAIDictionary(parseJson(comment)) : undefined;
}

export function applyNovelAI(m: ImageMetadata, t: Map<string, string>): void {
  m.tool = 'novelai';
  const comment = parseJson(t.get('Comment'));
  const source = str(t.get('Source'), 300);
  if (source) {
    // "NovelAI Diffusion V4.5 4BDE2A90": the model, then its hash.
    const hash = /\s([0-9A-F]{8})$/i.exec(source);
    m.model = (hash ? source.slice(0, hash.index) : source).trim() || undefined;
    if (hash) setParam(m, 'model_hash', hash[1]);
  }
  m.prompt = str(t.get('Description'), MAX_PROMPT);
  setParam(m, 'generation_time', t.get('Generation time'));
  if (!isObj(comment)) {
    if (t.has('Comment')) m.warnings.push('The NovelAI Comment chunk is not valid JSON; it is kept as raw text.');
    return;
  }
  applyNovelAIRequest(m, comment);
}

/** The request dictionary of Comment. */
function applyNovelAIRequest(m: ImageMetadata, j: Obj): void {
  const v4 = (p: Json | undefined) => (isObj(p) && isObj(p.caption) ? str(p.caption.base_caption, MAX_PROMPT) : undefined);
  m.prompt = str(j.prompt, MAX_PROMPT) ?? v4(j.v4_prompt) ?? m.prompt;
  m.negativePrompt = str(j.uc, MAX_PROMPT) ?? v4(j.v4_negative_prompt);
  setSeed(m, j.seed);
  m.steps = num(j.steps);
  m.cfgScale = num(j.scale);
  m.sampler = str(j.sampler);
  m.scheduler = str(j.noise_schedule);
  m.width = num(j.width);
  m.height = num(j.height);
  for (const k of ['cfg_rescale', 'strength', 'noise', 'uncond_scale', 'sm', 'sm_dyn', 'request_type', 'n_samples', 'skip_cfg_above_sigma']) setParam(m, k, j[k]);
  if (isObj(j.v4_prompt) && isObj(j.v4_prompt.caption) && Array.isArray(j.v4_prompt.caption.char_captions)) {
    const chars = j.v4_prompt.caption.char_captions.map((c) => (isObj(c) ? str(c.char_caption, 2000) : undefined)).filter(Boolean);
    if (chars.length) setParam(m, 'character_prompts', chars.join(' | '));
  }
}
