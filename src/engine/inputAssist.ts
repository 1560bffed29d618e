// IntelliSense for image fields of parameter files, free of `vscode` (the extension adapts it):
// where the cursor is in an image value, completion items for the project's recent products
// (`product:<id>`, their prompt as detail) and image files near the parameter file, and the
// hover text of a `product:<id>` reference.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { getLocation, parse } from 'jsonc-parser';
import type { ProductRecord } from '../storage/types.ts';
import { PRODUCT_PREFIX } from './imageInputs.ts';

/** The provider and model a (possibly half-typed) parameter file names. */
export function paramFileModel(text: string): { provider?: string; model?: string } {
  const v: unknown = parse(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  const o = v as Record<string, unknown>;
  return { provider: typeof o.provider === 'string' ? o.provider : undefined, model: typeof o.model === 'string' ? o.model : undefined };
}

/** Where an image value is edited: the model's field, and the text range a completion replaces. */
export interface ImageSite {
  field: string;
  /** Offsets of the string's content without its quotes, or of the cursor when no string is there yet. */
  start: number;
  end: number;
  /** Inside a string literal (completions insert bare text) or not (they insert a quoted string). */
  quoted: boolean;
  /** The string's content so far. */
  value: string;
  /** A whole value of a list field is expected here (a bare `"image_urls": |`). */
  wantsList: boolean;
}

/** The image value at `offset`, when the cursor is in one: `input.<field>`, an element of a list
 * field, or a sweep value of an image field. */
export function imageSiteAt(text: string, offset: number, fields: string[], listFields: string[] = []): ImageSite | undefined {
  const loc = getLocation(text, offset);
  if (loc.isAtPropertyKey) return undefined;
  const p = loc.path;
  const field = typeof p[1] === 'string' ? p[1] : undefined;
  if (!field || !fields.includes(field)) return undefined;
  const inInput = p[0] === 'input' && (p.length === 2 || (p.length === 3 && typeof p[2] === 'number'));
  const inSweep = p[0] === 'sweep' && (p.length === 3 || p.length === 4) && p.slice(2).every((x) => typeof x === 'number');
  if (!inInput && !inSweep) return undefined;
  const node = loc.previousNode;
  if (node?.type === 'string' && offset > node.offset && offset <= node.offset + node.length) {
    const closed = node.length >= 2 && text[node.offset + node.length - 1] === '"';
    const end = node.offset + node.length - (closed ? 1 : 0);
    if (closed && offset > end) return undefined; // after the closing quote
    return { field, start: node.offset + 1, end, quoted: true, value: String(node.value ?? ''), wantsList: false };
  }
  if (node) return undefined; // on a number, a literal, …
  return { field, start: offset, end: offset, quoted: false, value: '', wantsList: inInput && p.length === 2 && listFields.includes(field) };
}

/** The `product:<id>` string at `offset`, with the offsets of the whole string literal. */
export function productRefAt(text: string, offset: number): { id: string; start: number; end: number } | undefined {
  const node = getLocation(text, offset).previousNode;
  if (node?.type !== 'string' || offset < node.offset || offset > node.offset + node.length) return undefined;
  const v = String(node.value ?? '').trim();
  if (!v.startsWith(PRODUCT_PREFIX)) return undefined;
  const id = v.slice(PRODUCT_PREFIX.length).trim();
  return /^[\w-]{1,80}$/.test(id) ? { id, start: node.offset, end: node.offset + node.length } : undefined;
}

export interface AssistItem {
  label: string;
  /** The value to put in (bare; the caller quotes it when the site is not inside a string). */
  value: string;
  /** What completion matches the typed text against: the reference and the prompt. */
  filterText: string;
  detail: string;
  /** Markdown. */
  documentation?: string;
  kind: 'product' | 'file';
  sortText: string;
}

function oneLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Markdown that shows a product: its prompt, size, model and date, and its picture when given. */
export function productMarkdown(p: ProductRecord, imageUri?: string): string {
  const esc = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
  const lines = [`**${esc(oneLine(p.prompt || `${p.model} output`, 300))}**`, ''];
  lines.push(`${p.width && p.height ? `${p.width} × ${p.height} · ` : ''}${esc(p.provider)} · ${esc(p.model)} · ${esc(new Date(p.createdAt).toLocaleString())}`);
  if (imageUri) lines.push('', `![${esc(oneLine(p.prompt ?? p.id, 60))}](${imageUri.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}|width=192)`);
  return lines.join('\n');
}

/** Completion items for products (newest first): images only, since image fields take images. */
export function productItems(products: ProductRecord[], imageUri?: (p: ProductRecord) => string | undefined): AssistItem[] {
  return products
    .filter((p) => p.kind === 'image')
    .map((p, i) => ({
      label: `${PRODUCT_PREFIX}${p.id}`,
      value: `${PRODUCT_PREFIX}${p.id}`,
      filterText: `${PRODUCT_PREFIX}${p.id} ${oneLine(p.prompt ?? '', 200)}`,
      detail: oneLine(p.prompt || `${p.provider} ${p.model}`, 80),
      documentation: productMarkdown(p, imageUri?.(p)),
      kind: 'product' as const,
      sortText: `0-${String(i).padStart(4, '0')}`,
    }));
}

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|avif)$/i;
/** Folders never offered: products are offered as product: references; the rest is ours or tools'. */
const SKIP = new Set(['products', '.artfactory', 'node_modules', '.git']);

/** Image files near a parameter file: in its folder and the project's, two levels down, newest
 * first, as paths relative to the parameter file. */
export async function nearbyImageFiles(paramFileDir: string, projectDir: string | undefined, limit = 100): Promise<{ rel: string; abs: string; mtimeMs: number; size: number }[]> {
  const found = new Map<string, { rel: string; abs: string; mtimeMs: number; size: number }>();
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (found.size >= limit * 5) return;
      const abs = path.join(dir, e.name);
      if (e.isDirectory() && depth > 0 && !SKIP.has(e.name) && !e.name.startsWith('.')) await walk(abs, depth - 1);
      else if (e.isFile() && IMAGE_EXT.test(e.name) && !found.has(abs)) {
        const st = await fs.stat(abs).catch(() => undefined);
        if (!st) continue;
        const rel = path.relative(paramFileDir, abs).split(path.sep).join('/');
        found.set(abs, { rel: rel.startsWith('.') ? rel : `./${rel}`, abs, mtimeMs: st.mtimeMs, size: st.size });
      }
    }
  };
  await walk(paramFileDir, 2);
  if (projectDir && path.resolve(projectDir) !== path.resolve(paramFileDir)) await walk(projectDir, 2);
  return [...found.values()].sort((a, b) => b.mtimeMs - a.mtimeMs || a.rel.localeCompare(b.rel)).slice(0, limit);
}

/** Completion items for image files (after the products). */
export function fileItems(files: { rel: string; size: number }[]): AssistItem[] {
  return files.map((f, i) => ({
    label: f.rel,
    value: f.rel,
    filterText: f.rel,
    detail: `image file, ${f.size < 1024 * 1024 ? `${Math.max(1, Math.round(f.size / 1024))} KB` : `${(f.size / 1024 / 1024).toFixed(1)} MB`}`,
    kind: 'file' as const,
    sortText: `1-${String(i).padStart(4, '0')}`,
  }));
}

/** The text to insert for an item at a site: bare inside a string, else a JSON string (in a
 * list when the field takes a list). */
export function insertionFor(site: ImageSite, value: string): string {
  if (site.quoted) return value;
  return site.wantsList ? `[${JSON.stringify(value)}]` : JSON.stringify(value);
}
