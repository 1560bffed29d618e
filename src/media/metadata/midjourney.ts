// Midjourney. Images saved from its website carry the prompt, its parameters and the job id in
// one text: PNG tEXt "Description" (JPEG/WebP: EXIF ImageDescription), e.g. "a lighthouse at
// dusk --ar 2:1 --stylize 80 --v 6 Job ID: a7421d2f-b262-44f9-977c-ac23e9c7d3e3", with the
// user in "Author" (EXIF Artist) and an XMP packet whose rdf:Description has
// iptcExt:DigImageGUID (the job id again) and iptcExt:DigitalSourceType
// (…/trainedAlgorithmicMedia).
import { xmpProperty } from './xmp.ts';
import { MAX_PROMPT, setParam, setSeed, type ImageMetadata } from './values.ts';
import { XMP_KEY } from './texts.ts';

const JOB = /\s*Job ID:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*$/i;

function description(t: Map<string, string>): string | undefined {
  return t.get('Description') ?? t.get('exif:ImageDescription');
}

export function isMidjourney(t: Map<string, string>): boolean {
  const d = description(t);
  if (d && JOB.test(d)) return true;
  const xmp = t.get(XMP_KEY);
  return !!xmp && !!d && /trainedAlgorithmicMedia/.test(xmp) && !!xmpProperty(xmp, 'iptcExt:DigImageGUID') && / --(v|niji|ar)\b/.test(d);
}

export function applyMidjourney(m: ImageMetadata, t: Map<string, string>): void {
  m.tool = 'midjourney';
  let text = description(t) ?? '';
  const job = JOB.exec(text);
  if (job) text = text.slice(0, job.index);
  const jobId = job?.[1] ?? xmpProperty(t.get(XMP_KEY) ?? '', 'iptcExt:DigImageGUID');
  if (jobId) setParam(m, 'job_id', jobId.slice(0, 100));
  const first = text.search(/\s--[a-z]/i);
  m.prompt = (first >= 0 ? text.slice(0, first) : text).trim().slice(0, MAX_PROMPT) || undefined;
  const version: string[] = [];
  // Parameters: --name value (or a bare --flag), each kept; --no is the negative prompt.
  for (const token of (first >= 0 ? text.slice(first) : '').split(/\s--(?=[a-z])/i).slice(1, 50)) {
    const space = token.search(/\s/);
    const name = (space < 0 ? token : token.slice(0, space)).toLowerCase();
    const value: string | true = space < 0 ? true : token.slice(space).trim() || true;
    if (name === 'no' && typeof value === 'string') m.negativePrompt = value.slice(0, MAX_PROMPT);
    else if (name === 'seed') setSeed(m, value);
    else if (name === 'v' || name === 'version') version.push(`v${value}`);
    else if (name === 'niji') version.push(`niji${value === true ? '' : ` ${value}`}`);
    else setParam(m, name === 'ar' || name === 'aspect' ? 'aspect_ratio' : name, value);
  }
  m.model = `Midjourney${version.length ? ` ${version.join(' ')}` : ''}`;
  setParam(m, 'author', t.get('Author') ?? t.get('exif:Artist'));
  setParam(m, 'created', t.get('Creation Time'));
}
