// The language model tools in VS Code. Copilot cannot run in code-server, so a small test
// extension, installed next to Art Factory, plays the agent: it calls `vscode.lm.invokeTool`
// on each tool in a journey (list models, generate, search, get, image-to-image from a product,
// rate and tag, bad arguments) and writes what it got; this test asserts on that and on the
// products on disk. The gallery, open while the agent works, shows its products and ratings live.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { TOOLS } from '../../src/agent/definitions.ts';
import { createProject } from '../../src/storage/index.ts';
import { ROOT, startCodeServer, until, webviewFrame, type CodeServer } from './harness.ts';

// Without a chat, VS Code asks a tool's confirmation (prepareInvocation) in a modal dialog:
// the test reads each one and answers it as the user would (every one yes, the 3-job one no).
// The agent: plain JavaScript, as an extension ships. Each step's answer (or error) is kept.
const AGENT = String.raw`
const vscode = require('vscode');
const fs = require('fs');
const text = (r) => r.content.map((p) => (p && typeof p.value === 'string' ? p.value : '')).join('');
const note = (line) => fs.appendFileSync(process.env.AF_AGENT_OUT + '.log', new Date().toISOString() + ' ' + line + '\n');
async function call(name, input) {
  note('calling ' + name);
  try {
    const r = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
    const t = text(r);
    return { ok: true, text: t, json: JSON.parse(t) };
  } catch (e) {
    return { ok: false, text: e && e.message ? e.message : String(e) };
  }
}
exports.activate = async function () {
  const out = process.env.AF_AGENT_OUT;
  if (!out) return;
  const r = {};
  try {
    // The test opens the gallery first, then says go.
    for (let i = 0; i < 1200 && !fs.existsSync(out + '.go'); i++) await new Promise((res) => setTimeout(res, 250));
    const names = ${JSON.stringify(TOOLS.map((t) => t.name))};
    for (let i = 0; i < 240 && !names.every((n) => vscode.lm.tools.some((t) => t.name === n)); i++) await new Promise((res) => setTimeout(res, 250));
    note('tools known: ' + vscode.lm.tools.map((t) => t.name).join(', '));
    r.tools = vscode.lm.tools.filter((t) => t.name.startsWith('artfactory_')).map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema }));
    r.models = await call('artfactory_list_models', { provider: 'sample' });
    r.generate = await call('artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'agent fox for the landing page', count: 2, input: { width: 384, height: 256, duration_ms: 300 } });
    const first = r.generate.ok ? r.generate.json.products[0].id : 'none';
    r.search = await call('artfactory_search_products', { text: 'fox' });
    r.get = await call('artfactory_get_product', { id: first });
    r.tint = await call('artfactory_generate', { provider: 'sample', model: 'sample/image-to-image', prompt: 'tint it green', input: { image_url: 'product:' + first, width: 256, height: 256, duration_ms: 200 } });
    r.rate = await call('artfactory_update_products', { ids: [first], rating: 5, favorite: true, addTags: ['hero'] });
    r.badArgs = await call('artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', count: 'many' });
    r.badInput = await call('artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'x', input: { width: 300 } });
    r.outside = await call('artfactory_generate', { file: '../elsewhere.art.json' });
    r.outsideImage = await call('artfactory_generate', { provider: 'sample', model: 'sample/image-to-image', prompt: 'tint the logo', input: { image_url: process.env.AF_AGENT_IMAGE, width: 256, height: 256, duration_ms: 200 } });
    r.declined = await call('artfactory_generate', { provider: 'sample', model: 'sample/gradient', prompt: 'not wanted', count: 3, input: { width: 256, height: 256 } });
    r.noProject = await call('artfactory_search_products', { project: '/etc' });
  } catch (e) {
    r.fatal = String(e && e.stack ? e.stack : e);
  }
  fs.writeFileSync(out + '.tmp', JSON.stringify(r));
  fs.renameSync(out + '.tmp', out);
};
`;

interface Step {
  ok: boolean;
  text: string;
  json?: Record<string, unknown> & { products?: { id: string; file: string }[] };
}

let cs: CodeServer;
let dir: string;
let out: string;
let logo: string;

/** The test extension, packaged as a VSIX with vsce (as any extension would be). */
async function agentVsix(base: string): Promise<string> {
  const ext = path.join(base, 'agent-ext');
  await fs.mkdir(ext, { recursive: true });
  await fs.writeFile(
    path.join(ext, 'package.json'),
    JSON.stringify({ name: 'tool-agent', displayName: 'Art Factory test agent', publisher: 'art-factory-tests', version: '0.0.1', engines: { vscode: '^1.100.0' }, main: './extension.js', activationEvents: ['onStartupFinished'], license: 'MIT', files: ['extension.js'] }),
  );
  await fs.writeFile(path.join(ext, 'extension.js'), AGENT);
  await fs.writeFile(path.join(ext, 'README.md'), '# Test agent\n\nCalls the Art Factory tools.\n');
  const vsix = path.join(base, 'tool-agent.vsix');
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', vsix], { cwd: ext, stdio: ['ignore', 'ignore', 'inherit'] });
  return vsix;
}

before(async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'af-e2e-agent-'));
  dir = path.join(base, 'site');
  await createProject(dir, 'Landing page');
  await fs.writeFile(path.join(base, 'elsewhere.art.json'), JSON.stringify({ provider: 'sample', model: 'sample/gradient', input: { prompt: 'outside' } }));
  out = path.join(base, 'agent-result.json');
  // An image the user named from outside the project (sent, and listed in the confirmation).
  logo = path.join(base, 'brand', 'logo.png');
  await fs.mkdir(path.dirname(logo));
  await sharp({ create: { width: 200, height: 120, channels: 3, background: { r: 240, g: 90, b: 30 } } }).png().toFile(logo);
  cs = await startCodeServer({ workspace: dir, env: { AF_AGENT_OUT: out, AF_AGENT_IMAGE: logo }, alsoInstall: [await agentVsix(base)] });
});

after(async () => {
  await cs?.stop();
});

test('an agent calls every tool through vscode.lm.invokeTool: products made, found, read, curated; errors clean', { timeout: 300_000 }, async () => {
  // The gallery is open while the agent works: what it makes and rates appears live.
  await cs.command('Art Factory: Open Gallery');
  const frame = await webviewFrame(cs.page, '[role=grid]');
  await fs.writeFile(`${out}.go`, '');
  const dialogs: { title: string; detail: string }[] = [];
  const dialog = cs.page.locator('.monaco-dialog-box');
  await until(
    'the test agent to finish',
    async () => {
      if (existsSync(out)) return true;
      if (await dialog.isVisible().catch(() => false)) {
        const title = (await dialog.locator('.dialog-message-text').textContent()) ?? '';
        const detail = (await dialog.locator('.dialog-message-detail').textContent().catch(() => '')) ?? '';
        dialogs.push({ title, detail });
        await cs.shot(`agent-tools-confirm-${dialogs.length}`);
        await dialog.locator('.dialog-buttons .monaco-button', { hasText: title.includes('3 jobs') ? 'Cancel' : /^(Yes|OK|Continue)$/ }).first().click();
        await dialog.waitFor({ state: 'hidden' });
      }
      return false;
    },
    180_000,
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}; dialogs: ${JSON.stringify(dialogs)}; its log:\n${await fs.readFile(`${out}.log`, 'utf8').catch(() => '(none)')}`);
  });
  const r = JSON.parse(await fs.readFile(out, 'utf8')) as Record<string, Step> & { tools: { name: string; inputSchema: { properties: Record<string, unknown> } }[]; fatal?: string };
  assert.equal(r.fatal, undefined, r.fatal);

  // VS Code knows the five tools with their schemas (from package.json).
  assert.deepEqual(r.tools.map((t) => t.name).sort(), TOOLS.map((t) => t.name).sort());
  assert.ok('prompt' in r.tools.find((t) => t.name === 'artfactory_generate')!.inputSchema.properties);

  assert.ok(r.models.ok, r.models.text);
  assert.ok((r.models.json!.models as { id: string }[]).some((m) => m.id === 'sample/gradient'));

  // Two products from the Sample provider, at project-relative paths, really on disk.
  assert.ok(r.generate.ok, r.generate.text);
  const products = r.generate.json!.products!;
  assert.equal(products.length, 2);
  for (const p of products) {
    assert.match(p.file, /^products\//);
    const meta = await sharp(path.join(dir, p.file)).metadata();
    assert.deepEqual([meta.width, meta.height], [384, 256]);
  }
  assert.ok(r.search.ok, r.search.text);
  assert.equal(r.search.json!.total, 2);
  assert.ok(r.get.ok, r.get.text);
  assert.equal((r.get.json!.input as { prompt: string }).prompt, 'agent fox for the landing page');

  // Image to image from a product: the lineage is recorded.
  assert.ok(r.tint.ok, r.tint.text);
  const tinted = r.tint.json!.products![0];
  const tintSidecar = JSON.parse(await fs.readFile(path.join(dir, tinted.file.replace(/\.png$/, '.json')), 'utf8')) as { inputs: { product: string }[] };
  assert.equal(tintSidecar.inputs[0].product, products[0].id);

  // Curated through the ProductStore: the sidecar has it.
  assert.ok(r.rate.ok, r.rate.text);
  const sidecar = JSON.parse(await fs.readFile(path.join(dir, products[0].file.replace(/\.png$/, '.json')), 'utf8')) as { rating: number; favorite: boolean; tags: string[] };
  assert.deepEqual([sidecar.rating, sidecar.favorite, sidecar.tags], [5, true, ['hero']]);

  // Errors are the tool's clear sentences: no stack, and nothing made.
  const errors: [Step, RegExp][] = [
    [r.badArgs, /"count": .*expected number/],
    [r.badInput, /Nothing was sent: "width" must be one of/],
    [r.outside, /outside the project "Landing page"/],
    [r.noProject, /"\/etc" is not a project open here/],
  ];
  for (const [step, expected] of errors) {
    assert.equal(step.ok, false, step.text);
    assert.match(step.text, expected);
    assert.doesNotMatch(step.text, /\n\s+at |\.ts:\d+|\.js:\d+/);
  }
  // What the user was asked before anything was spent: jobs, model, project, outside images.
  assert.deepEqual(
    dialogs.map((d) => d.title),
    ['Generate 2 jobs with Art Factory?', 'Generate 1 job with Art Factory?', 'Generate 1 job with Art Factory?', 'Generate 1 job with Art Factory?', 'Generate 3 jobs with Art Factory?'],
  );
  assert.match(dialogs[0].detail, /2 jobs with Sample: Gradient Shapes \(offline\) \(sample\/gradient\) on Sample, into the project Landing page/);
  assert.ok(dialogs[3].detail.endsWith(`Images from outside the project are sent to Sample: ${logo}.`), dialogs[3].detail);
  assert.ok(r.outsideImage.ok, r.outsideImage.text);
  const logoSidecar = JSON.parse(await fs.readFile(path.join(dir, r.outsideImage.json!.products![0].file.replace(/\.png$/, '.json')), 'utf8')) as { inputs: { path: string }[] };
  assert.equal(logoSidecar.inputs[0].path, logo);
  // Declined in the dialog: the agent is told, nothing is sent.
  assert.equal(r.declined.ok, false);
  assert.match(r.declined.text, /Cancel/i);

  const files = (await fs.readdir(path.join(dir, 'products'), { recursive: true })).filter((f) => String(f).endsWith('.png'));
  assert.equal(files.length, 4, 'two generated, two tinted; the refused and declined calls made nothing');

  // The open gallery shows what the agent made, with the rating it gave.
  await until('four tiles', async () => (await frame.locator('[role=gridcell]').count()) === 4);
  await until('the rating on its tile', async () => /, favourite, 5 stars$/.test((await frame.locator(`#tile-${products[0].id}`).getAttribute('aria-label')) ?? ''), 10_000);
  await cs.shot('agent-tools-01-gallery');
});
