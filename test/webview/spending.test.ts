// The Spending page (issue 11): the BUILT bundle in the HTML the panel serves (spendingHtml, its
// CSP with a nonce) in headless Chromium, drawing a report the host posts, with no CSP violation;
// and the host acting only on messages of ours (a hostile page may post anything).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { spendingHtml } from '../../src/webviews/spendingHtml.ts';
import { parseSpendingMessage, rangeStart, type SpendingView } from '../../src/webviews/spendingProtocol.ts';
import { CHROMIUM, THEMES } from './harness.ts';

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist', 'webviews');

const VIEW: SpendingView = {
  scope: '/p',
  scopes: [
    { value: '', label: 'All projects' },
    { value: '/p', label: 'Harbour' },
  ],
  range: '7d',
  title: 'Harbour',
  report: {
    totals: [
      { amount: 0.36, currency: 'USD', estimated: true },
      { amount: 16, currency: 'buzz', estimated: false },
    ],
    days: [
      { day: '2026-11-30', totals: [{ amount: 0.12, currency: 'USD', estimated: false }] },
      { day: '2026-12-01', totals: [{ amount: 0.24, currency: 'USD', estimated: true }, { amount: 16, currency: 'buzz', estimated: false }] },
    ],
    rows: [
      { provider: 'replicate', model: 'stability-ai/sdxl', currency: 'USD', jobs: 3, amount: 0.24, estimated: true },
      { provider: 'fal', model: 'fal-ai/flux/dev', currency: 'USD', jobs: 2, amount: 0.12, estimated: false },
      { provider: 'civitai', model: 'urn:air:sdxl:checkpoint:civitai:101055@128078', currency: 'buzz', jobs: 1, amount: 16, estimated: false },
    ],
    open: 1,
    budgets: [{ scope: 'project', budget: { currency: 'USD', per: 'day', limit: 1 }, spent: 0.24, left: 0.76 }],
  },
};

test('the Spending page draws what the host posts under its CSP: bars per day, the table, the budget left', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is missing`);
  if (!existsSync(path.join(DIST, 'spending.js'))) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'ignore' });
  let html = '';
  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/dist/')) {
      const file = path.join(DIST, path.basename(url));
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(await fs.readFile(file));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  html = spendingHtml({ cspSource: origin, scriptUri: `${origin}/dist/spending.js`, styleUri: `${origin}/dist/spending.css` });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    const violations: string[] = [];
    const errors: string[] = [];
    page.on('console', (m) => (/Content Security Policy/i.test(m.text()) ? violations.push(m.text()) : m.type() === 'error' && errors.push(m.text())));
    page.on('pageerror', (e) => errors.push(e.message));
    // A string, not a function: tsx would add helpers the page does not have.
    await page.addInitScript(`
      window.sent = [];
      window.acquireVsCodeApi = () => ({ postMessage: (m) => window.sent.push(m), getState: () => undefined, setState: () => undefined });
      document.addEventListener('DOMContentLoaded', () => Object.entries(${JSON.stringify(THEMES.dark)}).forEach(([k, v]) => document.documentElement.style.setProperty(k, v)));
    `);
    await page.goto(origin);
    // The page says it is ready; the host answers with the view.
    // (Polled with evaluate: waitForFunction compiles its predicate, which the CSP refuses.)
    for (let i = 0; i < 200 && !(await page.evaluate(() => (window as unknown as { sent: { type: string }[] }).sent.some((m) => m.type === 'ready'))); i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(errors, []);
    await page.evaluate((view) => window.postMessage({ type: 'view', view }, '*'), VIEW);
    await page.locator('table tbody tr').first().waitFor();
    const text = (await page.locator('main').textContent()) ?? '';
    assert.match(text, /Harbour: ≈ \$0\.36 \+ 16 Buzz last 7 days/);
    assert.match(text, /1 job has not ended \(running, or cut short by a crash\): counted at its estimate/);
    assert.match(text, /\$0\.24 spent, \$0\.76 left/);
    assert.equal(await page.locator('table tbody tr').count(), 3);
    assert.match((await page.locator('table tbody tr').first().textContent()) ?? '', /stability-ai\/sdxl3≈ \$0\.24/);
    assert.equal(await page.locator('.bar').count(), 2);
    // The higher day's bar is the taller one.
    const heights = await page.locator('.bar .fill').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
    assert.ok(heights[1] > heights[0] * 1.8, `bars ${heights.join(', ')}`);
    await page.locator('vscode-button', { hasText: 'Raise Budget' }).click();
    const sent = await page.evaluate(() => (window as unknown as { sent: unknown[] }).sent);
    assert.deepEqual(sent.at(-1), { type: 'raiseBudget', scope: '/p' });
    assert.deepEqual(violations, []);
    await fs.mkdir(path.join(ROOT, 'test-results', 'webview'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-results', 'webview', 'spending.png') });
  } finally {
    await browser.close();
    server.close();
  }
});

test('the host acts only on messages of ours, each checked', () => {
  assert.deepEqual(parseSpendingMessage({ type: 'show', scope: '/p', range: '30d' }), { type: 'show', scope: '/p', range: '30d' });
  assert.deepEqual(parseSpendingMessage({ type: 'ready' }), { type: 'ready', scope: undefined, range: undefined });
  const hostile: unknown[] = [
    null,
    'show',
    { type: 'show', scope: '/p', range: 'forever' },
    { type: 'show', scope: 5, range: '7d' },
    { type: 'openLedger' },
    { type: 'raiseBudget', scope: 'x'.repeat(5000) },
    { type: 'runCommand', command: 'workbench.action.terminal.new' },
    { type: '__proto__' },
  ];
  for (const m of hostile) assert.equal(parseSpendingMessage(m), undefined, JSON.stringify(m)?.slice(0, 80));
  // A too-long currency is dropped, the rest kept.
  assert.deepEqual(parseSpendingMessage({ type: 'raiseBudget', scope: '/p', currency: 'x'.repeat(40) }), { type: 'raiseBudget', scope: '/p', currency: undefined });
  // Ranges start at local midnight.
  const now = new Date(2026, 11, 10, 15, 30);
  assert.deepEqual(rangeStart('today', now), new Date(2026, 11, 10));
  assert.deepEqual(rangeStart('7d', now), new Date(2026, 11, 4));
  assert.equal(rangeStart('all', now), undefined);
});
