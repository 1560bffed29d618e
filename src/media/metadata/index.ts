// Generation parameters embedded by other tools, read from an image's own metadata (and, when
// the image carries none, from the files some tools write beside it). One reader per tool, in
// this folder; here the order in which they are tried:
//
//   InvokeAI     invokeai_metadata, invokeai_graph, sd-metadata, Dream          invokeai.ts
//   NovelAI      Software "NovelAI" with Description / Comment / Source          novelai.ts
//   SwarmUI      sui_image_params (PNG parameters, EXIF UserComment or Model)    swarmui.ts
//   Fooocus      parameters + fooocus_scheme, EXIF UserComment + MakerNote,
//                Fooocus-MRE Comment JSON, RuinedFooocus JSON, log.html          fooocus.ts
//   ComfyUI      prompt / workflow chunks, EXIF Model/Make "prompt:"/"workflow:" comfyui.ts
//   Easy Diffusion  one chunk per key, or UserComment JSON, or .txt / .json      easyDiffusion.ts
//   Draw Things  XMP exif:UserComment JSON, CreatorTool "Draw Things"           drawThings.ts
//   Midjourney   Description "… Job ID: <uuid>", XMP DigImageGUID               midjourney.ts
//   A1111/Forge  PNG `parameters`, EXIF UserComment, a .txt beside the image     a1111Text.ts
//   stealth      A1111 or NovelAI text in the pixels' lowest bits (PNG)         stealth.ts
//
// Everything here is untrusted input. Nothing is evaluated, no path is built from it, every
// text is capped, graph walks are bounded, and nothing throws: a tool we cannot read yields
// `tool: 'unknown'` with the raw text kept and a warning saying why.
import type { PngChunk } from '../pngChunks.ts';
import { sniffMedia } from '../sniff.ts';
import { applyA1111, looksLikeA1111 } from './a1111Text.ts';
import { applyComfyGraph, comfyGraphTexts, toApiGraph, workflowToApi } from './comfyui.ts';
import { applyDrawThings, isDrawThings } from './drawThings.ts';
import { applyEasyDiffusion, easyDiffusionJson, easyDiffusionTextLines, isEasyDiffusion } from './easyDiffusion.ts';
import { applyFooocusJson, applyFooocusLog, fooocusLogEntry, isFooocusJson } from './fooocus.ts';
import { applyDream, applyInvokeGraph, applyInvokeMetadata, applySdMetadata } from './invokeai.ts';
import { applyMidjourney, isMidjourney } from './midjourney.ts';
import { applyNovelAI, novelAIDictionary, novelAITexts } from './novelai.ts';
import { pngStealthText } from './stealth.ts';
import { applySwarmUI, swarmJson } from './swarmui.ts';
import { collectTexts, keepRaw, XMP_KEY } from './texts.ts';
import { emptyMetadata, fillGaps, isObj, num, parseJson, setParam, type ImageMetadata, type Obj } from './values.ts';

export { RAW_TEXT_LIMIT, type ExactSeed, type ImageMetadata, type ImportTool, type ParamValue } from './values.ts';

export interface ReadOptions {
  /** The PNG's chunks, when the caller read them already (they are read once per import). */
  pngChunks?: PngChunk[];
}

/** The generation parameters embedded in an image by another tool. Never throws. */
export function readImageMetadata(bytes: Uint8Array, opts: ReadOptions = {}): ImageMetadata {
  const m = emptyMetadata();
  let texts: Map<string, string>;
  try {
    texts = collectTexts(bytes, m, opts.pngChunks);
  } catch (e) {
    m.warnings.push(`The metadata could not be read: ${e instanceof Error ? e.message : String(e)}`);
    return m;
  }
  interpret(m, texts);
  // Nothing in the texts: a PNG may hide its parameters in its pixels.
  if (m.tool === 'unknown' && sniffMedia(bytes)?.mediaType === 'image/png') {
    try {
      const hidden = opts.pngChunks ? pngStealthText(opts.pngChunks) : undefined;
      if (hidden) {
        texts.set(`stealth:${hidden.mode}`, hidden.text);
        interpretStealth(m, hidden.text, texts);
      }
    } catch (e) {
      m.warnings.push(`The hidden (stealth) parameters could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  keepRaw(m, texts);
  if (m.tool === 'unknown' && Object.keys(m.raw).length && !m.warnings.length) m.warnings.push(NOT_OURS);
  return m;
}

const NOT_OURS = 'The image has metadata, but not from a tool we read; it is kept as raw text.';

/** Files some tools write beside an image, for an image that carries nothing itself. */
export interface Companions {
  /** The image's own file name (Fooocus's log.html finds its row by it). */
  fileName: string;
  /** `<name>.txt`: A1111's "text file next to every image", or Easy Diffusion's txt. */
  txt?: string;
  /** `<name>.json`: Easy Diffusion's json. */
  json?: string;
  /** `log.html` of the image's folder (Fooocus). */
  fooocusLog?: string;
}

/** Read the companion files into `m` (an image whose own metadata gave nothing). */
export function readCompanionMetadata(m: ImageMetadata, c: Companions): void {
  try {
    const texts = new Map<string, string>();
    const row = c.fooocusLog ? fooocusLogEntry(c.fooocusLog, c.fileName) : undefined;
    if (row) {
      applyFooocusLog(m, row);
      texts.set('sidecar:log.html', [...row].map(([k, v]) => `${k}: ${v}`).join('\n'));
    } else if (c.json !== undefined) {
      const j = parseJson(c.json);
      const d = isObj(j) ? easyDiffusionJson(j) : undefined;
      if (d && isEasyDiffusion(d)) applyEasyDiffusion(m, d);
      texts.set('sidecar:json', c.json);
    }
    if (m.tool === 'unknown' && c.txt !== undefined) {
      const lines = easyDiffusionTextLines(c.txt);
      if (isEasyDiffusion(lines)) applyEasyDiffusion(m, lines);
      else if (looksLikeA1111(c.txt)) {
        m.tool = 'a1111';
        applyA1111(m, c.txt);
      }
      texts.set('sidecar:txt', c.txt);
    }
    if (m.tool !== 'unknown') {
      m.warnings = m.warnings.filter((w) => w !== NOT_OURS);
      keepRaw(m, texts);
    }
  } catch (e) {
    m.warnings.push(`The files beside the image could not be interpreted: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function interpret(m: ImageMetadata, texts: Map<string, string>): void {
  try {
    detect(m, texts);
    const score = num(texts.get('aesthetic_score') ?? texts.get('Score'));
    if (score !== undefined) setParam(m, 'aesthetic_score', score);
  } catch (e) {
    // A parser bug or a pathological input must never fail the import.
    Object.assign(m, emptyMetadata(), { warnings: [...m.warnings, `The metadata could not be interpreted: ${e instanceof Error ? e.message : String(e)}`] });
  }
}

/** Hidden text: A1111 parameters, or NovelAI's dictionary of its chunks. */
function interpretStealth(m: ImageMetadata, text: string, texts: Map<string, string>): void {
  const j = parseJson(text);
  const dict = novelAIDictionary(j);
  if (dict) {
    for (const [k, v] of dict) if (!texts.has(k)) texts.set(k, v);
    applyNovelAI(m, dict);
  } else if (isObj(j)) m.warnings.push('The hidden (stealth) parameters are JSON of a tool we do not know; they are kept as raw text.');
  else if (looksLikeA1111(text)) {
    m.tool = 'a1111';
    applyA1111(m, text);
  }
  setParam(m, 'stealth', true);
}

/** InvokeAI's JSON chunks, newest format first (1.x `Dream` is a command line, read apart). */
const INVOKE_JSON: [string, (m: ImageMetadata, j: Obj) => boolean | void][] = [
  ['invokeai_metadata', applyInvokeMetadata],
  ['invokeai_graph', applyInvokeGraph],
  ['sd-metadata', applySdMetadata],
];

function detect(m: ImageMetadata, t: Map<string, string>): void {
  const parameters = t.get('parameters');

  // InvokeAI, newest format first.
  for (const [key, apply] of INVOKE_JSON) {
    const text = t.get(key);
    if (text === undefined) continue;
    m.tool = 'invokeai';
    const j = parseJson(text);
    if (!isObj(j)) m.warnings.push(`The ${key} chunk is not valid JSON; it is kept as raw text.`);
    else if (apply(m, j) === false) m.warnings.push(`The ${key} chunk holds no generation we know; it is kept as raw text.`);
    else return;
  }
  const dream = t.get('Dream');
  if (dream !== undefined) {
    m.tool = 'invokeai';
    applyDream(m, dream.slice(0, 100_000));
    return;
  }
  if (m.tool === 'invokeai') return;

  const novelAI = novelAITexts(t);
  if (novelAI) return applyNovelAI(m, novelAI);

  const swarm = swarmJson(t);
  if (swarm) return applySwarmUI(m, swarm);

  // Fooocus (PNG: parameters + fooocus_scheme; JPEG/WebP: UserComment + MakerNote).
  const scheme = (t.get('fooocus_scheme') ?? t.get('exif:MakerNote'))?.trim().toLowerCase();
  const fooocusSoftware = /^Fooocus/i.test(t.get('exif:Software') ?? '') || /Version: "?Fooocus/i.test(parameters ?? t.get('exif:UserComment') ?? '');
  const fooocusText = parameters ?? t.get('exif:UserComment');
  if (fooocusText !== undefined && (scheme === 'fooocus' || scheme === 'a1111' || fooocusSoftware)) {
    const j = parseJson(fooocusText);
    if (isObj(j)) return applyFooocusJson(m, j);
    if (scheme === 'a1111' || fooocusSoftware || looksLikeA1111(fooocusText)) {
      m.tool = 'fooocus';
      applyA1111(m, fooocusText);
      return;
    }
  }

  // ComfyUI graphs (also when a saver node added A1111 text: that text wins, the graph fills gaps).
  const comfy = comfyGraphTexts(t);
  if (comfy) {
    m.tool = 'comfyui';
    const api = toApiGraph(parseJson(comfy.prompt));
    let read = api ? applyComfyGraph(m, api) : false;
    if (!read) {
      const wf = workflowToApi(parseJson(comfy.workflow));
      read = wf ? applyComfyGraph(m, wf) : false;
    }
    if (!read) m.warnings.push('No sampler was found in the ComfyUI graph; the graph is kept as raw text.');
    if (parameters !== undefined && looksLikeA1111(parameters)) {
      const fromGraph = { ...m, params: { ...m.params } };
      applyA1111(m, parameters);
      fillGaps(m, fromGraph);
    }
    return;
  }

  // Easy Diffusion: one PNG chunk per key, or its dictionary as JSON in UserComment.
  if (isEasyDiffusion(t)) return applyEasyDiffusion(m, t);
  const comment = t.get('exif:UserComment');
  const commentJson = comment?.startsWith('{') ? parseJson(comment) : undefined;
  if (isObj(commentJson)) {
    const d = easyDiffusionJson(commentJson);
    if (isEasyDiffusion(d)) return applyEasyDiffusion(m, d);
  }

  const xmp = t.get(XMP_KEY);
  if (isDrawThings(xmp)) return applyDrawThings(m, xmp);
  if (isMidjourney(t)) return applyMidjourney(m, t);

  // A JSON `parameters` without a scheme: Fooocus's own fallback treats a dict as its scheme,
  // and RuinedFooocus writes its own.
  if (parameters !== undefined) {
    const j = parseJson(parameters);
    if (isFooocusJson(j)) return applyFooocusJson(m, j);
    if (j !== undefined && typeof j !== 'string') {
      m.warnings.push('The parameters chunk holds JSON of a tool we do not know; it is kept as raw text.');
      return;
    }
    m.tool = 'a1111';
    applyA1111(m, parameters);
    return;
  }

  // JPEG / WebP: A1111 puts its text in UserComment.
  if (comment !== undefined) {
    if (isFooocusJson(commentJson)) return applyFooocusJson(m, commentJson);
    if (looksLikeA1111(comment)) {
      m.tool = 'a1111';
      applyA1111(m, comment);
      return;
    }
  }
  // Fooocus-MRE's Comment chunk, and older Fooocus's JPEG comment: JSON of its own.
  const com = parseJson(t.get('Comment') ?? t.get('comment') ?? t.get('jpeg:COM'));
  if (isFooocusJson(com)) return applyFooocusJson(m, com);
}
