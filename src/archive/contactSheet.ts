// Contact sheets: one image of many products, each with a caption (prompt excerpt, seed, the
// parameter values that differ). When the products vary exactly two input fields and fill
// that grid exactly once (a sweep of two axes), they are laid out rows × columns by those
// fields, with the values as axis labels; otherwise as a plain grid.
//
// Images are composited with sharp; all text is one SVG rendered by sharp (librsvg), built
// from escaped, control-character-free text only. The output is bounded: at most MAX_ITEMS
// products, at most `maxSide` pixels a side and MAX_PIXELS in all (cells shrink to fit).
import { requireSharp } from '../media/sharp.ts';
import { THUMB_SIZES } from '../media/thumbnails.ts';
import { layoutOf, ProjectPaths } from '../storage/productPaths.ts';
import type { JobRecord, ProductRecord, ProjectDb } from '../storage/types.ts';

export interface SheetItem {
  projectDir: string;
  product: ProductRecord;
}

export interface ContactSheetOptions {
  format?: 'png' | 'jpeg';
  /** A heading (e.g. the batch's parameter file); prompt text shared by all items is added. */
  title?: string;
  /** Preferred cell size in pixels (default 256); shrinks to fit the bounds. */
  cellSize?: number;
  /** Longest side of the sheet (default 8000). */
  maxSide?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface ContactSheet {
  bytes: Buffer;
  mediaType: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
  layout: 'axes' | 'grid';
  axes?: { rows: string; columns: string };
  /** The input fields whose values differ between the items. */
  varying: string[];
  included: number;
  leftOut: number;
  /** Where each product's image is on the sheet (a square of `size` pixels). */
  cells: { productId: string; x: number; y: number; size: number }[];
}

export const MAX_ITEMS = 400;
const MAX_PIXELS = 48_000_000;
const MIN_CELL = 48;
const GAP = 8;
const PAD = 16;
const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';
const BG = '#ffffff';

/** Text safe inside SVG: XML-escaped, without characters XML 1.0 forbids, on one line. */
export function svgText(s: string): string {
  return s
    .replace(/[\r\n\t]+/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f\ufffe\uffff]/g, '')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Cut to about `chars` characters (by code point), with an ellipsis. */
function fit(s: string, chars: number): string {
  const cps = [...s.replace(/\s+/g, ' ').trim()];
  if (cps.length <= chars) return cps.join('');
  return `${cps.slice(0, Math.max(1, chars - 1)).join('')}…`;
}

function repr(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? String(v);
}

/** The input fields whose values differ between the products, in first-seen order. */
export function varyingFields(products: ProductRecord[]): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const p of products) {
    for (const k of Object.keys(p.input ?? {})) {
      if (seen.has(k)) continue;
      seen.add(k);
      keys.push(k);
    }
  }
  return keys.filter((k) => new Set(products.map((p) => repr(p.input?.[k]))).size > 1);
}

function orderedValues(products: ProductRecord[], key: string): string[] {
  const values: unknown[] = [];
  const seen = new Set<string>();
  for (const p of products) {
    const r = repr(p.input?.[key]);
    if (seen.has(r)) continue;
    seen.add(r);
    values.push(p.input?.[key]);
  }
  if (values.every((v) => typeof v === 'number')) (values as number[]).sort((a, b) => a - b);
  return values.map(repr);
}

/** Two varying fields that place every product in its own cell of a full rows × columns grid. */
export function sweepAxes(products: ProductRecord[], varying = varyingFields(products)): { rows: string; columns: string; rowValues: string[]; columnValues: string[] } | undefined {
  if (varying.length !== 2) return undefined;
  let [a, b] = varying.map((k) => ({ key: k, values: orderedValues(products, k) }));
  // Screens are wide: the field with more values runs across.
  if (a.values.length > b.values.length) [a, b] = [b, a];
  if (a.values.length * b.values.length !== products.length) return undefined;
  const cells = new Set(products.map((p) => `${repr(p.input?.[a.key])}\u0000${repr(p.input?.[b.key])}`));
  if (cells.size !== products.length) return undefined;
  return { rows: a.key, columns: b.key, rowValues: a.values, columnValues: b.values };
}

/** The products of one Generate (jobs sharing `batchId`), in submission order. */
export async function batchProducts(db: ProjectDb, batchId: string): Promise<ProductRecord[]> {
  const jobs = (await db.listJobs({ limit: 100_000 })).filter((j) => j.batchId === batchId).reverse();
  // Asked together: the worker queues them, so the round trips overlap instead of adding up.
  const products = await Promise.all(jobs.flatMap((j) => j.productIds).map((id) => db.getProduct(id)));
  return products.filter((p): p is ProductRecord => p !== undefined);
}

export interface BatchSummary {
  batchId: string;
  jobs: number;
  products: number;
  createdAt: string;
  model: string;
  sourceFile?: string;
}

/** Recent batches with at least two products, newest first. */
export async function recentBatches(db: ProjectDb, limit = 50): Promise<BatchSummary[]> {
  const byBatch = new Map<string, JobRecord[]>();
  for (const j of await db.listJobs({ states: ['succeeded'], limit: 20_000 })) {
    if (!j.batchId) continue;
    const list = byBatch.get(j.batchId) ?? [];
    list.push(j);
    byBatch.set(j.batchId, list);
  }
  const out: BatchSummary[] = [];
  for (const [batchId, jobs] of byBatch) {
    const products = jobs.reduce((n, j) => n + j.productIds.length, 0);
    if (products < 2) continue;
    out.push({ batchId, jobs: jobs.length, products, createdAt: jobs[jobs.length - 1].createdAt, model: jobs[0].model, sourceFile: jobs[0].sourceFile });
    if (out.length >= limit) break;
  }
  return out;
}

interface Cell {
  item: SheetItem;
  x: number;
  y: number;
}

/** Render the sheet. Missing or unreadable files get a labelled empty cell, never an error. */
export async function makeContactSheet(allItems: SheetItem[], opts: ContactSheetOptions = {}): Promise<ContactSheet> {
  if (allItems.length === 0) throw new Error('Nothing to put on a contact sheet: select at least one product.');
  const sharp = await requireSharp('Making contact sheets');
  const items = allItems.slice(0, MAX_ITEMS);
  const products = items.map((i) => i.product);
  const varying = varyingFields(products);
  const axes = sweepAxes(products, varying);
  const maxSide = Math.max(512, Math.min(opts.maxSide ?? 8000, 16_000));
  const font = 13;
  const lineH = Math.round(font * 1.35);

  // What every item shares goes in the heading; captions carry what differs.
  const prompts = new Set(products.map((p) => p.prompt ?? ''));
  const sharedPrompt = prompts.size === 1 ? [...prompts][0] : undefined;
  const captionFields = varying.filter((k) => k !== 'prompt' && k !== 'seed' && k !== axes?.rows && k !== axes?.columns).slice(0, 4);
  const promptLine = sharedPrompt === undefined && axes?.rows !== 'prompt' && axes?.columns !== 'prompt';
  const seedLine = axes?.rows !== 'seed' && axes?.columns !== 'seed';
  const captionLines = (promptLine ? 1 : 0) + (seedLine ? 1 : 0) + (captionFields.length ? 1 : 0);

  const cols = axes ? axes.columnValues.length : Math.max(1, Math.ceil(Math.sqrt(items.length * 1.5)));
  const rows = axes ? axes.rowValues.length : Math.ceil(items.length / cols);
  const rowLabelW = axes ? 160 : 0;
  const headerLines = (opts.title ? 1 : 0) + (sharedPrompt ? 1 : 0) + (axes ? 1 : 0) + (allItems.length > items.length ? 1 : 0);
  const headerH = headerLines * (lineH + 4) + (headerLines ? PAD / 2 : 0);
  const colLabelH = axes ? lineH * 2 + 4 : 0;
  const captionH = captionLines * lineH + 6;

  // The largest cell (up to the preferred size) that keeps the sheet within bounds.
  let cell = Math.max(MIN_CELL, Math.round(opts.cellSize ?? 256));
  const size = (c: number) => ({
    width: PAD * 2 + rowLabelW + cols * (c + GAP) - GAP,
    height: PAD * 2 + headerH + colLabelH + rows * (c + captionH + GAP) - GAP,
  });
  while (cell > MIN_CELL) {
    const s = size(cell);
    if (s.width <= maxSide && s.height <= maxSide && s.width * s.height <= MAX_PIXELS) break;
    cell = Math.max(MIN_CELL, Math.floor(cell * 0.9));
  }
  const { width, height } = size(cell);
  const charsPerLine = Math.max(6, Math.floor(cell / (font * 0.58)));

  const gridTop = PAD + headerH + colLabelH;
  const gridLeft = PAD + rowLabelW;
  const cells: Cell[] = items.map((item, i) => {
    let r = Math.floor(i / cols);
    let c = i % cols;
    if (axes) {
      r = axes.rowValues.indexOf(repr(item.product.input?.[axes.rows]));
      c = axes.columnValues.indexOf(repr(item.product.input?.[axes.columns]));
    }
    return { item, x: gridLeft + c * (cell + GAP), y: gridTop + r * (cell + captionH + GAP) };
  });

  // Text: one SVG over the whole sheet.
  const text: string[] = [];
  const t = (x: number, y: number, s: string, o: { size?: number; weight?: string; fill?: string; anchor?: string } = {}) =>
    text.push(`<text x="${x}" y="${y}" font-family="${FONT}" font-size="${o.size ?? font}" font-weight="${o.weight ?? 'normal'}" fill="${o.fill ?? '#222222'}" text-anchor="${o.anchor ?? 'start'}">${svgText(s)}</text>`);
  let hy = PAD + lineH;
  const headChars = Math.floor((width - PAD * 2) / (font * 0.6));
  const heading = (s: string, o: Parameters<typeof t>[3] = {}) => {
    t(PAD, hy, fit(s, headChars), o);
    hy += lineH + 4;
  };
  if (opts.title) heading(opts.title, { size: font + 2, weight: 'bold' });
  if (sharedPrompt) heading(sharedPrompt);
  if (axes) heading(`Rows: ${axes.rows}   ·   Columns: ${axes.columns}`, { fill: '#555555' });
  if (allItems.length > items.length) heading(`Showing the first ${items.length} of ${allItems.length} products.`, { fill: '#a1260d' });
  if (axes) {
    axes.columnValues.forEach((v, c) => {
      const x = gridLeft + c * (cell + GAP) + cell / 2;
      t(x, gridTop - colLabelH + lineH, fit(axes.columns, charsPerLine), { fill: '#555555', anchor: 'middle', size: font - 1 });
      t(x, gridTop - colLabelH + lineH * 2, fit(v, charsPerLine), { weight: 'bold', anchor: 'middle' });
    });
    const labelChars = Math.floor((rowLabelW - 8) / (font * 0.6));
    axes.rowValues.forEach((v, r) => {
      const y = gridTop + r * (cell + captionH + GAP) + cell / 2;
      t(PAD, y - lineH / 2, fit(axes.rows, labelChars), { fill: '#555555', size: font - 1 });
      t(PAD, y + lineH / 2, fit(v, labelChars), { weight: 'bold' });
    });
  }
  for (const c of cells) {
    const p = c.item.product;
    let y = c.y + cell + lineH;
    if (promptLine) {
      t(c.x, y, fit(p.prompt || p.model, charsPerLine));
      y += lineH;
    }
    if (seedLine) {
      const seed = p.seed ?? p.input?.seed;
      t(c.x, y, fit(seed === undefined ? p.model : `seed ${repr(seed)}`, charsPerLine), { fill: '#555555' });
      y += lineH;
    }
    if (captionFields.length) t(c.x, y, fit(captionFields.map((k) => `${k} ${repr(p.input?.[k])}`).join(' · '), charsPerLine), { fill: '#555555' });
  }

  // Images, resized into their cells (the large thumbnail when there is one: faster).
  const composites: { input: Buffer; left: number; top: number }[] = [];
  const placeholders: string[] = [];
  for (const [i, c] of cells.entries()) {
    if (opts.signal?.aborted) throw new Error('Contact sheet canceled.');
    const buf = await tile(sharp, c.item, cell);
    if (buf) composites.push({ input: buf, left: c.x, top: c.y });
    else {
      placeholders.push(`<rect x="${c.x}" y="${c.y}" width="${cell}" height="${cell}" fill="#eeeeee" stroke="#cccccc"/>`);
      t(c.x + cell / 2, c.y + cell / 2, c.item.product.kind === 'image' ? 'file missing' : c.item.product.kind, { fill: '#777777', anchor: 'middle' });
    }
    opts.onProgress?.(i + 1, cells.length);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${placeholders.join('')}${text.join('')}</svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const base = sharp({ create: { width, height, channels: 3, background: BG }, limitInputPixels: MAX_PIXELS + 1 }).composite(composites);
  const format = opts.format ?? 'png';
  const bytes = format === 'jpeg' ? await base.jpeg({ quality: 88, mozjpeg: true }).toBuffer() : await base.png({ compressionLevel: 6 }).toBuffer();
  return {
    bytes,
    mediaType: format === 'jpeg' ? 'image/jpeg' : 'image/png',
    width,
    height,
    layout: axes ? 'axes' : 'grid',
    axes: axes ? { rows: axes.rows, columns: axes.columns } : undefined,
    varying,
    included: items.length,
    leftOut: allItems.length - items.length,
    cells: cells.map((c) => ({ productId: c.item.product.id, x: c.x, y: c.y, size: cell })),
  };
}

async function tile(sharp: typeof import('sharp'), item: SheetItem, cell: number): Promise<Buffer | undefined> {
  const p = item.product;
  if (p.kind !== 'image') return undefined;
  try {
    // Under the project path rule: a product whose files are refused has an empty cell.
    const layout = layoutOf(p);
    const paths = new ProjectPaths(item.projectDir);
    const thumb = cell <= THUMB_SIZES.large ? paths.resolveSync(layout.thumbs.large, '.artfactory') : undefined;
    const source = thumb?.stat ? thumb.abs : await paths.readFile(layout.file, 'products');
    return await sharp(source, { failOn: 'none' })
      .rotate()
      .resize(cell, cell, { fit: 'contain', background: BG })
      .flatten({ background: BG })
      .png({ compressionLevel: 1 })
      .toBuffer();
  } catch {
    return undefined;
  }
}
