// One build for everything: the extension host bundle, the database worker, the CLI and
// the webview apps. `--watch` rebuilds on change; `--production` minifies.
// sharp is native, so it stays external and is copied (with this machine's binaries) into
// dist/node_modules, which is what the VSIX ships instead of the whole node_modules;
// scripts/package.mjs swaps in another platform's for `--target`.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { copySharp } from './scripts/sharp-runtime.mjs';

const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const out = 'dist';

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // jsonc-parser's UMD "main" requires its parts dynamically; its ESM build bundles cleanly.
  mainFields: ['module', 'main'],
  sourcemap: !production,
  minify: production,
  // tsx is only used to start the worker from source (tests); the bundle never loads it.
  external: ['vscode', 'sharp', 'tsx'],
  logLevel: 'info',
};

const builds = [
  { ...nodeCommon, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: out },
  { ...nodeCommon, entryPoints: { 'db-worker': 'src/storage/worker.ts' }, outdir: out },
  { ...nodeCommon, entryPoints: { cli: 'src/cli/main.ts' }, outdir: out, banner: { js: '#!/usr/bin/env node' } },
  {
    bundle: true,
    platform: 'browser',
    target: 'chrome120',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryPoints: { gallery: 'src/webviews/gallery/main.tsx', spending: 'src/webviews/spending/main.tsx' },
    outdir: join(out, 'webviews'),
    loader: { '.css': 'css' },
    logLevel: 'info',
  },
].filter((b) => Object.values(b.entryPoints).every((f) => existsSync(f)));

function copyAssets() {
  mkdirSync(out, { recursive: true });
  cpSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(out, 'sql-wasm.wasm'));
  copySharp(out);
}

copyAssets();
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('[esbuild] watching…');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
