// Image inputs. Every field a model marks as an image input (its ModelInfo's `imageFields`, and
// those its schema's field names show) takes, besides an https URL or a data: URI (sent
// unchanged):
//   - a path, relative to the parameter file or absolute;
//   - `product:<id>`, a product of the same project.
// Before anything is sent the image is checked (a regular file within the size limit, an image
// by its magic bytes, decoding completely) and a problem is reported at its field. Just before
// submission the engine reads it again and hands the bytes to the provider (uploads.ts); the
// job keeps the user's reference, the product records its lineage (`ProductInput`).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDownloaded, MediaError, sniffMedia } from '../media/sniff.ts';
import { describeFromSchema } from '../providers/schema.ts';
import type { JsonSchema, ModelInfo } from '../providers/types.ts';
import { projectFile } from '../storage/project.ts';
import { layoutOf, ProjectPaths } from '../storage/productPaths.ts';
import type { ProductInput, ProductRecord, ProjectDb } from '../storage/types.ts';
import { diagnosticAt, type Diagnostic, type ParamFileEnvelope, type ParsedParamFile } from './paramFile.ts';

export const PRODUCT_PREFIX = 'product:';
export const DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024;
const PRODUCT_ID = /^[\w-]{1,80}$/;

export type ImageValueKind = 'url' | 'data' | 'product' | 'path';

/** What an image field's value is: sent unchanged (url, data) or resolved here (product, path). */
export function imageValueKind(value: string): ImageValueKind | undefined {
  const v = value.trim();
  if (!v) return undefined;
  if (v.startsWith(PRODUCT_PREFIX)) return 'product';
  if (/^data:/i.test(v)) return 'data';
  if (/^file:\/\//i.test(v)) return 'path';
  // https, and any other scheme (gs://, s3://): the provider judges those.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return 'url';
  return 'path';
}

/** One image value: where it sits and what lineage calls its field. */
export interface ImageRef {
  /** Its path in the parameter file (['input', 'image_urls', 1], ['sweep', 'image_url', 0]) or
   * in a job's input (['image_urls', 1]). */
  at: (string | number)[];
  /** The field as lineage names it: `image_url`, `image_urls.1`. */
  field: string;
  value: string;
  kind: ImageValueKind;
}

/** The model's image fields: those its ModelInfo names and those its schema's names show. */
export function imageFieldsOf(info: Pick<ModelInfo, 'imageFields'> | undefined, schema: JsonSchema | undefined): string[] {
  const fields = new Set(info?.imageFields ?? []);
  if (schema) for (const f of describeFromSchema('', '', schema).imageFields ?? []) fields.add(f);
  return [...fields];
}

function refsOfValue(value: unknown, at: (string | number)[], field: string, out: ImageRef[]): void {
  const one = (v: unknown, where: (string | number)[], name: string) => {
    const kind = typeof v === 'string' ? imageValueKind(v) : undefined;
    if (kind) out.push({ at: where, field: name, value: (v as string).trim(), kind });
  };
  if (Array.isArray(value)) value.forEach((v, i) => one(v, [...at, i], `${field}.${i}`));
  else one(value, at, field);
}

/** The image values of an input object (a job's input). */
export function imageRefsOf(input: Record<string, unknown>, fields: string[], at: (string | number)[] = []): ImageRef[] {
  const out: ImageRef[] = [];
  for (const f of fields) if (Object.hasOwn(input, f)) refsOfValue(input[f], [...at, f], f, out);
  return out;
}

/** The image values of a parameter file: its input and the values its sweep gives image fields. */
export function paramFileImageRefs(f: Pick<ParamFileEnvelope, 'input' | 'sweep'>, fields: string[]): ImageRef[] {
  const out = imageRefsOf(f.input, fields, ['input']);
  for (const [field, values] of Object.entries(f.sweep ?? {})) {
    if (fields.includes(field)) values.forEach((v, i) => refsOfValue(v, ['sweep', field, i], field, out));
  }
  return out;
}

/** An image input that cannot be used; `message` says why and what to do. */
export class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
  constructor(
    readonly ref: ImageRef,
    message: string,
  ) {
    super(message);
  }
}

export interface LoadedImage {
  bytes: Uint8Array;
  sha256: string;
  mediaType: string;
  width?: number;
  height?: number;
  /** The product it is, when it is one (a `product:` reference or the path of a product file). */
  product: ProductRecord | undefined;
}

export interface ImageSourceOptions {
  projectDir: string;
  /** The project database, for `product:` references (opened only when one is used). */
  db?: () => Promise<ProjectDb>;
  maxBytes?: number;
  /** Where the user raises the limit (a setting's name), for the too-large message. */
  limitHint?: string;
}

function megabytes(n: number): string {
  const mb = n / 1024 / 1024;
  return `${mb >= 10 ? Math.round(mb) : mb.toFixed(1)} MB`;
}

/** Reads and checks image inputs of one project. A file that did not change (same size and
 * modification time) is not decoded again, so live checks while typing stay cheap. */
export class ImageSource {
  /** What each file was when last read: size and time, its hash, and what it is (or why it is no image). */
  private readonly verified = new Map<string, { stamp: string; sha256: string; media?: { mediaType: string; width?: number; height?: number }; problem?: string }>();
  readonly maxBytes: number;

  constructor(private readonly o: ImageSourceOptions) {
    this.maxBytes = o.maxBytes ?? DEFAULT_MAX_INPUT_BYTES;
  }

  /** The file a reference names (absolute), and the product when it is one. Throws ImageInputError. */
  async locate(ref: ImageRef, baseDir: string): Promise<{ file: string; product?: ProductRecord; shown: string }> {
    if (ref.kind === 'product') {
      const id = ref.value.slice(PRODUCT_PREFIX.length).trim();
      if (!PRODUCT_ID.test(id)) throw new ImageInputError(ref, `"${ref.value.slice(0, 100)}" is not a product reference: write product:<id>, e.g. from completion (Ctrl+Space).`);
      if (!this.o.db) throw new ImageInputError(ref, `${ref.value} names a product, but this parameter file is not inside an Art Factory project. Use a path to the image instead.`);
      const product = await (await this.o.db()).getProduct(id);
      if (!product) throw new ImageInputError(ref, `There is no product "${id}" in this project. Pick one with completion (Ctrl+Space) or "Use as Input…" in the gallery.`);
      if (product.kind !== 'image') throw new ImageInputError(ref, `Product "${id}" is ${product.kind === 'audio' ? 'an audio file' : 'a video'}; "${ref.field}" takes an image.`);
      // The row's file under the project path rule: a row from elsewhere cannot send an outside file.
      const file = await new ProjectPaths(this.o.projectDir)
        .resolve(layoutOf(product).file, 'products', { kind: 'file', what: `Product ${id}: its file` })
        .catch((e: unknown) => {
          throw new ImageInputError(ref, e instanceof Error ? e.message : String(e));
        });
      return { file: file.abs, product, shown: `Product ${id} (${product.file})` };
    }
    if (ref.kind !== 'path') throw new ImageInputError(ref, `"${ref.field}" is sent as written.`);
    let file: string;
    try {
      file = /^file:/i.test(ref.value) ? fileURLToPath(ref.value) : path.resolve(baseDir, ref.value);
    } catch {
      throw new ImageInputError(ref, `"${ref.value.slice(0, 200)}" is not a usable file URI. Write a path instead.`);
    }
    return { file, product: await this.productAt(file), shown: `"${ref.value}"` };
  }

  /** A path into the project's products/ that is a product's own file counts as that product. */
  private async productAt(file: string): Promise<ProductRecord | undefined> {
    const products = path.join(this.o.projectDir, 'products') + path.sep;
    if (!this.o.db || !file.startsWith(products)) return undefined;
    const id = path.basename(file).replace(/\.[^.]+$/, '');
    if (!PRODUCT_ID.test(id)) return undefined;
    const product = await (await this.o.db()).getProduct(id).catch(() => undefined);
    return product && projectFile(this.o.projectDir, product.file) === file ? product : undefined;
  }

  /** Read and check the image a reference names. Throws ImageInputError with the reason. */
  async load(ref: ImageRef, baseDir: string): Promise<LoadedImage> {
    const { file, product, shown } = await this.locate(ref, baseDir);
    await this.stat(ref, file, shown, product);
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(file);
    } catch (e) {
      throw new ImageInputError(ref, `${shown} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`);
    }
    if (bytes.length > this.maxBytes) throw this.tooLarge(ref, shown, bytes.length);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const st = await fs.stat(file).catch(() => undefined);
    const stamp = st ? `${st.size}:${st.mtimeMs}` : '';
    let known = this.verified.get(file);
    if (known?.sha256 !== sha256 || known.stamp !== stamp) {
      known = known?.sha256 === sha256 ? { ...known, stamp } : { stamp, sha256, ...(await this.verify(bytes)) };
      this.remember(file, known);
    }
    if (!known.media) throw new ImageInputError(ref, `${shown} ${known.problem}`);
    return { bytes, sha256, ...known.media, product };
  }

  /** The check alone, for problems while editing: a file that did not change is not read again. */
  async check(ref: ImageRef, baseDir: string): Promise<void> {
    const { file, product, shown } = await this.locate(ref, baseDir);
    const st = await this.stat(ref, file, shown, product);
    const known = this.verified.get(file);
    if (known?.stamp !== `${st.size}:${st.mtimeMs}`) {
      await this.load(ref, baseDir);
      return;
    }
    if (!known.media) throw new ImageInputError(ref, `${shown} ${known.problem}`);
  }

  private async stat(ref: ImageRef, file: string, shown: string, product: ProductRecord | undefined): Promise<{ size: number; mtimeMs: number }> {
    let st;
    try {
      st = await fs.stat(file);
    } catch {
      if (product) throw new ImageInputError(ref, `The file of product "${product.id}" (${product.file}) is missing. Restore it, or pick another product.`);
      const relative = ref.kind === 'path' && !path.isAbsolute(ref.value) && !/^file:/i.test(ref.value);
      throw new ImageInputError(ref, `${shown} was not found (looked for ${file}).${relative ? ' Paths are relative to the parameter file.' : ''}`);
    }
    if (!st.isFile()) throw new ImageInputError(ref, `${shown} is ${st.isDirectory() ? 'a folder' : 'not a regular file'}, not an image file.`);
    if (st.size > this.maxBytes) throw this.tooLarge(ref, shown, st.size);
    return st;
  }

  private tooLarge(ref: ImageRef, shown: string, size: number): ImageInputError {
    return new ImageInputError(ref, `${shown} is ${megabytes(size)}; image inputs are limited to ${megabytes(this.maxBytes)}${this.o.limitHint ? ` (${this.o.limitHint})` : ''}. Use a smaller image.`);
  }

  /** What the bytes are: an image that decodes completely, or why not (the sentence after its name). */
  private async verify(bytes: Uint8Array): Promise<{ media?: { mediaType: string; width?: number; height?: number }; problem?: string }> {
    const sniffed = sniffMedia(bytes);
    if (!sniffed) return { problem: 'is not an image: use a PNG, JPEG, WebP, GIF or AVIF file.' };
    if (sniffed.kind !== 'image') return { problem: `is ${sniffed.kind === 'video' ? 'a video' : 'an audio file'} (${sniffed.mediaType}), not an image.` };
    try {
      const checked = await checkDownloaded(bytes, sniffed.mediaType);
      return { media: { mediaType: checked.mediaType, width: checked.width, height: checked.height } };
    } catch (e) {
      if (e instanceof MediaError) return { problem: `is not a usable image: ${e.message.replace(/^The /, 'the ')}` };
      throw e;
    }
  }

  private remember(file: string, entry: { stamp: string; sha256: string; media?: { mediaType: string; width?: number; height?: number }; problem?: string }): void {
    this.verified.delete(file);
    this.verified.set(file, entry);
    if (this.verified.size > 500) this.verified.delete(this.verified.keys().next().value!);
  }

  /** Problems of a parsed parameter file's image values, each at its field. */
  async problems(parsed: ParsedParamFile, fields: string[], paramFileDir: string): Promise<Diagnostic[]> {
    if (!parsed.value || fields.length === 0) return [];
    const out: Diagnostic[] = [];
    for (const ref of paramFileImageRefs(parsed.value, fields)) {
      if (ref.kind !== 'path' && ref.kind !== 'product') continue;
      try {
        await this.check(ref, paramFileDir);
      } catch (e) {
        if (!(e instanceof ImageInputError)) throw e;
        out.push(diagnosticAt(parsed, ref.at, `"${ref.field}": ${e.message}`));
      }
    }
    return out;
  }
}

/** The sha256 of a data: URI's bytes (for lineage), when it is base64 as image inputs are. */
export function dataUriSha256(uri: string): string | undefined {
  const m = /^data:[^,]*;base64,(.*)$/is.exec(uri);
  return m ? createHash('sha256').update(Buffer.from(m[1], 'base64')).digest('hex') : undefined;
}

/** A value as the job records it: upload URLs verbatim, data: URIs by type, size and hash. */
export function describeSent(value: string, sha256?: string): string {
  const m = /^data:([^;,]*)[^,]*,/i.exec(value);
  if (!m) return value;
  const bytes = Math.floor(((value.length - m[0].length) * 3) / 4);
  return `data:${m[1] || 'application/octet-stream'} (${bytes < 1024 ? `${bytes} bytes` : `${Math.round(bytes / 1024)} KB`} inline${sha256 ? `, sha256 ${sha256.slice(0, 16)}…` : ''})`;
}

export interface ResolvedInputs {
  /** The input to send: every path and product reference replaced by what upload() gave. */
  input: Record<string, unknown>;
  inputs: ProductInput[];
  sent: Record<string, string>;
}

/**
 * Resolve a job's image values just before submission: each path or product is read, checked
 * and handed to `upload`; URLs and data: URIs go as written. Throws ImageInputError.
 */
export async function resolveImageInputs(
  input: Record<string, unknown>,
  fields: string[],
  source: ImageSource,
  baseDir: string,
  upload: (image: LoadedImage) => Promise<string>,
): Promise<ResolvedInputs> {
  const out: Record<string, unknown> = { ...input };
  const inputs: ProductInput[] = [];
  const sent: Record<string, string> = {};
  for (const ref of imageRefsOf(input, fields)) {
    if (ref.kind === 'url') continue;
    if (ref.kind === 'data') {
      const sha256 = dataUriSha256(ref.value);
      if (sha256) inputs.push({ field: ref.field, sha256, product: null, path: null });
      continue;
    }
    const image = await source.load(ref, baseDir);
    const value = await upload(image);
    const [field, index] = ref.at as [string, number | undefined];
    if (index === undefined) out[field] = value;
    else {
      if (out[field] === input[field]) out[field] = [...(input[field] as unknown[])];
      (out[field] as unknown[])[index] = value;
    }
    inputs.push({ field: ref.field, sha256: image.sha256, product: image.product?.id ?? null, path: ref.kind === 'path' ? ref.value : null });
    sent[ref.field] = describeSent(value, image.sha256);
  }
  return { input: out, inputs, sent };
}
