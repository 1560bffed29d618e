// The gallery's message protocol in plain Node: the webview's channel (src/webviews/gallery/
// channel.ts) wired to a real GalleryController over a real project database, the way VS Code
// wires them (each side's post is the other's receive). Types are part of what is tested: the
// test file is typechecked, so a request whose result type or params drift fails `tsc`.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createProject, openProjectDb } from '../../src/storage/index.ts';
import type { JobRecord, ProjectDb } from '../../src/storage/types.ts';
import { createChannel, type Channel } from '../../src/webviews/gallery/channel.ts';
import { GalleryController, type FoundProduct } from '../../src/webviews/galleryController.ts';
import { DEFAULT_FILTER, type DetailRecord, type HostMessage, type Page, type WebviewMessage } from '../../src/webviews/protocol.ts';
import { product } from '../storage/helpers.ts';

let dir: string;
let db: ProjectDb;

before(async () => {
  dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'af-protocol-')), 'project');
  await createProject(dir, 'Protocol');
  db = await openProjectDb(dir, { saveDelayMs: 5, backups: 0 });
  await db.putProducts([product(1, { seed: 42, cost: { amount: 0.025, currency: 'USD', estimated: false }, timings: { inference: 1.5 } }), product(2), product(3)]);
});
after(async () => {
  await db?.close();
});

interface Wired {
  channel: Channel;
  controller: GalleryController;
  /** Everything the host posted, in order. */
  posted: HostMessage[];
  /** What the host did for Delete and Undo. */
  did: string[];
  warnings: string[];
}

/** A channel and a controller talking to each other. `refuse` names products the host's Delete
 * refuses (they stay). */
function wire(opts: { refuse?: string[] } = {}): Wired {
  const posted: HostMessage[] = [];
  const did: string[] = [];
  const warnings: string[] = [];
  // Posted asynchronously both ways, as postMessage delivers.
  const channel = createChannel(
    (m: WebviewMessage) => void setImmediate(() => void controller.handle(JSON.parse(JSON.stringify(m)))),
    (w) => warnings.push(w),
  );
  const controller: GalleryController = new GalleryController({
    projects: () => [{ dir, name: 'Protocol', db: async () => db }],
    scope: dir,
    toUri: (abs) => `uri:${abs}`,
    actions: {
      run: async (action, items) => `did ${action} ${items.map((i) => i.product.id).join(',')}`,
      delete: async (items: FoundProduct[]) => {
        const deleted = items.map((i) => i.product.id).filter((id) => !opts.refuse?.includes(id));
        did.push(`delete ${deleted.join(',')}`);
        return { deleted, note: `Deleted ${deleted.length}.` };
      },
      undoDelete: async () => {
        did.push('undo');
        return 'Restored.';
      },
    },
    post: (m) => {
      posted.push(m);
      setImmediate(() => channel.receive(JSON.parse(JSON.stringify(m))));
    },
    log: { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
  });
  return { channel, controller, posted, did, warnings };
}

const job = (id: string, state: JobRecord['state']): JobRecord => ({ id, provider: 'fal', model: 'fal-ai/flux/dev', input: { prompt: 'a running job' }, state, productIds: [], attempts: 1, createdAt: '2026-01-02T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z' });
const tick = () => new Promise((r) => setImmediate(r));

test('each request resolves with its method\'s result, checked and typed', async () => {
  const { channel } = wire();
  const page: Page = await channel.request('query', { filter: DEFAULT_FILTER, limit: 2 });
  assert.equal(page.total, 3);
  assert.deepEqual(page.tiles.map((t) => t.id), ['P00000003', 'P00000002']);
  assert.ok(page.next, 'a second page is offered');
  const rest = await channel.request('query', { filter: DEFAULT_FILTER, after: page.next, limit: 2 });
  assert.deepEqual(rest.tiles.map((t) => t.id), ['P00000001']);

  const d = await channel.request('getProduct', { id: 'P00000001' });
  const record: DetailRecord = d.record;
  assert.equal(record.seed, 42);
  assert.deepEqual(record.cost, { amount: 0.025, currency: 'USD', estimated: false });
  assert.deepEqual(record.timings, { inference: 1.5 });
  assert.equal(typeof record.input.prompt, 'string');

  // Cost (issue 11): on the tile, the selection's sum, the filter and the sort.
  assert.deepEqual(rest.tiles[0].cost, { amount: 0.025, currency: 'USD', estimated: false });
  assert.deepEqual(await channel.request('costSum', { ids: ['P00000001', 'P00000002', 'NOPE-1'] }), { sums: [{ currency: 'USD', amount: 0.025, products: 1, estimated: false }], unknown: 1 });
  const costly = await channel.request('query', { filter: { ...DEFAULT_FILTER, minCost: 0.01 }, limit: 10 });
  assert.deepEqual(costly.tiles.map((t) => t.id), ['P00000001']);
  const byCost = await channel.request('query', { filter: { ...DEFAULT_FILTER, sort: 'cost' }, limit: 10 });
  assert.equal(byCost.tiles[0].id, 'P00000001', 'the costliest first, unknown after');

  const facets = await channel.request('facets', {});
  assert.deepEqual(facets.providers.slice().sort(), ['fal', 'replicate', 'sample']);
  const changed: number = await channel.request('update', { ids: ['P00000002', 'NOPE-1'], patch: { rating: 4 } });
  assert.equal(changed, 1, 'one product changed; the unknown id is not counted');
  const note: string | null = await channel.request('action', { ids: ['P00000002'], action: 'copyPrompt' });
  assert.equal(note, 'did copyPrompt P00000002');
  const lineage = await channel.request('lineage', { id: 'P00000002' });
  assert.deepEqual([lineage.madeFrom.length, lineage.usedIn.length, lineage.usedInTotal], [0, 0, 0]);

  await assert.rejects(channel.request('getProduct', { id: 'P99999999' }), /no longer exists/);
});

// Never called: `tsc` checks that wrong methods, params and result types do not compile.
export function typeErrors(channel: Channel): void {
  // @ts-expect-error no such method
  void channel.request('deleteAll', {});
  // @ts-expect-error getProduct takes an id, not a number
  void channel.request('getProduct', { id: 1 });
  // @ts-expect-error an update's patch has no such field
  void channel.request('update', { ids: ['P1'], patch: { prompt: 'x' } });
  // @ts-expect-error getProduct resolves with a ProductDetail, not a Page
  const wrong: Promise<Page> = channel.request('getProduct', { id: 'P1' });
  void wrong;
}

test('the webview drops what the host should not have sent: each case warned, none delivered', async () => {
  const warnings: string[] = [];
  const sent: WebviewMessage[] = [];
  const channel = createChannel((m) => sent.push(m), (w) => warnings.push(w));
  const heard: string[] = [];
  const off = channel.on({ jobUpdated: (m) => heard.push(`job ${m.tile.id}`), undoable: (m) => heard.push(`undoable ${m.ids.length}`) });

  // A reply whose result is not the method's result type rejects the request.
  const asked = channel.request('getProduct', { id: 'P00000001' });
  const askedId = (sent.at(-1) as { id: number }).id;
  channel.receive({ type: 'reply', id: askedId, ok: true, result: { tile: { id: 'P1' }, record: {}, path: '' } });
  await assert.rejects(asked, /could not read the answer to getProduct/);
  // A number where a count is due, and a count that is not an integer.
  const update = channel.request('update', { ids: ['P00000001'], patch: { favorite: true } });
  channel.receive({ type: 'reply', id: (sent.at(-1) as { id: number }).id, ok: true, result: 1.5 });
  await assert.rejects(update, /could not read the answer to update/);

  const cases: [string, unknown][] = [
    ['a reply without an id', { type: 'reply', ok: true }],
    ['a job tile with a script for a progress', { type: 'jobUpdated', tile: { id: 'J1', kind: 'job', project: dir, provider: 'fal', model: 'm', createdAt: 'x', progress: '<script>' } }],
    ['undoable ids with a path in them', { type: 'undoable', ids: ['../../etc/passwd'] }],
    ['an unknown type', { type: 'evalThis', code: '1' }],
    ['a prototype key as the type', { type: '__proto__' }],
    ['no type at all', { ids: [] }],
    ['not an object', 'reply'],
  ];
  for (const [what, msg] of cases) {
    const before = warnings.length;
    channel.receive(msg);
    assert.equal(warnings.length, before + 1, `${what}: warned once`);
  }
  assert.deepEqual(heard, [], 'no handler heard a bad notification');

  // A reply to a request never made is ignored (no warning, nothing resolved).
  channel.receive({ type: 'reply', id: 9999, ok: true, result: null });
  // Good notifications reach the handlers, until they unsubscribe.
  channel.receive({ type: 'undoable', ids: ['P00000001'] });
  off();
  channel.receive({ type: 'undoable', ids: [] });
  assert.deepEqual(heard, ['undoable 1']);
});

test('the host posts notifications only while a page listens: after its ready, not after it is hidden', async () => {
  const { controller, posted, channel } = wire();
  const heard: string[] = [];
  channel.on({ jobUpdated: (m) => heard.push(m.tile.state ?? '') });
  controller.onJob(dir, job('J-before', 'running'));
  assert.equal(posted.length, 0, 'nothing is posted before the page is ready');
  assert.equal(controller.notReady, 1);
  // A request is answered even so (it proves the page runs), and its answer holds the job tile
  // the notification would have brought.
  const page = await channel.request('query', { filter: DEFAULT_FILTER, limit: 10 });
  assert.ok(page.tiles.some((t) => t.id === 'J-before'), 'the first page brings the job the page missed');

  channel.ready();
  await tick();
  await tick();
  assert.deepEqual(posted.filter((m) => m.type !== 'reply').map((m) => m.type), ['undoable'], 'ready: the host says what Undo holds');
  controller.onJob(dir, job('J-after', 'running'));
  await tick();
  assert.deepEqual(heard, ['running']);

  controller.pageGone();
  const count = posted.length;
  controller.onJob(dir, job('J-after', 'failed'));
  assert.equal(posted.length, count, 'hidden: nothing is posted');
  assert.equal(controller.notReady, 2);
});

test('Delete leaves undoable only what went; Undo is its own method and brings it back', async () => {
  const { controller, channel, posted, did } = wire({ refuse: ['P00000003'] });
  channel.ready();
  await tick();
  await tick();
  const note = await channel.request('action', { ids: ['P00000002', 'P00000003'], action: 'delete' });
  assert.equal(note, 'Deleted 1.');
  const notes = posted.filter((m) => m.type !== 'reply');
  assert.deepEqual(notes.at(-2), { type: 'productsDeleted', ids: ['P00000002'] }, 'the refused product stays in the grid');
  assert.deepEqual(notes.at(-1), { type: 'undoable', ids: ['P00000002'] });

  const restored = await channel.request('undoDelete', {});
  assert.equal(restored, 'Restored.');
  assert.deepEqual(did, ['delete P00000002', 'undo']);
  assert.deepEqual(posted.filter((m) => m.type !== 'reply').slice(-2), [{ type: 'reset', focus: 'P00000002' }, { type: 'undoable', ids: [] }]);
  // Undo is not an action any more: the old form with ids is refused by the schema.
  const dropped = controller.dropped;
  await controller.handle({ type: 'request', id: 77, method: 'action', params: { ids: ['P00000002'], action: 'undoDelete' } });
  assert.deepEqual(posted.at(-1), { type: 'reply', id: 77, ok: false, error: 'Invalid request.' });
  assert.equal(controller.dropped, dropped + 1);
  assert.deepEqual(did, ['delete P00000002', 'undo'], 'nothing more was done');
});
