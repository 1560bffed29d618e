// Just enough XMP (ISO 16684-1) for what image tools write: a property's text, whether written
// as an element (`<exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">…</rdf:li></rdf:Alt>`,
// `<xmp:CreatorTool>Draw Things</xmp:CreatorTool>`) or as an attribute of rdf:Description
// (`iptcExt:DigImageGUID="…"`, as Midjourney writes). No XML parser: a bounded scan by name,
// entities decoded, nothing evaluated (no DTD, no external entity can apply).

const MAX_XMP = 1024 * 1024;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXmlText(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/gi, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : m;
  });
}

const escapeName = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The text of property `name` (e.g. "exif:UserComment"): the first rdf:li of an Alt/Seq/Bag,
 * else the element's own text, else an attribute of that name. Undefined when absent. */
export function xmpProperty(xmp: string, name: string): string | undefined {
  const x = xmp.length > MAX_XMP ? xmp.slice(0, MAX_XMP) : xmp;
  const n = escapeName(name);
  const element = new RegExp(`<${n}(?:\\s[^>]*)?>([\\s\\S]*?)</${n}>`).exec(x);
  if (element) {
    const inner = element[1];
    const li = /<rdf:li(?:\s[^>]*)?>([\s\S]*?)<\/rdf:li>/.exec(inner);
    return decodeXmlText((li ? li[1] : inner.replace(/<[^>]*>/g, '')).trim());
  }
  const attribute = new RegExp(`\\s${n}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(x);
  return attribute ? decodeXmlText(attribute[1] ?? attribute[2]) : undefined;
}
