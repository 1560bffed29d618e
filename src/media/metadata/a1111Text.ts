// A1111 / Forge text (src/media/a1111.ts parses it) into the metadata record. Many tools write
// this shape: A1111, Forge, Fooocus's "a1111" scheme, ComfyUI savers, the stealth extension.
import { parseA1111Parameters } from '../a1111.ts';
import { MAX_PROMPT, PARSE_LIMIT, setParam, setSeed, type ImageMetadata } from './values.ts';

export function applyA1111(m: ImageMetadata, text: string): void {
  const p = parseA1111Parameters(text.slice(0, PARSE_LIMIT));
  if (p.prompt) m.prompt = p.prompt.slice(0, MAX_PROMPT);
  if (p.negativePrompt) m.negativePrompt = p.negativePrompt.slice(0, MAX_PROMPT);
  if (p.steps !== undefined) m.steps = p.steps;
  if (p.cfgScale !== undefined) m.cfgScale = p.cfgScale;
  if (p.sampler) m.sampler = p.sampler.slice(0, 200);
  if (p.width && p.height) [m.width, m.height] = [p.width, p.height];
  if (p.model) m.model = p.model.slice(0, 300);
  setSeed(m, p.seed);
  for (const [k, v] of Object.entries(p.extra ?? {})) {
    if (k === 'Schedule type' || k === 'Scheduler') m.scheduler = String(v).slice(0, 200);
    else setParam(m, k, v);
  }
}

/** A1111 text has a settings line (Steps: …) or a negative prompt; other comments are not it. */
export function looksLikeA1111(text: string): boolean {
  return /(^|\n)\s*Steps: *\d+/.test(text) || /(^|\n)Negative prompt:/.test(text);
}
