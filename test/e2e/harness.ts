// End-to-end harness: code-server 4.100.3 (installed by scripts/code-server.sh into a cache
// outside the repo) with a throwaway user-data and extensions dir, the freshly built VSIX
// installed, driven by playwright-core and Debian's chromium like a user would.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
export const SHOTS = path.join(ROOT, 'test-results', 'e2e');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CodeServer {
  url: string;
  page: Page;
  browser: Browser;
  userDataDir: string;
  shot(name: string): Promise<void>;
  command(title: string): Promise<void>;
  /** Quick Open (Ctrl+P) a file by name into the active editor group; resolves once its tab is active. */
  openFile(name: string): Promise<void>;
  /** Whether a notification says `text`: as a toast, or else in the notification center (VS Code
   * sometimes files a message there without a toast, e.g. right after another one closed). */
  notified(text: string, shot: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** Polls `probe` every 250 ms until it returns a truthy value. */
export async function until<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts code-server on a folder or a `.code-workspace` file; fails with the reason when it cannot.
 * `settings` add to (or override) the user settings; `vsix` installs another build than this
 * machine's; `alsoInstall` installs more VSIXs next to it (a test extension). The walkthrough that opens on first start is off unless `settings` turn it on. */
export async function startCodeServer(opts: { workspace: string; env?: NodeJS.ProcessEnv; settings?: Record<string, unknown>; vsix?: string; alsoInstall?: string[] }): Promise<CodeServer> {
  execFileSync('bash', [path.join(ROOT, 'scripts/code-server.sh'), 'install'], { stdio: 'inherit' });
  const entry = execFileSync('bash', [path.join(ROOT, 'scripts/code-server.sh'), 'path'], { encoding: 'utf8' }).trim();
  const vsix = opts.vsix ?? path.join(ROOT, 'dist', 'art-factory.vsix');
  if (!existsSync(vsix)) execFileSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, stdio: 'inherit' });
  const base = mkdtempSync(path.join(os.tmpdir(), 'af-e2e-'));
  const userDataDir = path.join(base, 'data');
  const extensionsDir = path.join(base, 'extensions');
  const settings = JSON.stringify({ 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'workbench.tips.enabled': false, 'update.mode': 'none', 'extensions.ignoreRecommendations': true, 'telemetry.telemetryLevel': 'off', 'editor.codeLens': true, 'artFactory.jobs.pollIntervalMs': 200, 'workbench.welcomePage.walkthroughs.openOnInstall': false, ...opts.settings });
  // A code-server window is a remote one: machine-scoped settings (walkthroughs.openOnInstall)
  // apply only from the remote's settings (Machine/), never from the user's (User/).
  for (const scope of ['User', 'Machine']) {
    mkdirSync(path.join(userDataDir, scope), { recursive: true });
    writeFileSync(path.join(userDataDir, scope, 'settings.json'), settings);
  }
  for (const v of [vsix, ...(opts.alsoInstall ?? [])]) execFileSync(process.execPath, [entry, '--install-extension', v, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir], { stdio: 'ignore' });
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, opts.workspace], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d));
  child.stderr?.on('data', (d: Buffer) => (log += d));
  const kind = opts.workspace.endsWith('.code-workspace') ? 'workspace' : 'folder';
  const url = `http://127.0.0.1:${port}/?${kind}=${encodeURIComponent(opts.workspace)}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 300 || child.exitCode !== null) throw new Error(`code-server did not start: ${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  mkdirSync(SHOTS, { recursive: true });
  const cs: CodeServer = {
    url,
    page,
    browser,
    userDataDir,
    shot: async (name) => {
      await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    },
    command: async (title) => {
      const input = page.locator('.quick-input-widget input');
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      // Right after start-up the palette may answer before the extension's commands are known
      // (or before a `when` clause holds): close it and ask again.
      // (A palette that closes under us, e.g. when an editor opens by itself, is asked again too.)
      for (let attempt = 1; ; attempt++) {
        const listed = async () => {
          await page.keyboard.press('F1');
          await input.waitFor({ state: 'visible', timeout: 10_000 });
          await input.fill(`>${title}`, { timeout: 10_000 });
          await row.waitFor({ timeout: 5_000 });
        };
        // Listed and still there (the palette may also close between the two).
        if ((await listed().then(() => true, () => false)) && (await row.isVisible())) break;
        if (attempt >= 6) {
          await row.waitFor({ timeout: 5_000 });
          break;
        }
        await page.keyboard.press('Escape');
        await input.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
      }
      await page.keyboard.press('Enter');
    },
    openFile: async (name) => {
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input').fill(name);
      // The row Enter opens: until the list is filtered, a recently opened editor (the
      // gallery) may still be first.
      await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).first().waitFor();
      await page.keyboard.press('Enter');
      await page.locator('.editor-group-container.active .tab.active', { hasText: name }).waitFor();
    },
    notified: async (text, shot) => {
      const inToasts = () => page.evaluate((t) => Array.from(document.querySelectorAll('.notifications-toasts')).some((e) => e.textContent?.includes(t)), text);
      if (await until(`"${text}" in a toast`, inToasts, 5000).catch(() => false)) {
        await cs.shot(shot);
        return true;
      }
      await cs.command('Notifications: Show Notifications');
      const inCenter = await until(`"${text}" in the notification center`, () => page.evaluate((t) => !!document.querySelector('.notifications-center')?.textContent?.includes(t), text), 10_000).catch(() => false);
      await cs.shot(shot);
      await cs.command('Notifications: Hide Notifications');
      return inCenter;
    },
    stop: async () => {
      await browser.close().catch(() => undefined);
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  return cs;
}

/** The frame of a webview whose document has `selector` (code-server nests them in iframes).
 * Polled, so a generous cap costs nothing when the frame comes: a loaded machine (load 25 on 2
 * cores) took over 60 s to paint the first gallery in code-server. */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 120_000): Promise<Frame> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const f of page.frames()) {
      if (await f.locator(selector).count().catch(() => 0)) return f;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview frame with ${selector}`);
}
