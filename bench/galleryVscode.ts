// The gallery in a real VS Code (code-server 4.100.3 with the built VSIX, test/e2e/harness.ts):
// from running "Art Factory: Open Gallery" (Enter in the command palette) to the first frame
// painted with the thumbnails in view, at 10,000 and 100,000 products. The first open of a
// window also opens the project's database; later ones (after closing the panel) do not.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { thumbsDir } from '../src/storage/project.ts';
import { createProject, openProjectDb } from '../src/storage/index.ts';
import { startCodeServer, until, type CodeServer } from '../test/e2e/harness.ts';
import { fakeProduct, THUMBS_SHOWN } from '../test/webview/harness.ts';

export interface GalleryVscodeRow {
  products: number;
  /** The first Open Gallery of the window (the project's database is opened by it). */
  firstOpenMs: number;
  /** Median of the opens after closing the panel (the database already open). */
  reopenMs: number;
  /** From Enter to the gallery's webview document starting (the command, the host's initial
   * state, VS Code creating the webview): the rest of the time is the page's. */
  firstFrameMs: number;
  reopenFrameMs: number;
  /** From Enter to the page asking for its stylesheet: its HTML has been written into the frame. */
  reopenHtmlMs: number;
  /** From Enter to the page's script loaded. */
  reopenScriptMs: number;
  reopens: number;
}

/** Records, in the frame that turns out to be the gallery, when it first painted the thumbnails
 * in view: checked every 10 ms, then the second animation frame after (a rAF callback runs
 * before its frame's paint, so the second runs after the paint that showed them). A timer, not
 * a DOMContentLoaded listener: VS Code writes the webview's document into its frame
 * (document.open), which drops the window's listeners but keeps its timers. */
const PAINT_PROBE = `
  (() => {
    const now = () => performance.timeOrigin + performance.now();
    const thumbsShown = ${THUMBS_SHOWN};
    const shown = () => document.getElementById('initial-state') !== null && thumbsShown();
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started > 600000) clearInterval(timer);
      if (!shown()) return;
      clearInterval(timer);
      requestAnimationFrame(() => requestAnimationFrame(() => { window.__paint = { thumbs: now() }; }));
    }, 10);
  })();
`;

/** A project of `n` products; the newest 1,000 have thumbnails (hard links to one real WebP). */
async function makeProject(n: number): Promise<string> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-bench-vscode-')), `gallery-${n}`);
  await createProject(dir, `Gallery ${n}`);
  const db = await openProjectDb(dir);
  for (let i = 0; i < n; i += 5000) await db.putProducts(Array.from({ length: Math.min(5000, n - i) }, (_, k) => fakeProduct(i + k)));
  await db.close();
  const thumbs = thumbsDir(dir);
  await fs.mkdir(thumbs, { recursive: true });
  const one = path.join(thumbs, 'one.webp');
  await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 60, g: 120, b: 200 } } }).webp().toFile(one);
  for (let i = Math.max(0, n - 1000); i < n; i++) await fs.link(one, path.join(thumbs, `${fakeProduct(i).id}-256.webp`));
  await fs.rm(one);
  return dir;
}

interface Open {
  ms: number;
  frameMs: number;
  /** When the page asked for its first resource (the stylesheet in its head): the HTML is there. */
  askedMs: number;
  scriptMs: number;
}

/** Open Gallery through the palette; resolves with ms from Enter to the thumbnails painted, and
 * to the gallery frame's document starting and its script loaded (the page's resource timing). */
async function openGallery(cs: CodeServer): Promise<Open> {
  const { page } = cs;
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Art Factory: Open Gallery' }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill('>Art Factory: Open Gallery');
    if (await row.waitFor({ timeout: 5_000 }).then(() => true, () => attempt >= 6)) break;
    await page.keyboard.press('Escape');
  }
  const t0 = Date.now();
  await page.keyboard.press('Enter');
  const painted = await until('the gallery painted its thumbnails', async () => {
    for (const f of page.frames()) {
      const t = await f
        .evaluate(() => {
          const thumbs = (window as unknown as { __paint?: { thumbs?: number } }).__paint?.thumbs;
          const script = performance.getEntriesByType('resource').find((e) => e.name.includes('gallery.js')) as PerformanceResourceTiming | undefined;
          const style = performance.getEntriesByType('resource').find((e) => e.name.includes('gallery.css'));
          return thumbs && { thumbs, origin: performance.timeOrigin, script: script ? performance.timeOrigin + script.responseEnd : 0, asked: style ? performance.timeOrigin + style.startTime : 0 };
        })
        .catch(() => undefined);
      if (t) return t;
    }
    return undefined;
  }, 120_000);
  return { ms: Math.round(painted.thumbs - t0), askedMs: painted.asked ? Math.round(painted.asked - t0) : -1, frameMs: Math.round(painted.origin - t0), scriptMs: painted.script ? Math.round(painted.script - t0) : -1 };
}

/** The Get Started walkthrough opens by itself on a first start (test/e2e/gallery.test.ts): close
 * it, so the gallery is the editor in front. */
async function closeWalkthrough(cs: CodeServer): Promise<void> {
  const walkthrough = cs.page.locator('.tab', { hasText: 'Walkthrough' });
  if (await until('the walkthrough', async () => (await walkthrough.count()) > 0, 20_000).then(() => true, () => false)) {
    await walkthrough.locator('.codicon-close').click();
    await until('the walkthrough closed', async () => (await walkthrough.count()) === 0, 20_000);
  }
}

async function closeEditors(cs: CodeServer): Promise<void> {
  await cs.command('View: Close All Editors');
  await until('the gallery closed', async () => {
    for (const f of cs.page.frames()) if (await f.locator('[role=grid]').count().catch(() => 0)) return false;
    return true;
  }, 30_000);
}

export async function benchGalleryVscode(sizes = [10_000, 100_000], reopens = 4): Promise<GalleryVscodeRow[]> {
  // The VSIX of this checkout, as users install it (the harness would reuse an older one).
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: path.join(__dirname, '..'), stdio: 'ignore' });
  const rows: GalleryVscodeRow[] = [];
  for (const n of sizes) {
    const dir = await makeProject(n);
    const cs = await startCodeServer({ workspace: dir });
    try {
      await cs.page.context().addInitScript(PAINT_PROBE);
      await closeWalkthrough(cs);
      const first = await openGallery(cs);
      const times: Open[] = [];
      for (let r = 0; r < reopens; r++) {
        await closeEditors(cs);
        times.push(await openGallery(cs));
      }
      await cs.shot(`bench-gallery-${n}`);
      console.log(`gallery in code-server at ${n.toLocaleString()}: first open ${JSON.stringify(first)}, reopens ${JSON.stringify(times)} (ms from Enter: thumbnails painted, the webview frame's document started, the page asked for its stylesheet, its script loaded)`);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      rows.push({ products: n, firstOpenMs: first.ms, firstFrameMs: first.frameMs, reopenMs: median(times.map((t) => t.ms)), reopenFrameMs: median(times.map((t) => t.frameMs)), reopenHtmlMs: median(times.map((t) => t.askedMs)), reopenScriptMs: median(times.map((t) => t.scriptMs)), reopens });
    } finally {
      await cs.stop();
      await fs.rm(path.dirname(dir), { recursive: true, force: true });
    }
  }
  return rows;
}

