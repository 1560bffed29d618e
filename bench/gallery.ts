// Gallery benchmark in this machine's headless Chromium: first paint at 100 and 10,000
// products, a search keystroke to the updated grid, and the longest frame while scrolling.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { startGallery } from '../test/webview/harness.ts';

export interface GalleryRow {
  products: number;
  firstPaintMs: number;
  searchUpdateMs: number;
  /** Longest gap between animation frames while scrolling to the end. */
  longestScrollFrameMs: number;
  /** Longest main-thread task (PerformanceObserver 'longtask') during that scroll; 0 when none over 50 ms. */
  longestTaskMs: number;
  /** From the end of that scroll until every visible tile shows its decoded image (tiles that
   * fly past wait for theirs until the grid is still). */
  imagesSettleMs: number;
}

export async function benchGallery(sizes = [100, 10_000]): Promise<GalleryRow[]> {
  // What users get: the minified bundle the VSIX ships (the tests build it unminified).
  execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: path.join(__dirname, '..'), stdio: 'ignore' });
  const rows: GalleryRow[] = [];
  for (const n of sizes) {
    const g = await startGallery(n);
    try {
      await g.open(); // warm the browser cache and JIT once
      await g.open();
      // First contentful paint of the page, which already holds the first page of tiles (the
      // entry is queued a moment after the paint itself).
      await g.page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
      const firstPaintMs = Math.round(Number(await g.page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0].startTime`)));
      // Search: one keystroke to the grid showing the new count.
      await g.page.locator('[role=grid]').focus();
      await g.page.keyboard.press('/');
      const before = await g.page.locator('.count').textContent();
      const t = Date.now();
      await g.page.keyboard.type('o');
      await g.page.waitForFunction((b) => document.querySelector('.count')?.textContent !== b, before);
      const searchUpdateMs = Date.now() - t;
      await g.page.locator('vscode-textfield.search input').fill('');
      await g.page.waitForFunction((b) => document.querySelector('.count')?.textContent === b, before);
      // Scroll to the end in steps, recording frame times.
      const longest = await g.page.evaluate(`(async () => {
        const grid = document.querySelector('[role=grid]');
        let last = performance.now(), worst = 0, running = true, task = 0;
        new PerformanceObserver((l) => { for (const e of l.getEntries()) task = Math.max(task, e.duration); }).observe({ type: 'longtask' });
        const tick = (t) => { worst = Math.max(worst, t - last); last = t; if (running) requestAnimationFrame(tick); };
        requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
        for (let y = 0; y < grid.scrollHeight; y += grid.clientHeight / 2) {
          grid.scrollTop = y;
          await new Promise((r) => requestAnimationFrame(() => r()));
        }
        const stopped = performance.now();
        running = false;
        const visible = () => [...document.querySelectorAll('.tile.product')].filter((t) => { const r = t.getBoundingClientRect(), g = grid.getBoundingClientRect(); return r.bottom > g.top && r.top < g.bottom; });
        for (;;) {
          const tiles = visible();
          if (tiles.length && tiles.every((t) => { const img = t.querySelector('img'); return img && img.complete && img.naturalWidth > 0; })) break;
          await new Promise((r) => requestAnimationFrame(() => r()));
        }
        return [worst, task, performance.now() - stopped];
      })()`) as [number, number, number];
      rows.push({ products: n, firstPaintMs, searchUpdateMs, longestScrollFrameMs: Math.round(longest[0]), longestTaskMs: Math.round(longest[1]), imagesSettleMs: Math.round(longest[2]) });
    } finally {
      await g.close();
    }
  }
  return rows;
}

if (require.main === module) {
  void benchGallery().then((rows) => console.table(rows));
}
