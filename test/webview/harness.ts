// A stand-in for the VS Code webview host: serves the BUILT gallery bundle, gives the page an
// acquireVsCodeApi() whose messages reach a real GalleryController over a real project
// database, and posts the controller's messages back into the page.
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import type { ProductRecord, ProjectDb } from '../../src/storage/types.ts';
import { GalleryController } from '../../src/webviews/galleryController.ts';
import { galleryHtml } from '../../src/webviews/galleryHtml.ts';
import type { Filter, HostMessage } from '../../src/webviews/protocol.ts';

const ROOT = path.resolve(__dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = path.join(ROOT, 'test-results', 'webview');

// Colours from VS Code's default themes, including the ones vscode-elements read (settings.*,
// the secondary button's hover); HC themes define no secondary-button background in VS Code.
export const THEMES: Record<string, Record<string, string>> = {
  dark: { '--vscode-editor-background': '#1e1e1e', '--vscode-foreground': '#cccccc', '--vscode-descriptionForeground': '#a0a0a0', '--vscode-focusBorder': '#007fd4', '--vscode-input-background': '#3c3c3c', '--vscode-input-foreground': '#cccccc', '--vscode-button-secondaryBackground': '#3a3d41', '--vscode-button-secondaryForeground': '#ffffff', '--vscode-badge-background': '#4d4d4d', '--vscode-badge-foreground': '#ffffff', '--vscode-errorForeground': '#f48771', '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-list-activeSelectionBackground': '#04395e', '--vscode-progressBar-background': '#0e70c0', '--vscode-charts-yellow': '#cca700', '--vscode-button-secondaryHoverBackground': '#45494e', '--vscode-settings-textInputBackground': '#3c3c3c', '--vscode-settings-textInputForeground': '#cccccc', '--vscode-settings-dropdownBackground': '#3c3c3c', '--vscode-settings-dropdownForeground': '#f0f0f0', '--vscode-settings-dropdownBorder': '#3c3c3c', '--vscode-settings-dropdownListBorder': '#454545', '--vscode-settings-checkboxBackground': '#3c3c3c', '--vscode-settings-checkboxForeground': '#f0f0f0', '--vscode-settings-checkboxBorder': '#3c3c3c', '--vscode-input-placeholderForeground': '#a6a6a6', '--vscode-list-activeSelectionForeground': '#ffffff', '--vscode-list-hoverBackground': '#2a2d2e' },
  light: { '--vscode-editor-background': '#ffffff', '--vscode-foreground': '#3b3b3b', '--vscode-descriptionForeground': '#5f5f5f', '--vscode-focusBorder': '#005fb8', '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#3b3b3b', '--vscode-input-border': '#cecece', '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b', '--vscode-badge-background': '#cccccc', '--vscode-badge-foreground': '#3b3b3b', '--vscode-errorForeground': '#a1260d', '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-list-activeSelectionBackground': '#0060c0', '--vscode-progressBar-background': '#0e70c0', '--vscode-charts-yellow': '#8a6b00', '--vscode-button-secondaryHoverBackground': '#cccccc', '--vscode-settings-textInputBackground': '#ffffff', '--vscode-settings-textInputForeground': '#3b3b3b', '--vscode-settings-textInputBorder': '#cecece', '--vscode-settings-dropdownBackground': '#ffffff', '--vscode-settings-dropdownForeground': '#3b3b3b', '--vscode-settings-dropdownBorder': '#cecece', '--vscode-settings-dropdownListBorder': '#c8c8c8', '--vscode-settings-checkboxBackground': '#f8f8f8', '--vscode-settings-checkboxForeground': '#3b3b3b', '--vscode-settings-checkboxBorder': '#cecece', '--vscode-input-placeholderForeground': '#767676', '--vscode-list-activeSelectionForeground': '#ffffff', '--vscode-list-hoverBackground': '#f2f2f2', '--vscode-list-hoverForeground': '#3b3b3b' },
  'high-contrast': { '--vscode-editor-background': '#000000', '--vscode-foreground': '#ffffff', '--vscode-descriptionForeground': '#ffffff', '--vscode-focusBorder': '#f38518', '--vscode-contrastBorder': '#6fc3df', '--vscode-input-background': '#000000', '--vscode-input-foreground': '#ffffff', '--vscode-input-border': '#6fc3df', '--vscode-button-secondaryBackground': '#000000', '--vscode-button-secondaryForeground': '#ffffff', '--vscode-button-border': '#6fc3df', '--vscode-badge-background': '#000000', '--vscode-badge-foreground': '#ffffff', '--vscode-errorForeground': '#f48771', '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-progressBar-background': '#6fc3df', '--vscode-charts-yellow': '#ffff00', '--vscode-settings-textInputBackground': '#000000', '--vscode-settings-textInputForeground': '#ffffff', '--vscode-settings-textInputBorder': '#6fc3df', '--vscode-settings-dropdownBackground': '#000000', '--vscode-settings-dropdownForeground': '#ffffff', '--vscode-settings-dropdownBorder': '#6fc3df', '--vscode-settings-dropdownListBorder': '#6fc3df', '--vscode-settings-checkboxBackground': '#000000', '--vscode-settings-checkboxForeground': '#ffffff', '--vscode-settings-checkboxBorder': '#6fc3df', '--vscode-input-placeholderForeground': '#b3b3b3' },
  'high-contrast-light': { '--vscode-editor-background': '#ffffff', '--vscode-foreground': '#292929', '--vscode-descriptionForeground': '#292929', '--vscode-focusBorder': '#006bbd', '--vscode-contrastBorder': '#0f4a85', '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#292929', '--vscode-input-border': '#0f4a85', '--vscode-button-secondaryBackground': '#ffffff', '--vscode-button-secondaryForeground': '#292929', '--vscode-button-border': '#0f4a85', '--vscode-badge-background': '#0f4a85', '--vscode-badge-foreground': '#ffffff', '--vscode-errorForeground': '#b5200d', '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-progressBar-background': '#0f4a85', '--vscode-charts-yellow': '#7a5c00', '--vscode-settings-textInputBackground': '#ffffff', '--vscode-settings-textInputForeground': '#292929', '--vscode-settings-textInputBorder': '#0f4a85', '--vscode-settings-dropdownBackground': '#ffffff', '--vscode-settings-dropdownForeground': '#292929', '--vscode-settings-dropdownBorder': '#0f4a85', '--vscode-settings-dropdownListBorder': '#0f4a85', '--vscode-settings-checkboxBackground': '#ffffff', '--vscode-settings-checkboxForeground': '#292929', '--vscode-settings-checkboxBorder': '#0f4a85', '--vscode-input-placeholderForeground': '#5e5e5e' },
};

const WORDS = ['fox', 'lighthouse', 'ocean', 'forest', 'neon', 'city', 'portrait', 'dragon', 'glass', 'desert', 'storm', 'garden'];

/** Product `i`; `over` may give it another id (its file is named after whichever id it has). */
export function fakeProduct(i: number, over: Partial<ProductRecord> = {}): ProductRecord {
  const id = over.id ?? `P${String(i).padStart(8, '0')}`;
  const prompt = `${WORDS[i % WORDS.length]} ${WORDS[(i * 7 + 3) % WORDS.length]} study ${i}`;
  return {
    id, jobId: `J${i}`, provider: ['fal', 'replicate', 'sample'][i % 3], model: ['fal-ai/flux/dev', 'black-forest-labs/flux-schnell', 'sample/gradient'][i % 3],
    kind: 'image', mediaType: 'image/png', file: `products/2026/01/01/${id}.png`, width: 512, height: 512, bytes: 1, sha256: 'x',
    input: { prompt, seed: i, guidance_scale: 3 + (i % 4) }, prompt, seed: i, createdAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    favorite: false, rating: 0, tags: i % 10 === 0 ? ['keeper'] : [], notes: '', outputIndex: 0,
    ...over,
  };
}

/** Build the bundle unless it is there already (the test command builds before tests). */
export function ensureBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'webviews', 'gallery.js'))) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'ignore' });
}

/** In the page, as source text: whether every product tile in the grid's view shows its loaded
 * thumbnail (the benches' "thumbnails painted", one frame later). */
export const THUMBS_SHOWN = `() => {
  const grid = document.querySelector('[role=grid]');
  if (!grid) return false;
  const g = grid.getBoundingClientRect();
  const tiles = [...document.querySelectorAll('.tile.product')].filter((t) => { const r = t.getBoundingClientRect(); return r.bottom > g.top && r.top < g.bottom; });
  return tiles.length > 0 && tiles.every((t) => { const img = t.querySelector('img'); return img && img.complete && img.naturalWidth > 0; });
}`;

export interface ColdOpen {
  /** The host built the initial state (query and tiles) and the HTML. */
  hostMs: number;
  htmlBytes: number;
  /** The page's navigation started (its time origin). */
  navigationMs: number;
  /** The first frame painted after the grid held tiles. */
  tilesPaintedMs: number;
  /** The first frame painted after every tile in view had its thumbnail loaded. */
  thumbsPaintedMs: number;
}

export interface GalleryRig {
  page: Page;
  browser: Browser;
  db: ProjectDb;
  dir: string;
  controller: GalleryController;
  received: unknown[];
  /** Every message the host posted (also while hidden, when the page does not get it). */
  posted: HostMessage[];
  /** The first message the page sent from `received[since]` on that `pred` accepts, once the
   * host has handled it (no fixed wait: it resolves when that happens). */
  message(pred: (m: { method?: string; params?: unknown }) => boolean, since?: number): Promise<{ method?: string; params?: unknown }>;
  /** CSP violations reported in the page (securitypolicyviolation events) and console warnings/errors. */
  cspViolations(): Promise<string[]>;
  console: string[];
  open(filter?: Filter): Promise<number>;
  /** What opening the gallery costs the user, cold: a new browser context (empty cache, new
   * renderer), then the host's initial state (database query and tiles), the HTML with it
   * and the page's first paint. Times are ms from the start of the host's query. */
  openCold(filter?: Filter): Promise<ColdOpen>;
  /** What VS Code does to a hidden webview (retainContextWhenHidden off) when it is shown
   * again: the same HTML loaded anew, with the state the page saved. */
  recreate(): Promise<void>;
  /** While hidden, the host's messages reach no page (VS Code drops them for a hidden webview). */
  hidden: boolean;
  theme(name: keyof typeof THEMES): Promise<void>;
  shot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** `deleteRows`: Delete removes the products' rows (as the trash does); otherwise they stay, for undo. */
export async function startGallery(count: number, opts: { products?: (i: number) => ProductRecord; readOnly?: string; deleteRows?: boolean } = {}): Promise<GalleryRig> {
  ensureBuilt();
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-gallery-')), 'p');
  await createProject(dir, 'Gallery test');
  const db = await openProjectDb(dir);
  const make = opts.products ?? fakeProduct;
  for (let i = 0; i < count; i += 2000) await db.putProducts(Array.from({ length: Math.min(2000, count - i) }, (_, k) => make(i + k)));
  // A handful of real thumbnails stand for all products.
  const thumbs: Buffer[] = [];
  for (let k = 0; k < 6; k++) thumbs.push(await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 40 * k, g: 120, b: 255 - 40 * k } } }).webp().toBuffer());

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/dist/')) {
      const file = path.join(ROOT, 'dist', 'webviews', path.basename(url.pathname));
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(await fs.readFile(file));
    } else if (url.pathname.startsWith('/thumb/')) {
      res.writeHead(200, { 'content-type': 'image/webp' });
      res.end(thumbs[Number(url.pathname.split('/')[2]) % thumbs.length]);
    } else if (url.pathname === '/gallery') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(currentHtml);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let currentHtml = '';
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  let page!: Page;
  const received: unknown[] = [];
  const posted: HostMessage[] = [];
  const controller = new GalleryController({
    projects: () => [{ dir, name: 'Gallery test', db: async () => db }],
    scope: dir,
    toUri: (abs) => `${origin}/thumb/${Math.abs([...abs].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7))}`,
    actions: {
      run: async (action) => `did ${action}`,
      // The products stay in the database: the grid is told they went, and undo asks again.
      delete: async (items) => {
        if (opts.deleteRows) await db.deleteProducts(items.map((i) => i.product.id));
        return { deleted: items.map((i) => i.product.id), note: 'did delete' };
      },
      undoDelete: async () => 'did undoDelete',
    },
    post: (m: HostMessage) => {
      posted.push(m);
      // As VS Code carries it: the extension host JSON-encodes the message (serializeWebviewMessage
      // in extHostWebviewMessaging.ts), the workbench parses it and posts it into the webview.
      // Handing Playwright the object instead made it walk and re-encode every tile with its own
      // serializer on both sides (about 100 ms for a page of 200 tiles under load), a cost VS Code
      // does not have and the bench counted in every search keystroke.
      if (!rig.hidden) void page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(m)).catch(() => undefined);
    },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    readOnly: () => opts.readOnly,
  });
  const handled = new Set<unknown>();
  const waiters = new Set<() => void>();
  const consoleMessages: string[] = [];
  /** A new browser context and page (empty cache, new renderer) with the host's stand-ins. */
  async function newPage(): Promise<Page> {
    if (page) await page.context().close();
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.exposeFunction('__host', (m: unknown) => {
      received.push(m);
      void controller.handle(m).finally(() => {
        handled.add(m);
        for (const w of [...waiters]) w();
      });
    });
    // A string, not a function: the test transpiler's helpers do not exist in the page.
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleMessages.push(m.text());
    });
    // Like VS Code, which sets its theme's variables on the webview's <html> before the page's
    // scripts run (dark until theme() switches), so no control is ever seen unthemed.
    await page.addInitScript(`
      const theme = (vars) => {
        const style = document.documentElement.style;
        for (const k of [...style]) if (k.startsWith('--vscode-')) style.removeProperty(k);
        for (const [k, v] of Object.entries(vars)) style.setProperty(k, v);
      };
      window.__setTheme = theme;
      if (document.documentElement) theme(${JSON.stringify(THEMES.dark)});
      else new MutationObserver((_, o) => { if (document.documentElement) { o.disconnect(); theme(${JSON.stringify(THEMES.dark)}); } }).observe(document, { childList: true });
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI), true);
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__host(m),
        getState: () => JSON.parse(sessionStorage.getItem('vscode-state') ?? 'null'),
        setState: (s) => sessionStorage.setItem('vscode-state', JSON.stringify(s)),
      });
    `);
    return page;
  }
  await newPage();
  await fs.mkdir(SHOTS, { recursive: true });
  const rig: GalleryRig = {
    hidden: false,
    page, browser, db, dir, controller, received, posted, console: consoleMessages,
    message: (pred, since = 0) =>
      new Promise((resolve) => {
        const check = () => {
          const m = received.slice(since).find((x) => handled.has(x) && pred(x as { method?: string }));
          if (m === undefined) return;
          waiters.delete(check);
          resolve(m as { method?: string; params?: unknown });
        };
        waiters.add(check);
        check();
      }),
    cspViolations: () => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations),
    /** Load the panel's HTML with injected state; resolves with ms to the first painted tile. */
    async open(filter: Filter = { status: 'all', sort: 'newest' }) {
      const started = Date.now();
      const state = await controller.initialState(filter, { tileSize: 160, fit: false }, 'Gallery test');
      currentHtml = galleryHtml({ cspSource: origin, scriptUri: `${origin}/dist/gallery.js`, styleUri: `${origin}/dist/gallery.css`, state });
      await page.goto(`${origin}/gallery`);
      await page.waitForSelector('[role=gridcell]', { timeout: 30_000 }).catch(() => page.waitForSelector('.empty'));
      return Date.now() - started;
    },
    async openCold(filter: Filter = { status: 'all', sort: 'newest' }) {
      rig.page = await newPage();
      // Recorded by the page itself: a rAF callback runs before its frame is painted, so the
      // callback one frame after a condition first held runs after the paint that showed it.
      await page.addInitScript(`
        window.__paint = {};
        const now = () => performance.timeOrigin + performance.now();
        const shown = ${THUMBS_SHOWN};
        let tilesSeen = false, thumbsSeen = false;
        const tick = () => {
          const p = window.__paint;
          if (tilesSeen && !p.tiles) p.tiles = now();
          if (thumbsSeen && !p.thumbs) p.thumbs = now();
          tilesSeen ||= document.querySelector('[role=gridcell]') !== null;
          thumbsSeen ||= tilesSeen && shown();
          if (!p.thumbs) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      `);
      const t0 = Date.now();
      const state = await controller.initialState(filter, { tileSize: 160, fit: false }, 'Gallery test');
      currentHtml = galleryHtml({ cspSource: origin, scriptUri: `${origin}/dist/gallery.js`, styleUri: `${origin}/dist/gallery.css`, state });
      const hostMs = Date.now() - t0;
      await page.goto(`${origin}/gallery`);
      await page.waitForFunction(() => (window as unknown as { __paint: { thumbs?: number } }).__paint.thumbs, undefined, { timeout: 60_000, polling: 50 });
      const p = (await page.evaluate(() => ({ ...(window as unknown as { __paint: object }).__paint, origin: performance.timeOrigin }))) as { tiles: number; thumbs: number; origin: number };
      return { hostMs, htmlBytes: Buffer.byteLength(currentHtml), navigationMs: Math.round(p.origin - t0), tilesPaintedMs: Math.round(p.tiles - t0), thumbsPaintedMs: Math.round(p.thumbs - t0) };
    },
    async recreate() {
      await page.reload();
      await page.waitForSelector('[role=gridcell], .empty', { timeout: 30_000 });
    },
    async theme(name) {
      await page.evaluate((vars) => (window as unknown as { __setTheme(v: Record<string, string>): void }).__setTheme(vars), THEMES[name]);
    },
    async shot(name) {
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    },
    async close() {
      await browser.close();
      server.close();
      await db.close();
    },
  };
  return rig;
}
