// Every text an image carries, read once into one map: PNG text chunks by keyword (tEXt, zTXt,
// iTXt), EXIF fields as `exif:<Field>`, a JPEG comment as `jpeg:COM`, and the XMP packet as
// `XML:com.adobe.xmp` (the keyword PNG uses for it, so the readers need not care where it was).
// The readers in this folder work from this map only.
import { readExifText } from '../exif.ts';
import { readPngTextChunks, type PngChunk } from '../pngChunks.ts';
import { sniffMedia } from '../sniff.ts';
import { isUnsafeKey, RAW_TEXT_LIMIT, RAW_TOTAL_LIMIT, type ImageMetadata } from './values.ts';

export const XMP_KEY = 'XML:com.adobe.xmp';

/** Keywords that generators write; other chunks (dates, camera tags) are not kept raw. */
const KNOWN_KEYS = new Set([
  'parameters', 'prompt', 'workflow', 'invokeai_metadata', 'invokeai_graph', 'invokeai_workflow', 'sd-metadata', 'Dream', 'fooocus_scheme', 'artfactory',
  'Comment', 'comment', 'Software', 'Description', 'Source', 'Generation time', 'negative_prompt', 'Negative Prompt', 'seed', 'Seed',
  'use_stable_diffusion_model', 'Stable Diffusion model', 'num_inference_steps', 'guidance_scale', 'sampler_name', 'aesthetic_score', 'Score',
]);
/** Kept only when they named the tool: a photo's XMP or a PNG's Title/Author is not a generator's. */
const KEPT_WHEN_READ: Partial<Record<ImageMetadata['tool'], string[]>> = { drawthings: [XMP_KEY], midjourney: [XMP_KEY, 'Author', 'Creation Time', 'exif:Artist'], novelai: ['Title'] };

export function collectTexts(bytes: Uint8Array, m: ImageMetadata, pngChunks?: PngChunk[]): Map<string, string> {
  const texts = new Map<string, string>();
  const type = sniffMedia(bytes)?.mediaType;
  if (type === 'image/png') {
    let chunks: { keyword: string; text: string }[] = [];
    try {
      chunks = readPngTextChunks(pngChunks ?? bytes);
    } catch (e) {
      m.warnings.push(`The PNG text chunks could not be read: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const c of chunks.slice(0, 200)) if (!texts.has(c.keyword)) texts.set(c.keyword, c.text);
  }
  const exif = readExifText(bytes, pngChunks);
  const fields: [string, string | undefined][] = [
    ['exif:UserComment', exif.userComment],
    ['exif:MakerNote', exif.makerNote],
    ['exif:Software', exif.software],
    ['exif:ImageDescription', exif.imageDescription],
    ['exif:Artist', exif.artist],
    ['exif:Make', exif.make],
    ['exif:Model', exif.model],
    ['jpeg:COM', exif.jpegComment],
  ];
  for (const [k, v] of fields) if (v) texts.set(k, v);
  if (exif.xmp && !texts.has(XMP_KEY)) texts.set(XMP_KEY, exif.xmp);
  return texts;
}

/** The texts a generator wrote, capped, into `m.raw` (once `m.tool` is known). */
export function keepRaw(m: ImageMetadata, texts: Map<string, string>): void {
  let total = 0;
  const extra = KEPT_WHEN_READ[m.tool] ?? [];
  for (const [k, v] of texts) {
    if (k === XMP_KEY || k === 'exif:Artist' ? !extra.includes(k) : !KNOWN_KEYS.has(k) && !extra.includes(k) && !k.startsWith('exif:') && !k.startsWith('jpeg:') && !k.startsWith('sidecar:') && !k.startsWith('stealth:') && !/prompt|param|workflow|metadata|comment/i.test(k)) continue;
    if (isUnsafeKey(k)) continue;
    const room = Math.min(RAW_TEXT_LIMIT, RAW_TOTAL_LIMIT - total);
    if (room <= 0) {
      m.rawTruncated = true;
      break;
    }
    const kept = v.length > room ? v.slice(0, room) : v;
    if (kept.length < v.length) m.rawTruncated = true;
    m.raw[k.slice(0, 80)] = kept;
    total += kept.length;
  }
}
