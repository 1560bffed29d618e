// The gallery's Content-Security-Policy, tried for real: the BUILT bundle (dist/webviews) in the
// HTML the panel serves (galleryHtml), in headless Chromium. The page must run its own nonce'd
// script and load same-origin images, and must refuse everything an injected string could try:
// inline script without the nonce (or with a wrong one), inline event handlers, eval and its
// relatives, and any remote origin (script, image, stylesheet, fetch/XHR/WebSocket/beacon,
// frame). "Remote" is a second local server on another port, which would answer: so a refusal
// is the CSP's doing, not a missing network, and the server proves no request ever reached it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { galleryHtml } from '../../src/webviews/galleryHtml.ts';
import type { InitialState } from '../../src/webviews/protocol.ts';
import { pngBytes } from '../fakes/common.ts';
import { FaultReport, ROOT } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const DIST = path.join(ROOT, 'dist', 'webviews');

async function serve(handler: http.RequestListener): Promise<{ origin: string; close(): void }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('the gallery CSP runs its nonce\'d bundle and blocks inline script, eval and every remote origin', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is missing (scripts/test.sh installs it)`);
  if (!existsSync(path.join(DIST, 'gallery.js'))) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const report = new FaultReport('csp');
  const faults = report.category('CSP: injected script and remote origins');
  const png = await pngBytes(32, 32, [0, 128, 255]);

  const remoteHits: string[] = [];
  const remote = await serve((req, res) => {
    remoteHits.push(`${req.method} ${req.url}`);
    const type = req.url?.endsWith('.js') ? 'text/javascript' : req.url?.endsWith('.png') ? 'image/png' : req.url?.endsWith('.css') ? 'text/css' : 'text/html';
    res.writeHead(200, { 'content-type': type, 'access-control-allow-origin': '*' });
    res.end(type === 'image/png' ? png : type === 'text/javascript' ? 'window.__remoteScript = true;' : type === 'text/css' ? 'body { outline: 9px solid red; }' : '<p>remote</p>');
  });
  let html = '';
  const local = await serve(async (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/dist/')) {
      const file = path.join(DIST, path.basename(url));
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(await fs.readFile(file));
    } else if (url.startsWith('/thumb/')) {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    } else if (url === '/gallery') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    } else res.writeHead(404).end();
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const tiles = Array.from({ length: 6 }, (_, i) => ({
      id: `P${i}`,
      kind: 'product' as const,
      project: '/p',
      src: `${local.origin}/thumb/${i}.png`,
      thumb: `${local.origin}/thumb/${i}.png`,
      media: 'image' as const,
      prompt: `csp tile ${i}`,
      provider: 'sample',
      model: 'sample/gradient',
      rating: 0,
      favorite: false,
      tags: [],
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    }));
    const state: InitialState = { scope: '/p', title: 'CSP', filter: { status: 'all', sort: 'newest' }, tileSize: 160, page: { tiles, total: tiles.length } };
    // The panel's own HTML: cspSource is the local origin, as webview.cspSource is in VS Code.
    html = galleryHtml({ cspSource: local.origin, scriptUri: `${local.origin}/dist/gallery.js`, styleUri: `${local.origin}/dist/gallery.css`, state });
    assert.match(html, /Content-Security-Policy/);
    const page = await browser.newPage();
    await page.addInitScript(`
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective + ' ' + (e.blockedURI || '')), true);
      window.acquireVsCodeApi = () => ({ postMessage: () => undefined, getState: () => null, setState: () => undefined });
    `);
    await page.goto(`${local.origin}/gallery`);
    // The control: the nonce'd built bundle ran and same-origin images load.
    await page.waitForSelector('[role=gridcell]', { timeout: 30_000 });
    const R = remote.origin;
    // A string, not a function: the test transpiler's helpers (__name) do not exist in the page.
    const results = (await page.evaluate(`(async (R) => {
      const w = window;
      const out = {};
      const settle = () => new Promise((r) => setTimeout(r, 300));
      const loads = (el) => new Promise((resolve) => {
        el.addEventListener('load', () => resolve(true));
        el.addEventListener('error', () => resolve(false));
        setTimeout(() => resolve(false), 1500);
      });
      // Inline script without the nonce, and with a wrong one.
      const s1 = document.createElement('script');
      s1.textContent = 'window.__inline = true';
      document.body.appendChild(s1);
      const s2 = document.createElement('script');
      s2.setAttribute('nonce', 'not-the-nonce');
      s2.textContent = 'window.__wrongNonce = true';
      document.body.appendChild(s2);
      // An inline event handler (what an injected <img onerror> would be).
      const d = document.createElement('div');
      d.innerHTML = '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onerror="window.__handler = true" onload="window.__handler = true">';
      document.body.appendChild(d);
      // eval and its relatives, from a script the page trusts (it carries the page's nonce), run in
      // a task of its own: while the test driver's evaluate() runs, Chromium lets any code in the
      // page generate code from strings; the page's own code never may.
      const trusted = document.createElement('script');
      trusted.nonce = document.querySelector('script[nonce]').nonce;
      trusted.textContent = [
        'window.__trustedRan = true;',
        "try { window.__eval = eval('1 + 1') === 2; } catch (e) { window.__eval = false; }",
        "try { window.__Function = new Function('return 1')() === 1; } catch (e) { window.__Function = false; }",
        "try { setTimeout('window.__stringTimeout = true', 0); } catch (e) { /* blocked */ }",
      ].join(';');
      setTimeout(() => document.body.appendChild(trusted), 0);
      // Remote origins.
      const script = document.createElement('script');
      script.src = R + '/evil.js';
      const scriptLoaded = loads(script);
      document.body.appendChild(script);
      const img = document.createElement('img');
      img.src = R + '/evil.png';
      const imgLoaded = loads(img);
      document.body.appendChild(img);
      const css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = R + '/evil.css';
      const cssLoaded = loads(css);
      document.head.appendChild(css);
      const frame = document.createElement('iframe');
      frame.src = R + '/frame.html';
      document.body.appendChild(frame);
      out.fetch = await fetch(R + '/api').then(() => true, () => false);
      out.xhr = await new Promise((resolve) => {
        const x = new XMLHttpRequest();
        x.onload = () => resolve(true);
        x.onerror = () => resolve(false);
        try { x.open('GET', R + '/xhr'); x.send(); } catch { resolve(false); }
      });
      out.websocket = await new Promise((resolve) => {
        try {
          const ws = new WebSocket(R.replace('http', 'ws') + '/ws');
          ws.onopen = () => resolve(true);
          ws.onerror = () => resolve(false);
        } catch { resolve(false); }
      });
      // sendBeacon says it queued the beacon either way; the remote server's log tells.
      try { navigator.sendBeacon(R + '/beacon', 'x'); } catch { /* blocked */ }
      out.remoteScript = (await scriptLoaded) || w.__remoteScript === true;
      out.remoteImage = await imgLoaded;
      out.remoteStylesheet = await cssLoaded;
      await settle();
      out.inlineScript = w.__inline === true;
      out.wrongNonce = w.__wrongNonce === true;
      out.inlineHandler = w.__handler === true;
      out.stringTimeout = w.__stringTimeout === true;
      out.eval = w.__eval !== false;
      out.Function = w.__Function !== false;
      let framed = false;
      try { framed = !!(frame.contentDocument && frame.contentDocument.body && frame.contentDocument.body.textContent.includes('remote')); } catch { framed = true; }
      out.remoteFrame = framed;
      // Control: a same-origin image (the webview's own resources) still loads.
      const own = document.createElement('img');
      own.src = location.origin + '/thumb/control.png';
      const ownLoaded = loads(own);
      document.body.appendChild(own);
      out.control = (await ownLoaded) && w.__trustedRan === true;
      return { out, violations: w.__violations };
    })(${JSON.stringify(R)})`)) as { out: Record<string, boolean>; violations: string[] };
    const { control, ...attempts } = results.out;
    assert.equal(control, true, "same-origin images load and a nonce'd script runs (so what is blocked is the CSP's doing)");
    faults.injected = Object.keys(attempts).length;
    const ran = Object.entries(attempts).filter(([, v]) => v).map(([k]) => k);
    faults.survived = faults.injected - ran.length;
    assert.deepEqual(ran, [], 'nothing injected ran and no remote origin was reached');
    assert.deepEqual(remoteHits, [], 'the remote server never saw a request');
    const directives = new Set(results.violations.map((v) => v.split(' ')[0]));
    assert.ok(results.violations.some((v) => v.startsWith('connect-src') && v.includes('/beacon')), 'the beacon was refused');
    for (const d of ['script-src-elem', 'script-src-attr', 'script-src', 'img-src', 'style-src-elem', 'connect-src', 'frame-src']) {
      assert.ok(directives.has(d), `a ${d} violation was reported (${[...directives].join(', ')})`);
    }
    faults.notes = { 'violations reported': results.violations.length, directives: [...directives].sort().join(', ') };
  } finally {
    report.write();
    await browser.close();
    local.close();
    remote.close();
  }
});
