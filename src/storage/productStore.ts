// The one owner of "a product on disk": storing one (media file → poster → sidecar → database
// row, each write atomic, the files taken away again when the sidecar cannot be written), its
// thumbnails, moving it to the project's trash and back, and emptying the trash. The engine,
// import and the gallery all go through here; every path is resolved under the rule in
// productPaths.ts, and a product's files are derived from its id, never read from its record.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeThumbnails, type ThumbSize } from '../media/thumbnails.ts';
import { removeStaleTemps, writeFileAtomic } from './atomic.ts';
import { ProductBatch, recoverPending, type RecoveredBatches } from './productBatch.ts';
import { layoutOf, PathRefusedError, ProjectPaths, THUMBS, type ProductLayout } from './productPaths.ts';
import { readSidecar } from './sidecars.ts';
import type { ProductPatch, ProductRecord, ProjectDb } from './types.ts';

const TRASH = '.artfactory/trash';
const ENTRY = 'entry.json';

/** A product's files that were moved to the trash, by role, and where each came from. */
export interface TrashEntry {
  /** Project-relative folder of this entry: `.artfactory/trash/<id>-<random>`. */
  dir: string;
  record: ProductRecord;
  /** Name in the entry folder → the project-relative path it came from. */
  moved: Record<string, string>;
}

export interface TrashResult {
  trashed: TrashEntry[];
  refused: { id: string; reason: string }[];
}

export interface UntrashResult {
  restored: string[];
  /** Products whose files could not all go back (something new is where they were). */
  conflicts: { id: string; reason: string }[];
}

/** Where the trash's contents finally go (the extension sends them to the OS trash). */
export interface TrashSink {
  discard(absDir: string): Promise<void>;
}

export const deleteForever: TrashSink = { discard: (dir) => fs.rm(dir, { recursive: true, force: true }) };

/** What `put` may store beside the media file. */
export interface PutExtras {
  /** A video's poster frame: stored as `<id>.poster.<ext>` beside it. */
  poster?: { bytes: Uint8Array; ext: string };
}

async function move(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (e) {
    // products/ on another file system than .artfactory/ (a mount point): copy, then remove.
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await fs.copyFile(from, to);
    await fs.rm(from);
  }
}

export class ProductStore {
  readonly paths: ProjectPaths;

  /** `rememberFolders`: see ProjectPaths (for one import's store, not a long-lived one). */
  constructor(
    readonly projectDir: string,
    private readonly db: ProjectDb,
    opts: { rememberFolders?: boolean } = {},
  ) {
    this.paths = new ProjectPaths(projectDir, opts);
  }

  // ---------------------------------------------------------------------------------------
  // Storing

  /** Store a product: media file → poster → sidecar → row. A product file without its sidecar
   * is half a product, so when the sidecar cannot be written the files are taken away again
   * and the error rethrown. Once the sidecar is written the product is safe: a failed row
   * write leaves it for the resumed job or Rebuild Index to index. Returns the stored record.
   * Many products at once (an import) go through `batch()` instead. */
  async put(record: ProductRecord, bytes: Uint8Array, extras: PutExtras = {}): Promise<ProductRecord> {
    const stored: ProductRecord = { ...record };
    if (extras.poster) stored.poster = stored.file.replace(/\.[^./]+$/, `.poster.${extras.poster.ext}`);
    const layout = layoutOf(stored);
    const dir = layout.file.slice(0, layout.file.lastIndexOf('/'));
    await this.paths.ensureDir(dir, 'products');
    const written: string[] = [];
    const write = async (rel: string, data: Uint8Array | string) => {
      const { abs } = await this.paths.resolve(rel, 'products', { kind: 'file' });
      await writeFileAtomic(abs, data);
      written.push(abs);
    };
    try {
      await write(layout.file, bytes);
      if (layout.poster && extras.poster) await write(layout.poster, extras.poster.bytes);
      await write(layout.sidecar, `${JSON.stringify(stored, null, 2)}\n`);
    } catch (e) {
      for (const f of written) await fs.rm(f, { force: true }).catch(() => undefined);
      throw e;
    }
    await this.db.putProduct(stored);
    return stored;
  }

  /** Many products stored together, with the durability of `put` for each but the waits
   * shared: one wave of fsyncs and one journal record per batch (productBatch.ts). */
  batch<T>(onDurable: (p: ProductRecord, tag: T) => void): ProductBatch<T> {
    return new ProductBatch(this, this.db, onDurable);
  }

  /** Finish what a killed `batch()` writer left; run before a new batch writer starts. */
  recoverBatches(): Promise<RecoveredBatches> {
    return recoverPending(this, this.db);
  }

  /** Change a product's own metadata (favourite, rating, tags, notes): its row, then its
   * sidecar, the durable record that Rebuild Index, backups and an undone delete read (with
   * the row alone a rebuilt index forgot every rating). Undefined when there is no such product. */
  async update(id: string, patch: ProductPatch): Promise<ProductRecord | undefined> {
    const updated = await this.db.updateProduct(id, patch);
    if (!updated) return undefined;
    const rel = layoutOf(updated).sidecar;
    await this.paths.ensureDir(rel.slice(0, rel.lastIndexOf('/')), 'products');
    await writeFileAtomic((await this.paths.resolve(rel, 'products', { kind: 'file' })).abs, `${JSON.stringify(updated, null, 2)}\n`);
    return updated;
  }

  /** Thumbnails of a product (from its image, or a video's poster), written under the rule:
   * both sizes, or only those asked for. */
  async thumbnail(record: Pick<ProductRecord, 'id' | 'file' | 'poster' | 'kind'>, sizes: readonly ThumbSize[] = ['small', 'large']): Promise<Partial<Record<ThumbSize, string>> | undefined> {
    const layout = layoutOf(record);
    const still = record.kind === 'image' ? layout.file : layout.poster;
    if (!still) return undefined;
    const source = await this.paths.resolve(still, 'products', { kind: 'file', mustExist: true });
    const out = await this.paths.ensureDir(THUMBS, '.artfactory');
    for (const size of sizes) await this.paths.resolve(layout.thumbs[size], '.artfactory', { kind: 'file' });
    return makeThumbnails(source.abs, out, record.id, sizes);
  }

  /** A product's record from the sidecar at `rel`, only when the sidecar is where its own
   * record says it belongs (so one product's sidecar cannot speak for another's files). */
  async sidecarAt(rel: string): Promise<ProductRecord | undefined> {
    const { abs, stat } = await this.paths.resolve(rel, 'products', { kind: 'file' });
    if (!stat) return undefined;
    const record = await readSidecar(abs);
    return layoutOf(record).sidecar === rel ? record : undefined;
  }

  /** Remove stale temp files (from a writer that was killed) in a folder of the project. */
  async removeStaleTemps(rel: string, area: 'products' | '.artfactory'): Promise<string[]> {
    const { abs, stat } = await this.paths.resolve(rel, area, { kind: 'dir' }).catch(() => ({ abs: '', stat: undefined }));
    return stat ? removeStaleTemps(abs) : [];
  }

  // ---------------------------------------------------------------------------------------
  // Trash

  /** The files of a product that exist, by role, each checked under the rule. A media file
   * that is a symlink, a folder or outside products/ refuses the whole product. */
  private async existingFiles(layout: ProductLayout): Promise<Record<string, string>> {
    const roles: [string, string][] = [
      [`media${path.extname(layout.file)}`, layout.file],
      ['sidecar.json', layout.sidecar],
    ];
    if (layout.poster) roles.push([`poster${path.extname(layout.poster)}`, layout.poster]);
    const found: Record<string, string> = {};
    for (const [name, rel] of roles) {
      const { stat } = await this.paths.resolve(rel, 'products', { kind: 'file', what: `Product ${layout.id}: its ${name.replace(/\..*$/, '')}` });
      if (stat) found[name] = rel;
    }
    // Thumbnails are rebuildable: one that is not a plain file of ours is left alone, not moved.
    for (const [name, rel] of [['thumb-small.webp', layout.thumbs.small], ['thumb-large.webp', layout.thumbs.large]]) {
      const r = await this.paths.resolve(rel, '.artfactory', { kind: 'file' }).catch(() => undefined);
      if (r?.stat) found[name] = rel;
    }
    return found;
  }

  /** Move products to the project's trash (`.artfactory/trash/`) and drop their rows. Only the
   * files this store writes for a product are moved, each checked first; a product any of whose
   * files is refused is left as it is and reported. */
  async trash(records: ProductRecord[]): Promise<TrashResult> {
    const result: TrashResult = { trashed: [], refused: [] };
    for (const record of records) {
      let files: Record<string, string>;
      try {
        files = await this.existingFiles(layoutOf(record));
      } catch (e) {
        if (!(e instanceof PathRefusedError)) throw e;
        result.refused.push({ id: String(record.id), reason: e.message });
        continue;
      }
      const dir = `${TRASH}/${record.id}-${randomBytes(4).toString('hex')}`;
      const abs = await this.paths.ensureDir(dir, '.artfactory');
      const entry: TrashEntry = { dir, record, moved: {} };
      try {
        for (const [name, rel] of Object.entries(files)) {
          await move((await this.paths.resolve(rel, rel.startsWith('products/') ? 'products' : '.artfactory', { kind: 'file', mustExist: true })).abs, path.join(abs, name));
          entry.moved[name] = rel;
        }
        await writeFileAtomic(path.join(abs, ENTRY), `${JSON.stringify({ record, moved: entry.moved }, null, 2)}\n`);
        await this.db.deleteProducts([record.id]);
      } catch (e) {
        await this.moveBack(entry).catch(() => undefined);
        throw e;
      }
      result.trashed.push(entry);
    }
    return result;
  }

  private async moveBack(entry: TrashEntry): Promise<string[]> {
    const problems: string[] = [];
    const abs = (await this.paths.resolve(entry.dir, '.artfactory', { kind: 'dir', mustExist: true })).abs;
    for (const [name, rel] of Object.entries(entry.moved)) {
      const area = rel.startsWith('products/') ? 'products' : '.artfactory';
      const dest = await this.paths.resolve(rel, area, { kind: 'file' });
      if (dest.stat) {
        problems.push(`${rel} exists again`);
        continue;
      }
      await this.paths.ensureDir(rel.slice(0, rel.lastIndexOf('/')), area);
      await move(path.join(abs, name), dest.abs);
      delete entry.moved[name];
    }
    return problems;
  }

  /** Put trashed products back where they were, rows included. */
  async untrash(entries: TrashEntry[]): Promise<UntrashResult> {
    const result: UntrashResult = { restored: [], conflicts: [] };
    for (const entry of entries) {
      // The entry's record was checked when it was trashed; its paths are checked again here.
      layoutOf(entry.record);
      const problems = await this.moveBack(entry);
      if (problems.length) {
        result.conflicts.push({ id: entry.record.id, reason: problems.join('; ') });
        continue;
      }
      await this.db.putProduct(entry.record);
      await this.discardEntry(entry, deleteForever);
      result.restored.push(entry.record.id);
    }
    return result;
  }

  /** Empty trash entries for good: each entry folder (checked to be ours) goes to `sink`. */
  async emptyTrash(entries: TrashEntry[], sink: TrashSink = deleteForever): Promise<void> {
    for (const entry of entries) await this.discardEntry(entry, sink);
  }

  private async discardEntry(entry: TrashEntry, sink: TrashSink): Promise<void> {
    if (!entry.dir.startsWith(`${TRASH}/`) || entry.dir.split('/').length !== 3) throw new PathRefusedError(entry.dir, 'is not a trash entry', 'A trash folder');
    const { abs, stat } = await this.paths.resolve(entry.dir, '.artfactory', { kind: 'dir' });
    if (stat) await sink.discard(abs);
  }
}
