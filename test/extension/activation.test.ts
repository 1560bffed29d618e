// Activation must stay light: no sql.js, no sharp, no database worker until a project is used.
// This loads the built bundle with a permissive stand-in for the `vscode` module (every
// property is a callable, constructible no-op) and inspects what got loaded.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(__dirname, '../..');
const BUNDLE = path.join(ROOT, 'dist', 'extension.js');

function stub(name: string): unknown {
  const target = function () {};
  return new Proxy(target, {
    get: (_t, prop) => {
      if (prop === 'then') return undefined; // not a promise
      if (prop === Symbol.toPrimitive) return () => name;
      if (prop === Symbol.iterator) return function* () {};
      return stub(`${name}.${String(prop)}`);
    },
    set: () => true,
    apply: () => stub(`${name}()`),
    construct: () => stub(`new ${name}`) as object,
  });
}

/** The module object: real own properties (the bundle copies them), each a stub. */
function vscodeModule(): Record<string, unknown> {
  const names = ['window', 'workspace', 'commands', 'languages', 'env', 'extensions', 'Uri', 'EventEmitter', 'Disposable', 'ThemeIcon', 'TreeItem', 'TreeItemCollapsibleState', 'StatusBarAlignment', 'ProgressLocation', 'QuickPickItemKind', 'ViewColumn', 'MarkdownString', 'CodeLens', 'Range', 'Diagnostic', 'DiagnosticSeverity', 'lm'];
  return Object.fromEntries(names.map((n) => [n, stub(`vscode.${n}`)]));
}

test('activating loads neither sql.js nor sharp nor the database worker', async () => {
  if (!existsSync(BUNDLE)) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const load = (Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown })._load;
  (Module as unknown as { _load: unknown })._load = function (req: string, ...rest: unknown[]) {
    return req === 'vscode' ? vscodeModule() : load.call(this, req, ...rest);
  };
  const { Worker } = await import('node:worker_threads');
  let workers = 0;
  const originalPost = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (...args: Parameters<typeof originalPost>) {
    workers++;
    return originalPost.apply(this, args);
  };
  try {
    const before = new Set(Object.keys(require.cache));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS bundle, loaded the way VS Code loads it
    const ext = require(BUNDLE) as { activate(ctx: unknown): Promise<{ version: number }>; deactivate(): Promise<void> };
    const subscriptions: { dispose(): void }[] = [];
    const memento = { get: (_k: string, d?: unknown) => d, update: async () => undefined, keys: () => [] };
    const context = {
      subscriptions,
      extensionPath: path.join(ROOT),
      extensionUri: stub('extensionUri'),
      globalStorageUri: { fsPath: os.tmpdir() },
      globalState: memento,
      workspaceState: memento,
      secrets: { get: async () => undefined, store: async () => undefined, delete: async () => undefined },
    };
    const started = performance.now();
    const api = await ext.activate(context);
    const ms = performance.now() - started;
    assert.equal(api.version, 1);
    const loaded = Object.keys(require.cache).filter((k) => !before.has(k));
    assert.deepEqual(loaded.filter((k) => /[/\\](sharp|sql\.js|@img)[/\\]/.test(k)), [], 'sharp and sql.js are not loaded');
    assert.equal(workers, 0, 'no database worker was started');
    assert.ok(ms < 5000, `activation took ${ms.toFixed(0)} ms`);
    for (const s of subscriptions.reverse()) s.dispose();
    await ext.deactivate();
  } finally {
    (Module as unknown as { _load: unknown })._load = load;
    Worker.prototype.postMessage = originalPost;
  }
});
