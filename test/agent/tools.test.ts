// The agent tools in process, with a host of two real projects (real databases, engines and the
// Submitter): which project a call acts on, Restricted Mode, what a generation will do before it
// is sent, a wait that runs out, and a stopped call canceling its jobs.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { AgentHost, AgentProject } from '../../src/agent/host.ts';
import type { Submitter } from '../../src/engine/submission.ts';
import { AgentTools } from '../../src/agent/tools.ts';
import { cliAgentHost } from '../../src/cli/mcp.ts';
import { openCliSession, type CliSession } from '../../src/cli/session.ts';
import { createProject } from '../../src/storage/index.ts';
import { log } from '../engine/helpers.ts';

let root: string;
const sessions: CliSession[] = [];
let restricted: string | undefined;
let host: AgentHost;
let tools: AgentTools;

/** Two projects in one host, as two workspace folders in VS Code. */
before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-agent-'));
  const projects: (AgentProject & { submitter: Submitter })[] = [];
  for (const name of ['Shop', 'Blog']) {
    const dir = path.join(root, name.toLowerCase());
    await createProject(dir, name);
    const session = openCliSession(dir, { log, confirmAbove: () => 8 });
    sessions.push(session);
    projects.push({ dir, name, db: session.db, submitter: session.submitter });
  }
  const base = cliAgentHost(projects[0].dir, 'Shop', sessions[0], log, 8);
  host = {
    ...base,
    projects: async () => projects,
    activeProject: () => undefined,
    refusal: () => restricted,
    // Each project's jobs go to its own engine: the Submitter of the project named.
    submitter: {
      plan: (r: Parameters<typeof base.submitter.plan>[0]) => projects.find((p) => p.dir === r.parts[0].projectDir)!.submitter.plan(r),
      submit: (r: Parameters<typeof base.submitter.submit>[0], h: Parameters<typeof base.submitter.submit>[1]) => projects.find((p) => p.dir === r.parts[0].projectDir)!.submitter.submit(r, h),
    } as AgentHost['submitter'],
  };
  tools = new AgentTools(host);
});

after(async () => {
  for (const s of sessions) await s.close();
});

const sample = { provider: 'sample', model: 'sample/gradient', input: { width: 256, height: 256, duration_ms: 100 } };

test('with two projects open, a call names one (by name or folder); none named is a clear question', async () => {
  const unnamed = await tools.call('artfactory_search_products', {});
  assert.equal(unnamed.ok, false);
  assert.match(unnamed.text, /Several projects are open; say which with "project": "Shop" \(.*shop\), "Blog" \(.*blog\)/);
  const made = await tools.call('artfactory_generate', { ...sample, prompt: 'blog header', project: 'Blog' });
  assert.ok(made.ok, made.text);
  const inBlog = await tools.call('artfactory_search_products', { project: path.join(root, 'blog') });
  assert.ok(inBlog.ok);
  assert.equal(JSON.parse(inBlog.text).total, 1);
  const inShop = await tools.call('artfactory_search_products', { project: 'Shop' });
  assert.equal(JSON.parse(inShop.ok ? inShop.text : '{}').total, 0, 'the product went to the project named, not the other');
});

test('Restricted Mode: generate and curate are refused with the reason; reading works', async () => {
  restricted = 'This workspace is in Restricted Mode.';
  try {
    const gen = await tools.call('artfactory_generate', { ...sample, prompt: 'x', project: 'Shop' });
    assert.deepEqual(gen, { ok: false, text: 'This workspace is in Restricted Mode.' });
    const rate = await tools.call('artfactory_update_products', { ids: ['x'], rating: 2, project: 'Shop' });
    assert.equal(rate.ok, false);
    assert.match(rate.text, /Restricted Mode/);
    assert.ok((await tools.call('artfactory_search_products', { project: 'Shop' })).ok);
  } finally {
    restricted = undefined;
  }
});

test('the preview says what will happen before anything is spent: jobs, model, outside images', async () => {
  const outside = path.join(root, 'moodboard.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toFile(outside);
  const preview = await tools.previewGenerate({ provider: 'sample', model: 'sample/image-to-image', prompt: 'tint', project: 'Shop', input: { image_url: outside }, seeds: [1, 2, 3] });
  assert.ok(preview.ok);
  assert.equal(preview.preview.jobs, 3);
  assert.deepEqual(preview.preview.models, ['Sample: Tint an Image (offline) (sample/image-to-image)']);
  assert.deepEqual(preview.preview.outsideImages, [outside]);
  assert.equal(preview.preview.estimate, undefined, 'no estimate until budgets give one');
  const inside = await tools.previewGenerate({ provider: 'sample', model: 'sample/image-to-image', prompt: 'tint', project: 'Shop', input: { image_url: 'params/../products/x.png' } });
  assert.ok(inside.ok);
  assert.deepEqual(inside.preview.outsideImages, []);
  const bad = await tools.previewGenerate({ provider: 'sample', model: 'sample/gradient', count: 0, project: 'Shop' });
  assert.equal(bad.ok, false);
  assert.equal(await fs.readdir(path.join(root, 'shop', 'products')).then((f) => f.length), 0, 'a preview sends nothing');
});

test('a wait that runs out answers with the running jobs; they go on and their products appear', async () => {
  const r = await tools.call('artfactory_generate', { provider: 'sample', model: 'sample/slow', prompt: 'slow hero', project: 'Shop', input: { width: 256, height: 256, duration_ms: 1500 }, waitSeconds: 0 });
  assert.ok(r.ok, r.text);
  const json = JSON.parse(r.text) as { products: unknown[]; running: { job: string; state: string }[] };
  assert.equal(json.products.length, 0);
  assert.equal(json.running.length, 1);
  const db = await sessions[0].db();
  for (let i = 0; i < 100 && (await db.getJob(json.running[0].job))?.state !== 'succeeded'; i++) await new Promise((res) => setTimeout(res, 100));
  const found = await tools.call('artfactory_search_products', { project: 'Shop', text: 'slow hero' });
  assert.equal(JSON.parse(found.ok ? found.text : '{}').total, 1);
});

test('a stopped call cancels the jobs it started', async () => {
  const stop = new AbortController();
  const call = tools.call('artfactory_generate', { provider: 'sample', model: 'sample/slow', prompt: 'never mind', project: 'Shop', count: 2 }, { signal: stop.signal });
  const db = await sessions[0].db();
  let jobs: { id: string; state: string }[] = [];
  for (let i = 0; i < 100 && jobs.length < 2; i++) {
    await new Promise((res) => setTimeout(res, 50));
    jobs = (await db.listJobs({ limit: 50 })).filter((j) => j.input.prompt === 'never mind');
  }
  stop.abort();
  const r = await call;
  assert.deepEqual(r, { ok: false, text: 'Canceled: the 2 jobs of this call were canceled.' });
  const states = await Promise.all(jobs.map(async (j) => (await db.getJob(j.id))?.state));
  assert.deepEqual(states, ['canceled', 'canceled']);
});

test('more jobs than the host allows without asking are declined with its reason', async () => {
  const r = await tools.call('artfactory_generate', { ...sample, prompt: 'many', project: 'Shop', count: 9 });
  assert.deepEqual(r, { ok: false, text: 'This makes 9 jobs; this server starts at most 8 per call (art-factory mcp --max-jobs). Nothing was sent: ask for fewer.' });
});
