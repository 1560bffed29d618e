// Thumbnails made in the background, one at a time: after an import (archive/import.ts), and for
// the products a gallery shows without one (a project cloned from git or restored from a backup,
// which carry no thumbs/, or an import whose window was reloaded before its thumbnails were
// made). The small size only: the gallery's tiles show it; the large one is made when an agent
// first asks for it (agent/library.ts).
import { SharpUnavailableError } from '../media/sharp.ts';
import type { ProductStore } from './productStore.ts';
import type { ProductRecord } from './types.ts';

type Item = Pick<ProductRecord, 'id' | 'file' | 'kind' | 'poster'>;

/** Products some queue of this process has taken on (`<project>\0<id>`): a gallery does not make
 * again what an import is about to. */
const claimed = new Set<string>();

export class ThumbnailQueue {
  /** Only what a thumbnail needs, so a long import stays small in memory. */
  private readonly pending: Item[] = [];
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  /** Tried and failed (a damaged image): not tried again by this queue. */
  private readonly failed = new Set<string>();

  constructor(
    private readonly store: ProductStore,
    private readonly onMade?: (productId: string) => void,
  ) {}

  private key(id: string): string {
    return `${this.store.paths.root}\0${id}`;
  }

  /** Queue products; the last added is made first (the gallery opens newest first, so what the
   * user sees gets its thumbnails at once instead of after all the others). Products another
   * queue has taken on are left to it. */
  add(...products: Item[]): void {
    if (this.stopped) return;
    for (const p of products) {
      if (this.failed.has(p.id) || claimed.has(this.key(p.id))) continue;
      claimed.add(this.key(p.id));
      this.pending.push({ id: p.id, file: p.file, kind: p.kind, ...(p.poster ? { poster: p.poster } : {}) });
    }
    if (this.started) void this.drain();
  }

  /** Make what is queued, and what is added later; resolves when the queue is empty. */
  start(): Promise<void> {
    this.started = true;
    return this.drain();
  }

  /** Drop what is not made yet (a gallery closed). */
  stop(): void {
    this.stopped = true;
    for (const p of this.pending.splice(0)) claimed.delete(this.key(p.id));
  }

  private drain(): Promise<void> {
    this.running ??= (async () => {
      for (let p = this.pending.pop(); p; p = this.pending.pop()) {
        try {
          await this.store.thumbnail(p, ['small']);
          this.onMade?.(p.id);
        } catch (e) {
          this.failed.add(p.id);
          // A thumbnail is rebuildable; the gallery falls back to the file. Without sharp there
          // are none at all (sharp.ts says so once): stop trying.
          if (e instanceof SharpUnavailableError) this.stop();
        } finally {
          claimed.delete(this.key(p.id));
        }
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }
}
