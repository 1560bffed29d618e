import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileItems, imageSiteAt, insertionFor, nearbyImageFiles, paramFileModel, productItems, productMarkdown, productRefAt } from '../../src/engine/inputAssist.ts';
import type { ProductRecord } from '../../src/storage/types.ts';

/** Text with a `|` where the cursor is. */
function at(marked: string): { text: string; offset: number } {
  return { text: marked.replace('|', ''), offset: marked.indexOf('|') };
}

const FIELDS = ['image_url', 'image_urls', 'mask'];

test('completion knows when the cursor is in an image value: in a string, at a bare value, in a list, in a sweep; not in other fields or keys', () => {
  const site = (m: string, list: string[] = []) => {
    const { text, offset } = at(m);
    return imageSiteAt(text, offset, FIELDS, list);
  };
  const inString = at('{"input": {"image_url": "pro|"}}');
  assert.deepEqual(site('{"input": {"image_url": "pro|"}}'), { field: 'image_url', start: inString.text.indexOf('pro'), end: inString.text.indexOf('pro') + 3, quoted: true, value: 'pro', wantsList: false });
  // A string not closed yet (typing): it ends at the end of what is typed.
  const open = site('{"input": {"mask": "./ph|');
  assert.equal(open?.quoted, true);
  assert.equal(open?.value, './ph');
  const bare = site('{"input": {"image_url": |}}');
  assert.deepEqual([bare?.quoted, bare?.wantsList, bare?.start === bare?.end], [false, false, true]);
  assert.equal(site('{"input": {"image_urls": |}}', ['image_urls'])?.wantsList, true, 'a bare list field gets a list');
  assert.equal(site('{"input": {"image_urls": ["a", "|"]}}', ['image_urls'])?.field, 'image_urls');
  assert.equal(site('{"input": {"image_urls": ["a", "|"]}}', ['image_urls'])?.wantsList, false);
  assert.equal(site('{"sweep": {"image_url": ["a.png", "b|"]}}')?.value, 'b');
  for (const miss of ['{"input": {"prompt": "pro|"}}', '{"input": {"image_url|": "x"}}', '{"image_url": "x|"}', '{"input": {"image_url": 12|}}', '{"input": {"image_url": "x"|}}', '{"sweep": {"prompt": ["a|"]}}']) {
    assert.equal(site(miss), undefined, miss);
  }
  assert.deepEqual(paramFileModel('{"provider": "fal", "model": "fal-ai/flux/dev/image-to-image", "input": {"image_url": "'), { provider: 'fal', model: 'fal-ai/flux/dev/image-to-image' }, 'a half-typed file still names its model');
  assert.equal(insertionFor({ field: 'image_url', start: 0, end: 0, quoted: true, value: '', wantsList: false }, 'product:P1'), 'product:P1');
  assert.equal(insertionFor({ field: 'image_url', start: 0, end: 0, quoted: false, value: '', wantsList: false }, 'product:P1'), '"product:P1"');
  assert.equal(insertionFor({ field: 'image_urls', start: 0, end: 0, quoted: false, value: '', wantsList: true }, './a "b".png'), '["./a \\"b\\".png"]');
});

test('hover finds a product: reference anywhere in the string, and nothing else', () => {
  const { text, offset } = at('{"input": {"image_url": "product:01ABC|DEF-0", "prompt": "product: of my dreams"}}');
  const ref = productRefAt(text, offset);
  assert.equal(ref?.id, '01ABCDEF-0');
  assert.equal(text.slice(ref!.start, ref!.end), '"product:01ABCDEF-0"');
  assert.equal(productRefAt(text, text.indexOf('of my')), undefined, 'not an id');
  assert.equal(productRefAt(text, text.indexOf('"input"') + 2), undefined);
});

test('products are offered newest first with their prompt; only images; the hover shows prompt, size and picture', () => {
  const base: Omit<ProductRecord, 'id' | 'kind' | 'prompt'> = { jobId: 'j', provider: 'fal', model: 'fal-ai/flux/dev', mediaType: 'image/png', file: 'products/x.png', width: 1024, height: 768, bytes: 1, sha256: 'x', input: {}, createdAt: '2026-03-01T10:00:00.000Z', favorite: false, rating: 0, tags: [], notes: '', outputIndex: 0 };
  const items = productItems(
    [
      { ...base, id: 'P2', kind: 'image', prompt: 'a lighthouse at dusk,\n  oil painting' },
      { ...base, id: 'V1', kind: 'video', prompt: 'waves' },
      { ...base, id: 'P1', kind: 'image', prompt: 'x'.repeat(300) },
    ],
    (p) => `file:///thumbs/${p.id} (1).webp`,
  );
  assert.deepEqual(items.map((i) => i.label), ['product:P2', 'product:P1']);
  assert.equal(items[0].detail, 'a lighthouse at dusk, oil painting');
  assert.equal(items[1].detail.length, 80);
  assert.ok(items[0].sortText < items[1].sortText);
  assert.match(items[0].filterText, /^product:P2 a lighthouse at dusk, oil painting$/, 'typing words of the prompt finds it');
  assert.match(items[0].documentation!, /\*\*a lighthouse at dusk, oil painting\*\*/);
  assert.match(items[0].documentation!, /1024 × 768 · fal · fal\\-ai\/flux\/dev/);
  assert.match(items[0].documentation!, /!\[.*\]\(file:\/\/\/thumbs\/P2%20%281%29\.webp\|width=192\)/);
  const md = productMarkdown({ ...base, id: 'P9', kind: 'image', prompt: 'stars *and* [links](x)' });
  assert.ok(md.includes('stars \\*and\\* \\[links\\]\\(x\\)'), 'prompt text cannot inject markdown');
});

test('image files near the parameter file: its folder and the project, two levels down, newest first, relative to the file; products and hidden folders left out', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-assist-'));
  const mk = async (rel: string, when: number) => {
    const f = path.join(root, rel);
    await fs.mkdir(path.dirname(f), { recursive: true });
    await fs.writeFile(f, 'x');
    await fs.utimes(f, when, when);
  };
  await mk('params/near.png', 1000);
  await mk('params/refs/deep.JPG', 3000);
  await mk('params/refs/a/b/too-deep.png', 4000);
  await mk('inputs/photo.webp', 2000);
  await mk('products/2026/01/01/P1.png', 5000);
  await mk('.artfactory/thumbs/P1-256.webp', 5000);
  await mk('.hidden/x.png', 5000);
  await mk('params/notes.txt', 5000);
  const files = await nearbyImageFiles(path.join(root, 'params'), root);
  assert.deepEqual(files.map((f) => f.rel), ['./refs/deep.JPG', '../inputs/photo.webp', './near.png']);
  const items = fileItems(files);
  assert.deepEqual(items.map((i) => [i.kind, i.detail]), [['file', 'image file, 1 KB'], ['file', 'image file, 1 KB'], ['file', 'image file, 1 KB']]);
  assert.ok(items.every((i) => i.sortText.startsWith('1-')), 'after the products');
});
