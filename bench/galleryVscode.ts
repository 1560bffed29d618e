// The gallery in a real VS Code (code-server 4.100.3 with the built VSIX, test/e2e/harness.ts):
// from running "Art Factory: Open Gallery" (Enter in the command palette) to the first frame
// painted with the thumbnails in view, at 10,000 and 100,000 products. The first open of a
// window also opens the project's database; later ones (after closing the panel) do not.
// Beside each gallery open, in the same window, a hello-world webview panel (bench/webviewFloor.ts)
// is opened the same way: VS Code's own floor. Each open is split along the webview's path
// (PROBE) and the extension host's own line in the log.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { thumbsDir } from '../src/storage/project.ts';
import { createProject, openProjectDb } from '../src/storage/index.ts';
import { startCodeServer, until, type CodeServer } from '../test/e2e/harness.ts';
import { fakeProduct, THUMBS_SHOWN } from '../test/webview/harness.ts';
import { FLOOR_COMMAND, FLOOR_SHOWN, floorVsix } from './webviewFloor.ts';

/** Timestamps along VS Code's webview path, in every frame (an init script runs in each before
 * its own scripts; the workbench's page, loaded already, gets it by evaluate): the workbench
 * making the webview's iframe; in that outer frame (pre/index.html) its service worker
 * registered, taking control and answering its version (what VS Code waits for before writing
 * any HTML), the HTML's arrival, each resource asked and served; in the inner frame (its first
 * document, about:blank, whose window pre/fake.html keeps; VS Code then writes the extension's
 * HTML into it with document.write) the write, and when it first painted what the panel is
 * for: checked every 10 ms, then the second animation frame after (a rAF callback runs before
 * its frame's paint, so the second runs after the paint that showed it). A timer, not a
 * listener: document.open drops the window's listeners but keeps its timers and globals. */
const PROBE = `
  (() => {
    const now = () => performance.timeOrigin + performance.now();
    const tl = (window.__tl = window.__tl || []);
    const mark = (what) => tl.push([what, now()]);
    const where = location.pathname;
    if (where.endsWith('/pre/index.html')) {
      const sw = navigator.serviceWorker;
      if (sw) {
        const register = sw.register.bind(sw);
        sw.register = (...a) => { mark('swRegister'); return register(...a); };
        sw.addEventListener('controllerchange', () => mark('swController'));
        sw.addEventListener('message', (e) => { const c = e.data && e.data.channel; if (c === 'version') mark('workerReady'); else if (c === 'load-resource') mark('resourceAsked'); });
      }
      const port = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
      Object.defineProperty(MessagePort.prototype, 'onmessage', { configurable: true, get: port.get, set(fn) {
        port.set.call(this, fn && function (e) { const c = e.data && e.data.channel; if (c === 'content' || c === 'did-load-resource') mark(c === 'content' ? 'content' : 'resourceServed'); return fn.call(this, e); });
      } });
      const createElement = Document.prototype.createElement;
      Document.prototype.createElement = function (tag, ...rest) { if (String(tag).toLowerCase() === 'iframe') mark('pendingFrame'); return createElement.call(this, tag, ...rest); };
    } else if (window !== window.top) {
      // The inner frame: this runs in its first document (about:blank), whose window the
      // fake.html document then keeps, and document.write after it.
      const write = Document.prototype.write;
      Document.prototype.write = function (...a) { mark('write'); return write.apply(this, a); };
      const thumbsShown = ${THUMBS_SHOWN};
      const floorShown = ${FLOOR_SHOWN};
      const shown = () => (document.getElementById('initial-state') !== null && thumbsShown()) || (document.getElementById('hello') !== null && floorShown());
      const started = Date.now();
      const timer = setInterval(() => {
        if (Date.now() - started > 120000) clearInterval(timer);
        if (!shown()) return;
        clearInterval(timer);
        requestAnimationFrame(() => requestAnimationFrame(() => { window.__paint = { thumbs: now() }; }));
      }, 10);
    } else if (window === window.top) {
      new MutationObserver((records) => {
        for (const r of records) for (const n of r.addedNodes) if (n.nodeName === 'IFRAME' && n.classList.contains('webview')) mark('iframe');
      }).observe(document, { childList: true, subtree: true });
    }
  })();
`;

/** A project of `n` products; the newest 1,000 have thumbnails (hard links to one real WebP of
 * about 10 KB, as a 256-pixel thumbnail of a picture is). */
async function makeProject(n: number): Promise<string> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-bench-vscode-')), `gallery-${n}`);
  await createProject(dir, `Gallery ${n}`);
  const db = await openProjectDb(dir);
  for (let i = 0; i < n; i += 5000) await db.putProducts(Array.from({ length: Math.min(5000, n - i) }, (_, k) => fakeProduct(i + k)));
  await db.close();
  const thumbs = thumbsDir(dir);
  await fs.mkdir(thumbs, { recursive: true });
  const one = path.join(thumbs, 'one.webp');
  await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 60, g: 120, b: 200 }, noise: { type: 'gaussian', mean: 128, sigma: 70 } } }).blur(1.2).webp({ quality: 72 }).toFile(one);
  for (let i = Math.max(0, n - 1000); i < n; i++) await fs.link(one, path.join(thumbs, `${fakeProduct(i).id}-256.webp`));
  await fs.rm(one);
  return dir;
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

/** Where an open's time went: ms from Enter to each step (-1: not seen). */
export interface Open {
  /** The extension host: our command began showing the panel, and handed VS Code its HTML
   * (from the "handed to VS Code" line in the log; the gallery only). */
  hostStart: number;
  /** Its initial state (the first page's query and tiles) built. */
  hostState: number;
  hostHtml: number;
  /** The workbench made the webview's iframe. */
  iframe: number;
  /** The outer frame's document started (pre/index.html). */
  outer: number;
  /** Its service worker: registered, in control, answered its version (VS Code writes no HTML before). */
  swRegister: number;
  swController: number;
  workerReady: number;
  /** The last "content" (the extension's HTML) reached the outer frame. */
  content: number;
  /** The inner frame VS Code writes the HTML into: made, its document started, loaded, written. */
  pendingFrame: number;
  inner: number;
  innerLoaded: number;
  write: number;
  /** The page asked for its stylesheet, its script arrived. */
  cssAsked: number;
  scriptLoaded: number;
  /** Resources asked through the service worker before the paint, and the last served. */
  resources: number;
  lastServed: number;
  /** Resources asked in the second after the paint (thumbnails asked again would show here). */
  resourcesAfter: number;
  /** What the panel is for painted (the gallery: every tile in view with its thumbnail). */
  painted: number;
}

type Marks = [string, number][];

/** The extension host's last "handed to VS Code" line after `after` (epoch ms), as epoch ms of
 * its start and end. The log's times are local, to the millisecond. */
async function hostLine(userDataDir: string, after: number): Promise<{ start: number; state: number; end: number } | undefined> {
  const logs = path.join(userDataDir, 'logs');
  const files = (await fs.readdir(logs, { recursive: true })).filter((f) => f.endsWith('Art Factory.log'));
  for (const f of files) {
    const lines = (await fs.readFile(path.join(logs, f), 'utf8')).split('\n').reverse();
    for (const line of lines) {
      const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \[info\] gallery: .* handed to VS Code in (\d+) ms \(initial state (\d+) ms/.exec(line);
      if (!m) continue;
      const end = new Date(`${m[1]}T${m[2]}`).getTime();
      const start = end - Number(m[3]);
      if (end >= after) return { start, state: start + Number(m[4]), end };
      break;
    }
  }
  return undefined;
}

/** Runs `command` from the palette; resolves when its panel painted, with where the time went. */
async function openPanel(cs: CodeServer, command: string): Promise<Open> {
  const { page } = cs;
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${command}`);
    if (await row.waitFor({ timeout: 5_000 }).then(() => true, () => attempt >= 6)) break;
    await page.keyboard.press('Escape');
  }
  const t0 = Date.now();
  await page.keyboard.press('Enter');
  const inner = await until('the panel painted', async () => {
    for (const f of page.frames()) if (await f.evaluate(() => !!(window as unknown as { __paint?: unknown }).__paint).catch(() => false)) return f;
    return undefined;
  }, 120_000);
  const seen = await inner.evaluate(() => {
    const w = window as unknown as { __paint: { thumbs: number }; __tl?: [string, number][] };
    const o = performance.timeOrigin;
    const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const script = res.find((e) => /(gallery|hello)\.js/.test(e.name));
    const style = res.find((e) => /(gallery|hello)\.css/.test(e.name));
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    return { painted: w.__paint.thumbs, origin: o, marks: w.__tl ?? [], script: script ? o + script.responseEnd : 0, style: style ? o + style.startTime : 0, loaded: nav?.domContentLoadedEventStart ? o + nav.domContentLoadedEventStart : 0, navStart: nav ? o + nav.startTime : 0 };
  });
  await page.waitForTimeout(1000);
  const outer: Marks = (await inner.parentFrame()?.evaluate(() => [['outer', performance.timeOrigin] as [string, number], ...((window as unknown as { __tl?: [string, number][] }).__tl ?? [])]).catch(() => [])) ?? [];
  const main: Marks = await page.evaluate(() => (window as unknown as { __tl?: [string, number][] }).__tl ?? []);
  const host = command === FLOOR_COMMAND ? undefined : await hostLine(cs.userDataDir, t0);
  const marks: Marks = [...main.filter(([, t]) => t >= t0), ...outer, ['inner', seen.origin], ...seen.marks, ['cssAsked', seen.style], ['scriptLoaded', seen.script]];
  const until_ = seen.painted;
  const ms = (t: number | undefined) => (t ? Math.round(t - t0) : -1);
  const last = (what: string) => ms(marks.filter(([w, t]) => w === what && t <= until_).at(-1)?.[1]);
  const first = (what: string) => ms(marks.find(([w]) => w === what)?.[1]);
  return {
    hostStart: ms(host?.start),
    hostState: ms(host?.state),
    hostHtml: ms(host?.end),
    iframe: first('iframe'),
    outer: first('outer'),
    swRegister: first('swRegister'),
    swController: first('swController'),
    workerReady: first('workerReady'),
    content: last('content'),
    pendingFrame: last('pendingFrame'),
    inner: ms(seen.origin),
    innerLoaded: ms(seen.loaded),
    write: first('write'),
    cssAsked: ms(seen.style),
    scriptLoaded: ms(seen.script),
    resources: marks.filter(([w, t]) => w === 'resourceAsked' && t <= until_).length,
    lastServed: last('resourceServed'),
    resourcesAfter: marks.filter(([w, t]) => w === 'resourceAsked' && t > until_ && t <= until_ + 1000).length,
    painted: ms(seen.painted),
  };
}

async function closeEditors(cs: CodeServer): Promise<void> {
  await cs.command('View: Close All Editors');
  await until('the panels closed', async () => {
    for (const f of cs.page.frames()) if (f.url().includes('/pre/')) return false;
    return true;
  }, 30_000);
}

export interface GalleryVscodeRow {
  products: number;
  /** The first Open Gallery of the window (the project's database is opened by it). */
  firstOpenMs: number;
  /** Median of the opens after closing the panel (the database already open). */
  reopenMs: number;
  /** The same for a hello-world webview panel in the same window: VS Code's floor. */
  floorFirstMs: number;
  floorReopenMs: number;
  reopens: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The median of each step over `opens`. */
export function medianOpen(opens: Open[]): Open {
  return Object.fromEntries(Object.keys(opens[0]).map((k) => [k, median(opens.map((o) => o[k as keyof Open]))])) as unknown as Open;
}

export async function benchGalleryVscode(sizes = [10_000, 100_000], reopens = Number(process.env.AF_BENCH_REOPENS ?? 4)): Promise<{ rows: GalleryVscodeRow[]; steps: Record<string, Open> }> {
  const root = path.join(__dirname, '..');
  // The VSIX of this checkout, as users install it (the harness would reuse an older one), or
  // AF_BENCH_VSIX: another build, to compare two back to back.
  const vsix = process.env.AF_BENCH_VSIX;
  if (!vsix) execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: 'ignore' });
  const rows: GalleryVscodeRow[] = [];
  const steps: Record<string, Open> = {};
  for (const n of sizes) {
    const dir = await makeProject(n);
    const cs = await startCodeServer({ workspace: dir, vsix, alsoInstall: [await floorVsix(path.dirname(dir), root)] });
    try {
      await cs.page.context().addInitScript(PROBE);
      await cs.page.evaluate(PROBE);
      await closeWalkthrough(cs);
      const first = await openPanel(cs, 'Art Factory: Open Gallery');
      await closeEditors(cs);
      const floorFirst = await openPanel(cs, FLOOR_COMMAND);
      const gallery: Open[] = [];
      const floor: Open[] = [];
      for (let r = 0; r < reopens; r++) {
        await closeEditors(cs);
        gallery.push(await openPanel(cs, 'Art Factory: Open Gallery'));
        if (r === reopens - 1) await cs.shot(`bench-gallery-${n}`);
        await closeEditors(cs);
        floor.push(await openPanel(cs, FLOOR_COMMAND));
      }
      const label = n.toLocaleString();
      console.log(`gallery in code-server at ${label} (ms from Enter), first open: ${JSON.stringify(first)}`);
      for (const g of gallery) console.log(`  reopen: ${JSON.stringify(g)}`);
      console.log(`hello-world webview, first open: ${JSON.stringify(floorFirst)}`);
      for (const f of floor) console.log(`  reopen: ${JSON.stringify(f)}`);
      steps[`gallery first ${label}`] = first;
      steps[`gallery reopen ${label}`] = medianOpen(gallery);
      steps[`floor first ${label}`] = floorFirst;
      steps[`floor reopen ${label}`] = medianOpen(floor);
      rows.push({ products: n, firstOpenMs: first.painted, reopenMs: median(gallery.map((t) => t.painted)), floorFirstMs: floorFirst.painted, floorReopenMs: median(floor.map((t) => t.painted)), reopens });
    } finally {
      await cs.stop();
      await fs.rm(path.dirname(dir), { recursive: true, force: true });
    }
  }
  return { rows, steps };
}
