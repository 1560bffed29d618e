// The gallery's first screen of thumbnails, carried in its HTML as data: URIs. In VS Code a
// webview loads each image through its service worker, the webview's outer frame, the workbench
// and the file system (over the network in code-server or a remote window): dozens of round
// trips before the first screen shows, after VS Code's own start of the webview. Carried in
// the HTML, the thumbnails in view paint with the tiles. Only the first page's first screen
// is carried, and only small files (a thumbnail, not an original).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CAPS, type Tile } from './protocol.ts';

const MIME: Record<string, string> = { '.webp': 'image/webp', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.avif': 'image/avif' };

/** A file larger than this is not carried (its data: URI would pass the tile's URI cap). */
export const MAX_INLINE_BYTES = Math.floor(((CAPS.uri - 100) * 3) / 4);

/** How many tiles of `tileSize` a large editor (1600 × 1000 CSS pixels, a maximized window on
 * a 1080p screen) shows at once. Past it, each thumbnail carried costs the HTML ~14 KB that
 * VS Code parses and writes again before the page starts. */
export function firstScreenTiles(tileSize: number): number {
  return Math.ceil(1600 / tileSize) * Math.ceil(1000 / tileSize);
}

/** `tiles` with the thumbnails of the first `count` carried as data: URIs, up to `budget`
 * bytes of files in all, and the data: URI of each file carried. `fileOf` names the file
 * behind a thumbnail's URI (one the tile was made from, so it passed the project's path
 * rule), or undefined. A file that cannot be read, is too large or of another type keeps its
 * URI. */
export async function inlineThumbnails(tiles: Tile[], fileOf: (uri: string) => string | undefined, o: { count: number; budget: number }): Promise<{ tiles: Tile[]; carried: Map<string, string> }> {
  const read = await Promise.all(
    tiles.slice(0, o.count).map(async (t) => {
      const file = t.thumb === undefined ? undefined : fileOf(t.thumb);
      const mime = file && MIME[path.extname(file).toLowerCase()];
      if (!file || !mime) return undefined;
      const bytes = await readSmall(file, MAX_INLINE_BYTES);
      return bytes && { file, bytes, mime };
    }),
  );
  let spent = 0;
  const out = [...tiles];
  const carried = new Map<string, string>();
  for (const [i, r] of read.entries()) {
    if (!r) continue;
    spent += r.bytes.length;
    if (spent > o.budget) break;
    const uri = `data:${r.mime};base64,${r.bytes.toString('base64')}`;
    carried.set(r.file, uri);
    out[i] = { ...tiles[i], thumb: uri };
  }
  return { tiles: out, carried };
}

/** The file's bytes when it is a regular file (not a link, a pipe or a device) of at most
 * `max` bytes. */
async function readSmall(file: string, max: number): Promise<Buffer | undefined> {
  try {
    const stat = await fs.lstat(file);
    if (!stat.isFile() || stat.size === 0 || stat.size > max) return undefined;
    const bytes = await fs.readFile(file);
    return bytes.length <= max ? bytes : undefined;
  } catch {
    return undefined;
  }
}
