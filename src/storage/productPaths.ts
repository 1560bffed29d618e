// The one rule for paths that come from a project (a database row, a sidecar, a job record, a
// backup): they are data, not trusted. Every such path
//   - is project-relative with forward slashes, under `products/` (or `.artfactory/` for the
//     project's own files), made of plain name characters, with no `..`, `.` or empty part;
//   - resolves, with symbolic links resolved first, to exactly that place under the project
//     root: no folder between the root and the file is a symlink (the root itself may be);
//   - names, when it exists, a regular file (never a symlink, a folder or a device).
// A product's other files are derived from its id and never read from the record: the media
// file is `<dir>/<id>.<ext>`, its sidecar `<dir>/<id>.json`, its poster `<dir>/<id>.poster.<ext>`,
// its thumbnails `.artfactory/thumbs/<id>-256.webp` and `-768.webp`. So a row or sidecar that
// names another product's file, a folder, or something outside the project is refused, and
// nothing is opened, moved, exported or deleted for it.
import { constants as fsc, lstatSync, promises as fs, realpathSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { THUMB_SIZES } from '../media/thumbnails.ts';
import { StorageError } from './errors.ts';
import type { ProductRecord } from './types.ts';

export type ProjectArea = 'products' | '.artfactory';

/** Ids we make: ULIDs, `<job>-<n>`, `imp-<hash>`. Nothing else names a file. */
const ID = /^[\w-]{1,100}$/;
const PART = /^[\w.-]{1,255}$/;
const EXT = /^[a-z0-9]{1,10}$/i;
const MAX_REL = 1024;
/** Where thumbnails live, project-relative (see thumbsDir). */
export const THUMBS = '.artfactory/thumbs';
const CASE_FOLDS = process.platform === 'win32' || process.platform === 'darwin';

export function isSafeId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/** A path from a project refused by the rule; `path` is the offending value, shortened. */
export class PathRefusedError extends StorageError {
  constructor(
    readonly refusedPath: string,
    readonly reason: string,
    what = 'This path',
  ) {
    super('unsafe-path', `${what} is refused: ${JSON.stringify(refusedPath.slice(0, 200))} ${reason}. Nothing was opened, moved or deleted for it; run Verify Project (or \`art-factory verify\`) to see every problem in the project.`);
  }
}

/** Why a project-relative path breaks the lexical rule, or undefined when it keeps it. */
export function relProblem(rel: unknown, area: ProjectArea): string | undefined {
  if (typeof rel !== 'string' || rel === '') return 'is empty or not text';
  if (rel.length > MAX_REL) return `is longer than ${MAX_REL} characters`;
  if (rel.startsWith('/') || /^[a-zA-Z]:/.test(rel) || rel.includes('\\')) return 'is not a project-relative path';
  const parts = rel.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) return `climbs out of ${area}/ or has an empty part`;
  if (parts[0] !== area || parts.length < 2) return `is not inside ${area}/`;
  if (!parts.every((p) => PART.test(p))) return 'holds characters a path we write never has';
  return undefined;
}

/** Folders checked within one batch of tiles: inside the project, outside it (a symlink), or
 * not there. */
export type FolderChecks = Map<string, boolean | 'missing'>;

/** The files of one product, all derived from its id and the folder of its media file. */
export interface ProductLayout {
  id: string;
  /** `products/…/<id>.<ext>` */
  file: string;
  sidecar: string;
  poster?: string;
  /** `.artfactory/thumbs/<id>-256.webp` and `-768.webp` */
  thumbs: { small: string; large: string };
}

/** The layout of a record, or a PathRefusedError saying which part of it breaks the rule. */
export function layoutOf(record: Pick<ProductRecord, 'id' | 'file' | 'poster'>): ProductLayout {
  const what = `Product ${String(record.id).slice(0, 100)}`;
  if (!isSafeId(record.id)) throw new PathRefusedError(String(record.id), 'is not a product id Art Factory makes', 'A product id');
  const bad = relProblem(record.file, 'products');
  if (bad) throw new PathRefusedError(String(record.file), bad, `${what}: its file`);
  const dir = record.file.slice(0, record.file.lastIndexOf('/'));
  const base = record.file.slice(dir.length + 1);
  const ext = base.startsWith(`${record.id}.`) ? base.slice(record.id.length + 1) : '';
  if (!EXT.test(ext)) throw new PathRefusedError(record.file, `is not named after the product (${record.id}.<ext>)`, `${what}: its file`);
  const layout: ProductLayout = {
    id: record.id,
    file: record.file,
    sidecar: `${dir}/${record.id}.json`,
    thumbs: { small: `${THUMBS}/${record.id}-${THUMB_SIZES.small}.webp`, large: `${THUMBS}/${record.id}-${THUMB_SIZES.large}.webp` },
  };
  if (layout.sidecar === layout.file) throw new PathRefusedError(record.file, 'is where its sidecar belongs', `${what}: its file`);
  if (record.poster !== undefined) {
    const posterExt = typeof record.poster === 'string' && record.poster.startsWith(`${dir}/${record.id}.poster.`) ? record.poster.slice(`${dir}/${record.id}.poster.`.length) : '';
    if (relProblem(record.poster, 'products') || !EXT.test(posterExt)) throw new PathRefusedError(String(record.poster), `is not its poster (${dir}/${record.id}.poster.<ext>)`, `${what}: its poster`);
    layout.poster = record.poster;
  }
  return layout;
}

/** Why a record breaks the layout rule (for verify and rebuild), else undefined. */
export function layoutProblem(record: Pick<ProductRecord, 'id' | 'file' | 'poster'>): string | undefined {
  try {
    layoutOf(record);
    return undefined;
  } catch (e) {
    return e instanceof PathRefusedError ? e.message.replace(/ Nothing was opened.*$/, '') : String(e);
  }
}

function same(a: string, b: string): boolean {
  return CASE_FOLDS ? a.toLowerCase() === b.toLowerCase() : a === b;
}

export interface Resolved {
  /** The absolute path under the project root as given (for VS Code and the webview). */
  abs: string;
  /** Its lstat, when it exists (a regular file or folder, never a symlink). */
  stat?: Stats;
}

/** Resolves project-relative paths under the rule. One per project; cheap to make. */
export class ProjectPaths {
  private realRootPromise?: Promise<string>;
  private realRootSync?: string;
  /** Folders found exactly where they belong, when remembered (see the constructor). */
  private readonly checkedDirs?: Set<string>;

  /** `rememberFolders`: a folder's realpath check is done once for this object's life (an
   * import writes thousands of files into a few folders of ours). Every path is still checked
   * lexically and its final part lstat'ed each time; what is not re-checked is that a folder
   * already found in place was not swapped for a symlink since. Only for short-lived objects. */
  constructor(
    readonly root: string,
    opts: { rememberFolders?: boolean } = {},
  ) {
    if (opts.rememberFolders) this.checkedDirs = new Set();
  }

  private realRoot(): Promise<string> {
    this.realRootPromise ??= fs.realpath(this.root).catch((e: unknown) => {
      this.realRootPromise = undefined;
      throw e;
    });
    return this.realRootPromise;
  }

  /** `rel` (already lexically checked) under the root, or a PathRefusedError. `kind` is what
   * it must be when it exists; `mustExist` turns a missing path into ENOENT. */
  async resolve(rel: string, area: ProjectArea, opts: { kind?: 'file' | 'dir'; mustExist?: boolean; what?: string } = {}): Promise<Resolved> {
    const bad = relProblem(rel, area);
    if (bad) throw new PathRefusedError(rel, bad, opts.what);
    const parts = rel.split('/');
    const realRoot = await this.realRoot();
    const abs = path.join(this.root, ...parts);
    // The deepest folder that exists must be exactly where it should be (no symlink on the way).
    const parentRel = parts.slice(0, -1).join('/');
    for (let n = this.checkedDirs?.has(parentRel) ? -1 : parts.length - 1; n >= 0; n--) {
      const expected = path.join(realRoot, ...parts.slice(0, n));
      let real: string;
      try {
        real = await fs.realpath(path.join(this.root, ...parts.slice(0, n)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw e;
      }
      if (!same(real, expected)) throw new PathRefusedError(rel, `leads through a symbolic link to ${JSON.stringify(real.slice(0, 200))}`, opts.what);
      if (n === parts.length - 1) this.checkedDirs?.add(parentRel);
      break;
    }
    let stat: Stats | undefined;
    try {
      stat = await fs.lstat(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || opts.mustExist) throw e;
    }
    if (stat) this.checkKind(rel, stat, opts.kind, opts.what);
    return { abs, stat };
  }

  /** The same check, synchronously (the gallery builds hundreds of tiles in one go): the path
   * with `stat` when it is a regular file, without when it does not exist, undefined when it is
   * refused. `cache` remembers folders already checked within one batch. */
  resolveSync(rel: string, area: ProjectArea, cache: FolderChecks = new Map()): Resolved | undefined {
    if (relProblem(rel, area)) return undefined;
    const parts = rel.split('/');
    const abs = path.join(this.root, ...parts);
    try {
      this.realRootSync ??= realpathSync.native(this.root);
      const dirRel = parts.slice(0, -1).join('/');
      let ok = cache.get(dirRel);
      if (ok === 'missing') return { abs };
      if (ok === undefined) {
        try {
          ok = same(realpathSync.native(path.join(this.root, ...parts.slice(0, -1))), path.join(this.realRootSync, ...parts.slice(0, -1)));
        } catch (e) {
          // A folder that is not there (thumbnails not made yet): every file in it is missing,
          // which the rest of the batch learns without another failing call each.
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') cache.set(dirRel, 'missing');
          throw e;
        }
        cache.set(dirRel, ok);
      }
      if (!ok) return undefined;
      const stat = lstatSync(abs);
      return stat.isFile() ? { abs, stat } : undefined;
    } catch (e) {
      // A folder or file that is not there: nothing to refuse, nothing to show.
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? { abs } : undefined;
    }
  }

  private checkKind(rel: string, stat: Stats, kind: 'file' | 'dir' | undefined, what?: string): void {
    if (stat.isSymbolicLink()) throw new PathRefusedError(rel, 'is a symbolic link', what);
    if (kind === 'file' && !stat.isFile()) throw new PathRefusedError(rel, stat.isDirectory() ? 'is a folder, not a file' : 'is not a regular file', what);
    if (kind === 'dir' && !stat.isDirectory()) throw new PathRefusedError(rel, 'is not a folder', what);
  }

  /** Create a folder of the project (and its parents) under the rule, and check it again after
   * (a symlink planted in between would show there). Returns its absolute path. */
  async ensureDir(rel: string, area: ProjectArea): Promise<string> {
    const { abs, stat } = await this.resolve(rel, area, { kind: 'dir' });
    if (stat) return abs;
    await fs.mkdir(abs, { recursive: true });
    await this.resolve(rel, area, { kind: 'dir', mustExist: true });
    return abs;
  }

  /** Read a file under the rule: opened without following a final symlink, and checked to be a
   * regular file on the open handle itself (so a swap after the check cannot redirect it). */
  async readFile(rel: string, area: ProjectArea, what?: string): Promise<Buffer> {
    const { abs } = await this.resolve(rel, area, { kind: 'file', mustExist: true, what });
    const fh = await fs.open(abs, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0));
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new PathRefusedError(rel, 'is not a regular file', what);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }
}
