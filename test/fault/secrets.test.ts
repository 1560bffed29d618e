// Secrets, self-contained: a representative slice of everything runs with distinctive keys
// (FAL_KEY, REPLICATE_API_TOKEN, CIVITAI_API_TOKEN), including providers that echo the key back
// in every place they can (error bodies, field errors, logs, failure reasons, output URLs),
// then every byte the product left behind is scanned: every file under the project, the
// extension-storage-like folders (global templates, a restored backup), the logs, the messages
// posted to the webview, the agent tools' answers, and every request the fakes received (URL, body, every header except
// Authorization; and another provider's key nowhere at all). The keys are unlike the redact()
// patterns, so only scrubbing of the known keys can catch them.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { backupProject, restoreProject } from '../../src/archive/backup.ts';
import { AgentTools } from '../../src/agent/tools.ts';
import { main as cli } from '../../src/cli/main.ts';
import { cliAgentHost } from '../../src/cli/mcp.ts';
import { openCliSession } from '../../src/cli/session.ts';
import { createSchemaCache } from '../../src/engine/schemas.ts';
import { saveTemplate } from '../../src/engine/templates.ts';
import { GalleryController } from '../../src/webviews/galleryController.ts';
import type { HostMessage } from '../../src/webviews/protocol.ts';
import { fileUrl, findSecretLeaks, type FakeServer } from '../fakes/common.ts';
import type { FalJobPlan } from '../fakes/fal.ts';
import { FaultReport, guardUnhandled, walkFiles } from './helpers.ts';
import { providerRig } from './rig.ts';

const KEYS = {
  fal: 'falsecret-FAULTSUITE-7c1e9a40b2',
  replicate: 'repsecret-FAULTSUITE-5d2b8812c4',
  civitai: 'civsecret-FAULTSUITE-93aa0c71e6',
} as const;
type P = keyof typeof KEYS;
const MODELS: Record<P, string> = { fal: 'fal-ai/flux/dev', replicate: 'black-forest-labs/flux-schnell', civitai: 'urn:air:sdxl:checkpoint:civitai:101055@128078' };
const SMALL: Record<P, Record<string, unknown>> = { fal: {}, replicate: {}, civitai: { width: 64, height: 64 } };

/** Every form a key could be written in. */
function forms(key: string): { name: string; bytes: Buffer }[] {
  return [
    { name: 'raw', bytes: Buffer.from(key) },
    { name: 'base64', bytes: Buffer.from(Buffer.from(key).toString('base64').replace(/=+$/, '')) },
    { name: 'hex', bytes: Buffer.from(Buffer.from(key).toString('hex')) },
    { name: 'utf-16', bytes: Buffer.from(key, 'utf16le') },
  ];
}

function findKeys(where: string, bytes: Buffer, found: string[]): void {
  for (const [provider, key] of Object.entries(KEYS)) {
    for (const f of forms(key)) if (bytes.includes(f.bytes)) found.push(`${where}: the ${provider} key (${f.name})`);
  }
}

test('no key anywhere: project files, storage folders, a restored backup, logs, webview messages, or network traffic outside Authorization', { timeout: 300_000 }, async () => {
  const report = new FaultReport('secrets');
  const faults = report.category('keys echoed back by providers');
  const guard = guardUnhandled();
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-fault-secrets-'));
  const dir = path.join(root, 'project');
  const globalStorage = path.join(root, 'globalStorage', 'art-factory');
  const r = await providerRig({ dir, keys: KEYS });
  const posted: HostMessage[] = [];
  const stderr: string[] = [];
  const agentAnswers: string[] = [];
  try {
    const controller = new GalleryController({
      projects: () => [{ dir, name: 'Secrets', db: async () => r.db }],
      scope: dir,
      toUri: (abs) => `vscode-webview-resource:${abs}`,
      actions: { run: async () => undefined, delete: async () => ({ deleted: [] }), undoDelete: async () => undefined },
      post: (m) => posted.push(m),
      log: { info: (m) => r.logs.push(m), warn: (m) => r.logs.push(m), error: (m) => r.logs.push(m) },
    });
    // A page that listens: the host posts live updates only after its ready.
    await controller.handle({ type: 'ready' });
    r.engine.on('job', (j) => controller.onJob(dir, j));
    r.engine.on('product', (p) => controller.onProduct(dir, p));
    const fakes: Record<P, FakeServer> = { fal: r.fal, replicate: r.replicate, civitai: r.civitai };
    const echo = (p: P) => `your token ${KEYS[p]} is not valid`;
    const echoed = async (p: P, label: string, setup: () => void) => {
      faults.injected++;
      setup();
      const job = await r.run(p, MODELS[p], { prompt: `secrets: ${label}`, ...SMALL[p] });
      fakes[p].clearFaults();
      assert.ok(job.state === 'failed' || job.state === 'succeeded', label);
      faults.survived++; // counted here; the scan below fails the test if any of them leaked
      return job;
    };

    // 1. Successful runs with logs that echo the key, on every provider.
    r.fal.nextJob({ logs: [`loading weights with key ${KEYS.fal}`, 'denoising'] });
    await echoed('fal', 'logs echo the key', () => undefined);
    r.replicate.nextJob({ logs: [`Using token ${KEYS.replicate}`, '100%|██████████| 4/4'] });
    await echoed('replicate', 'logs echo the key', () => undefined);
    await echoed('civitai', 'a plain run', () => undefined);
    // 2. Errors that echo the key: submission refusals of every kind, failed runs, odd outputs.
    for (const p of ['fal', 'replicate', 'civitai'] as P[]) {
      const submit = p === 'fal' ? 'submit' : p === 'replicate' ? 'create' : 'submit';
      const poll = p === 'fal' ? 'status' : 'get';
      for (const status of [400, 401, 402, 403, 404, 422, 429, 500]) {
        const body = { detail: status === 422 ? [{ loc: ['body', 'prompt'], msg: echo(p), type: 'x' }] : echo(p), title: echo(p), invalid_fields: [{ field: 'input.prompt', description: echo(p) }], errors: { 'steps[0].input.prompt': [echo(p)] } };
        await echoed(p, `submit answers ${status} with the key`, () => fakes[p].addFault({ route: submit, status, body, headers: status === 429 ? { 'retry-after': '999' } : {} }));
      }
      await echoed(p, 'polls answer 500 with the key', () => fakes[p].addFault({ route: poll, status: 500, body: { detail: echo(p) }, times: 60 }));
    }
    await echoed('fal', 'the run fails with the key in its error', () => r.fal.nextJob({ fail: { status: 500, body: { detail: echo('fal'), error_type: 'internal' } } }));
    await echoed('fal', 'the run fails 422 with the key in field errors', () => r.fal.nextJob({ fail: { status: 422, body: { detail: [{ loc: ['body', 'image_url'], msg: echo('fal'), type: 'x' }] } } }));
    await echoed('replicate', 'the prediction fails with the key in its error', () => r.replicate.nextJob({ end: 'failed', error: echo('replicate') }));
    await echoed('civitai', 'the workflow fails with the key as its reason', () => r.civitai.nextJob({ end: 'failed', reason: echo('civitai'), blockedReason: echo('civitai') }));
    await echoed('civitai', 'the workflow expires with the key as its reason', () => r.civitai.nextJob({ end: 'expired', reason: echo('civitai') }));
    await echoed('fal', 'a refused output URL carries the key', () => r.fal.nextJob({ output: { images: [{ url: `file:///tmp/x.png?token=${KEYS.fal}` }] } }));
    await echoed('replicate', 'a refused output URL carries the key', () => r.replicate.nextJob({ output: [`ftp://x/?k=${KEYS.replicate}`] }));
    await echoed('fal', 'a good output URL carries the key', () => {
      r.fal.files.set('/v3.fal.media/files/keyed.png', { bytes: Buffer.alloc(0), contentType: 'image/png' });
      r.fal.nextJob({ output: { images: [{ url: `${fileUrl('v3.fal.media', '/files/keyed.png')}?token=${KEYS.fal}`, content_type: 'image/png' }] } });
    });
    // 3. Custom models and their cached schemas; a connection test against a server that echoes.
    for (const [p, model] of [['fal', 'someone/custom-model'], ['replicate', 'someone/custom-model']] as [P, string][]) {
      await r.registry.addCustomModel(p, model);
      await r.registry.inputSchema(p, model, undefined, createSchemaCache(dir));
      fakes[p].addFault({ status: 401, body: { detail: echo(p) } });
      await r.registry.get(p)!.testConnection().catch((e: unknown) => r.logs.push(String(e), JSON.stringify(e)));
      fakes[p].clearFaults();
    }
    // 4. The command line, keys from the environment, verbose logs captured.
    const saved = { ...process.env };
    Object.assign(process.env, {
      FAL_KEY: KEYS.fal,
      REPLICATE_API_TOKEN: KEYS.replicate,
      CIVITAI_API_TOKEN: KEYS.civitai,
      ARTFACTORY_FAL_BASE_URL: r.fal.baseUrl,
      ARTFACTORY_REPLICATE_BASE_URL: r.replicate.baseUrl,
      ARTFACTORY_CIVITAI_BASE_URL: r.civitai.baseUrl,
    });
    const write = process.stderr.write.bind(process.stderr);
    const writeOut = process.stdout.write.bind(process.stdout);
    try {
      const plans: [string, Partial<FalJobPlan>][] = [
        ['succeeds', { queueSteps: 0, progressSteps: 0, logs: [`key ${KEYS.fal} in a log line`] }],
        ['fails', { queueSteps: 0, progressSteps: 0, fail: { status: 500, body: { detail: echo('fal') } } }],
      ];
      for (const [label, plan] of plans) {
        faults.injected++;
        r.fal.nextJob(plan);
        const file = path.join(dir, 'params', `cli-${label}.art.json`);
        await fs.writeFile(file, JSON.stringify({ provider: 'fal', model: MODELS.fal, input: { prompt: `cli ${label}` } }, null, 2));
        const capture = (chunk: string | Uint8Array) => {
          stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
          return true;
        };
        process.stderr.write = capture as typeof process.stderr.write;
        process.stdout.write = capture as typeof process.stdout.write;
        try {
          await cli(['generate', file, '--project', dir, '--verbose', '--json']);
        } finally {
          process.stderr.write = write;
          process.stdout.write = writeOut;
        }
        faults.survived++;
      }
      // 4b. The agent tools (as the MCP server runs them): their answers are scanned too.
      const session = openCliSession(dir, { log: { info: (m) => r.logs.push(m), warn: (m) => r.logs.push(m), error: (m) => r.logs.push(m) }, confirmAbove: () => 16 });
      try {
        const tools = new AgentTools(cliAgentHost(dir, 'Secrets', session, { info: (m) => r.logs.push(m), warn: (m) => r.logs.push(m), error: (m) => r.logs.push(m) }, 16));
        for (const [label, plan] of plans) {
          faults.injected++;
          r.fal.nextJob(plan);
          const made = await tools.call('artfactory_generate', { provider: 'fal', model: MODELS.fal, prompt: `agent ${label}` });
          agentAnswers.push(made.text);
          if (made.ok) for (const p of (JSON.parse(made.text) as { products: { id: string }[] }).products) agentAnswers.push((await tools.call('artfactory_get_product', { id: p.id })).text);
          faults.survived++;
        }
        agentAnswers.push((await tools.call('artfactory_search_products', {})).text, (await tools.call('artfactory_list_models', { provider: 'fal' })).text);
        agentAnswers.push((await tools.call('artfactory_generate', { file: `params/${KEYS.fal}.art.json` })).text);
      } finally {
        await session.close();
      }
    } finally {
      process.env = saved;
    }
    // 5. Templates in a global folder, the gallery's view of everything, a backup restored elsewhere.
    await saveTemplate(path.join(globalStorage, 'templates'), 'Lighthouse', JSON.stringify({ provider: 'fal', model: MODELS.fal, input: { prompt: '{{subject}} at dusk' } }));
    await controller.handle({ type: 'request', id: 1, method: 'query', params: { filter: { status: 'failed', sort: 'newest' } } });
    await controller.handle({ type: 'request', id: 2, method: 'query', params: { filter: { status: 'all', sort: 'newest' } } });
    await r.db.flush();
    await backupProject(dir, path.join(root, 'backup.zip'));
    await restoreProject(path.join(root, 'backup.zip'), path.join(root, 'restored'));

    // The scan.
    const found: string[] = [];
    let files = 0;
    let bytes = 0;
    for (const f of await walkFiles(root)) {
      if (f === 'backup.zip') continue; // compressed: its content is checked as the restored copy
      const data = await fs.readFile(path.join(root, f));
      files++;
      bytes += data.length;
      findKeys(f, data, found);
    }
    for (const [i, line] of [...r.logs, ...stderr].entries()) findKeys(`log line ${i}: ${line.slice(0, 80)}`, Buffer.from(line), found);
    for (const [i, a] of agentAnswers.entries()) findKeys(`agent tool answer ${i}: ${a.slice(0, 80)}`, Buffer.from(a), found);
    for (const [i, m] of posted.entries()) findKeys(`webview message ${i} (${m.type})`, Buffer.from(JSON.stringify(m)), found);
    let requests = 0;
    for (const p of Object.keys(KEYS) as P[]) {
      requests += fakes[p].captured.length;
      // A URL the provider itself wrote the key into is fetched as given (to its own file host):
      // that is the provider's doing, not ours, so that one request is left out.
      const ours = fakes[p].captured.filter((c) => !c.url.includes('/files/keyed.png'));
      for (const leak of findSecretLeaks(ours, KEYS[p])) found.push(`${p} traffic: ${leak}`);
      for (const other of (Object.keys(KEYS) as P[]).filter((o) => o !== p)) {
        for (const c of fakes[p].captured) {
          if (Buffer.from(JSON.stringify({ url: c.url, headers: c.headers })).includes(KEYS[other]) || c.body.includes(KEYS[other])) found.push(`the ${other} key was sent to ${p}: ${c.method} ${c.url}`);
        }
      }
    }
    // The scan looked where the keys were offered: the products, the failures, the logs.
    assert.ok(files > 20 && requests > 100, `${files} files, ${requests} requests scanned`);
    assert.ok((await r.db.listJobs({ states: ['failed'] })).length > 20, 'the failures were recorded');
    assert.ok([...r.logs, ...stderr].some((l) => l.includes('«redacted»')), 'echoed keys reached the logs and were scrubbed');
    assert.ok(posted.some((m) => JSON.stringify(m).includes('«redacted»')), 'and the webview saw scrubbed errors');
    assert.ok(agentAnswers.length >= 6 && agentAnswers.some((a) => a.includes('«redacted»')), 'agent tools answered, with echoed keys scrubbed');
    assert.deepEqual(found, [], 'no key anywhere');
    guard.check();
    faults.notes = { 'agent tool answers scanned': agentAnswers.length, 'files scanned': files, 'bytes scanned': bytes, 'log lines scanned': r.logs.length + stderr.length, 'webview messages scanned': posted.length, 'requests scanned': requests };
    console.log(`# secrets: ${JSON.stringify(faults.notes)}`);
  } catch (e) {
    faults.survived = 0;
    throw e;
  } finally {
    report.write();
    guard.dispose();
    await r.close();
  }
});
