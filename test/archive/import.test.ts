import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { productThumbnail } from '../../src/agent/library.ts';
import { importImages, importedProductId, IMPORT_PROVIDER } from '../../src/archive/import.ts';
import { readImageMetadata } from '../../src/media/metadata/index.ts';
import { decodeUserComment } from '../../src/media/exif.ts';
import { createProject, openProjectDb, readSidecar, sidecarPath } from '../../src/storage/index.ts';
import type { ProjectDb } from '../../src/storage/types.ts';
import * as F from './metadataFixtures.ts';
import { BAD_IMAGES, fixtureFiles, needsFixtures, PNGSUITE, PNGSUITE_CORRUPT, PNGSUITE_FILES } from '../fixtures.ts';


const open: ProjectDb[] = [];
after(async () => {
  await Promise.all(open.map((db) => db.close()));
});

async function project(): Promise<{ dir: string; db: ProjectDb; src: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-import-'));
  const dir = path.join(root, 'project');
  await createProject(dir, 'Import test');
  const db = await openProjectDb(dir, { saveDelayMs: 10 });
  open.push(db);
  const src = path.join(root, 'incoming');
  await fs.mkdir(src);
  return { dir, db, src };
}

/** The stored records of an import's products. */
async function importedProducts(db: ProjectDb, report: { importedIds: string[] }) {
  return (await Promise.all(report.importedIds.map((id) => db.getProduct(id)))).filter((p) => p !== undefined);
}

// ---- the metadata readers, on bytes built the way each tool writes them ----

test('A1111 / Forge: the parameters text chunk, as tEXt, iTXt and zTXt', async () => {
  for (const type of ['tEXt', 'zTXt', 'iTXt', 'iTXt-z'] as const) {
    const m = readImageMetadata(await F.pngWithText([{ keyword: 'parameters', text: F.A1111_TEXT, type }]));
    assert.equal(m.tool, 'a1111', type);
    assert.equal(m.prompt, 'masterpiece, a lighthouse at dusk, <lora:film:0.7>');
    assert.equal(m.negativePrompt, 'blurry, lowres');
    assert.equal(m.steps, 28);
    assert.equal(m.sampler, 'DPM++ 2M');
    assert.equal(m.scheduler, 'Karras');
    assert.equal(m.cfgScale, 6.5);
    assert.equal(m.seed, 3021544718);
    assert.deepEqual([m.width, m.height], [832, 1216]);
    assert.equal(m.model, 'sd_xl_base_1.0');
    assert.equal(m.params['Lora hashes'], 'film: 1a2b3c4d5e6f');
    assert.match(String(m.params.Version), /^f2\.0\.1/);
    assert.equal(m.raw.parameters, F.A1111_TEXT, 'the raw text is kept');
  }
});

test('A1111 in JPEG and WebP: EXIF UserComment in UNICODE (both byte orders), with BOM, and ASCII', async () => {
  const text = `${F.A1111_TEXT.replace('lighthouse', 'phare — 灯台')}`;
  const variants: [string, Buffer][] = [
    ['piexif big-endian (A1111)', F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentUnicodeBE(text), ifd: 'exif' }], 'MM')],
    ['UTF-16LE in an II block', F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentUnicodeLE(text), ifd: 'exif' }], 'II')],
    ['UTF-16BE in an II block', F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentUnicodeBE(text), ifd: 'exif' }], 'II')],
    ['UTF-16LE with BOM in an MM block', F.tiff([{ tag: 0x9286, type: 7, data: Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), ifd: 'exif' }], 'MM')],
  ];
  for (const [name, block] of variants) {
    for (const container of ['jpeg', 'webp', 'webp+header'] as const) {
      const bytes = container === 'jpeg' ? await F.jpegWithExif(block) : await F.webpWithExif(block, container === 'webp+header');
      const m = readImageMetadata(bytes);
      assert.equal(m.tool, 'a1111', `${name} in ${container}`);
      assert.equal(m.prompt, 'masterpiece, a phare — 灯台 at dusk, <lora:film:0.7>', `${name} in ${container}`);
      assert.equal(m.seed, 3021544718);
    }
  }
  const ascii = readImageMetadata(await F.jpegWithExif(F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentAscii(F.A1111_TEXT), ifd: 'exif' }], 'II')));
  assert.equal(ascii.tool, 'a1111');
  assert.equal(ascii.steps, 28);
  // A camera's UserComment is not A1111 text: kept raw, nothing invented.
  const camera = readImageMetadata(await F.jpegWithExif(F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentAscii('Holiday 2019'), ifd: 'exif' }])));
  assert.equal(camera.tool, 'unknown');
  assert.equal(camera.prompt, undefined);
  assert.equal(camera.raw['exif:UserComment'], 'Holiday 2019');
  assert.equal(decodeUserComment(Buffer.from('JIS\0\0\0\0\0abc', 'latin1')), '');
});

test('ComfyUI: the API prompt, the editor workflow alone, and a Flux custom-sampler graph', async () => {
  const both = readImageMetadata(await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify(F.COMFY_API_DEFAULT) }, { keyword: 'workflow', text: JSON.stringify(F.COMFY_WORKFLOW_DEFAULT) }]));
  assert.equal(both.tool, 'comfyui');
  assert.deepEqual(
    { prompt: both.prompt, neg: both.negativePrompt, seed: both.seed, steps: both.steps, cfg: both.cfgScale, sampler: both.sampler, scheduler: both.scheduler, model: both.model, w: both.width, h: both.height },
    { prompt: 'masterpiece best quality girl', neg: 'bad hands', seed: 8566257, steps: 20, cfg: 8, sampler: 'euler', scheduler: 'normal', model: 'v1-5-pruned-emaonly', w: 512, h: 512 },
  );
  assert.ok(both.raw.prompt && both.raw.workflow, 'both graphs kept raw');

  const wf = readImageMetadata(await F.pngWithText([{ keyword: 'workflow', text: JSON.stringify(F.COMFY_WORKFLOW_DEFAULT) }]));
  assert.equal(wf.tool, 'comfyui');
  assert.equal(wf.prompt, 'beautiful scenery nature glass bottle landscape, , purple galaxy bottle,');
  assert.equal(wf.negativePrompt, 'text, watermark');
  assert.equal(wf.seed, 156680208700286);
  assert.equal(wf.steps, 20);
  assert.equal(wf.model, 'v1-5-pruned-emaonly');
  assert.deepEqual([wf.width, wf.height], [512, 512]);

  const flux = readImageMetadata(await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify(F.COMFY_API_FLUX) }]));
  assert.equal(flux.prompt, 'a cat holding a sign that says hello');
  assert.equal(flux.negativePrompt, undefined);
  assert.equal(flux.seed, 219670278747233);
  assert.equal(flux.steps, 20);
  assert.equal(flux.sampler, 'euler');
  assert.equal(flux.scheduler, 'simple');
  assert.equal(flux.model, 'flux1-dev');
  assert.equal(flux.params.guidance, 3.5);
  assert.deepEqual([flux.width, flux.height], [1024, 1024]);
});

test('ComfyUI variants: LoRA chain, seed and text from linked nodes, SDXL encoder, two passes', async () => {
  const g = structuredClone(F.COMFY_API_DEFAULT) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  g['10'] = { class_type: 'LoraLoader', inputs: { lora_name: 'styles/film.safetensors', strength_model: 0.8, strength_clip: 0.8, model: ['4', 0], clip: ['4', 1] } };
  g['11'] = { class_type: 'Seed (rgthree)', inputs: { seed: 424242 } };
  g['12'] = { class_type: 'String Literal', inputs: { string: 'a linked prompt' } };
  g['3'].inputs.model = ['10', 0];
  g['3'].inputs.seed = ['11', 0];
  g['6'].inputs.text = ['12', 0];
  g['7'] = { class_type: 'CLIPTextEncodeSDXL', inputs: { text_g: 'ugly', text_l: 'ugly', width: 1024, height: 1024, crop_w: 0, crop_h: 0, target_width: 1024, target_height: 1024, clip: ['4', 1] } };
  // A second (hires) pass: the sampler nearest the output is the one read.
  g['20'] = { class_type: 'LatentUpscaleBy', inputs: { upscale_method: 'nearest-exact', scale_by: 1.5, samples: ['3', 0] } };
  g['21'] = { class_type: 'KSampler', inputs: { ...g['3'].inputs, steps: 12, denoise: 0.5, latent_image: ['20', 0] } };
  g['8'].inputs.samples = ['21', 0];
  const m = readImageMetadata(await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify(g) }]));
  assert.equal(m.prompt, 'a linked prompt');
  assert.equal(m.negativePrompt, 'ugly');
  assert.equal(m.seed, 424242);
  assert.equal(m.steps, 12, 'the final pass');
  assert.equal(m.params.denoise, 0.5);
  assert.equal(m.model, 'v1-5-pruned-emaonly');
  assert.equal(m.params.loras, 'film:0.8');

  // A graph with no sampler we know: imported as ComfyUI with the graph kept raw.
  const odd = readImageMetadata(await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify({ '1': { class_type: 'MysteryNode', inputs: { x: 1 } } }) }]));
  assert.equal(odd.tool, 'comfyui');
  assert.equal(odd.prompt, undefined);
  assert.match(odd.warnings.join(' '), /No sampler/);
  assert.ok(odd.raw.prompt.includes('MysteryNode'));

  // A cycle in the graph does not hang the reader.
  const loop = { '1': { class_type: 'KSampler', inputs: { positive: ['2', 0], negative: ['2', 0], model: ['3', 0], seed: 1 } }, '2': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['2', 0] } }, '3': { class_type: 'LoraLoader', inputs: { model: ['3', 0] } } };
  const lm = readImageMetadata(await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify(loop) }]));
  assert.equal(lm.tool, 'comfyui');
  assert.equal(lm.seed, 1);
});

test('InvokeAI: invokeai_metadata (3.x and 5.x), sd-metadata (2.x), Dream (1.x)', async () => {
  const v3 = readImageMetadata(await F.pngWithText([{ keyword: 'invokeai_metadata', text: F.INVOKE_V3 }]));
  assert.deepEqual(
    { tool: v3.tool, p: v3.prompt, n: v3.negativePrompt, seed: v3.seed, steps: v3.steps, cfg: v3.cfgScale, sch: v3.scheduler, model: v3.model, w: v3.width, h: v3.height },
    { tool: 'invokeai', p: 'landscape', n: 'low quality', seed: 356120443, steps: 50, cfg: 7.5, sch: 'dpmpp_2m_sde_k', model: 'amixx_3Prunedfp16', w: 768, h: 432 },
  );
  const v5 = readImageMetadata(await F.pngWithText([{ keyword: 'invokeai_metadata', text: F.INVOKE_V5 }, { keyword: 'invokeai_graph', text: '{"id":"g"}' }]));
  assert.equal(v5.model, 'Juggernaut XL v9');
  assert.equal(v5.params.base_model, 'sdxl');
  assert.equal(v5.params.loras, 'detail-tweaker:0.6');
  assert.equal(v5.prompt, 'a fox in a snowy forest, golden hour');
  const sd = readImageMetadata(await F.pngWithText([{ keyword: 'sd-metadata', text: F.INVOKE_SD_METADATA }, { keyword: 'Dream', text: F.INVOKE_DREAM }]));
  assert.deepEqual({ t: sd.tool, p: sd.prompt, n: sd.negativePrompt, seed: sd.seed, steps: sd.steps, s: sd.sampler, m: sd.model }, { t: 'invokeai', p: 'a cottage in the woods', n: 'ugly, blurry', seed: 3175549447, steps: 30, s: 'k_lms', m: 'stable-diffusion-1.5' });
  const dream = readImageMetadata(await F.pngWithText([{ keyword: 'Dream', text: F.INVOKE_DREAM }]));
  assert.deepEqual({ p: dream.prompt, n: dream.negativePrompt, seed: dream.seed, steps: dream.steps, cfg: dream.cfgScale, w: dream.width, s: dream.sampler }, { p: 'a cottage in the woods', n: 'ugly, blurry', seed: 3175549447, steps: 30, cfg: 7.5, w: 512, s: 'k_lms' });
});

test('Fooocus: JSON scheme in PNG, A1111 scheme in PNG, and its JPEG form (UserComment without a charset code)', async () => {
  const json = readImageMetadata(await F.pngWithText([{ keyword: 'parameters', text: F.FOOOCUS_JSON }, { keyword: 'fooocus_scheme', text: 'fooocus' }]));
  assert.equal(json.tool, 'fooocus');
  assert.equal(json.prompt, 'a red fox in snow');
  assert.equal(json.seed, '127589946317439009', 'a seed above 2^53 keeps its exact digits, not a rounded number');
  assert.deepEqual([json.width, json.height, json.steps, json.cfgScale, json.sampler, json.scheduler, json.model], [1152, 896, 30, 4, 'dpmpp_2m_sde_gpu', 'karras', 'juggernautXL_v8Rundiffusion']);
  assert.equal(json.params.version, 'Fooocus v2.5.5');

  const a1111 = readImageMetadata(await F.pngWithText([{ keyword: 'parameters', text: F.FOOOCUS_A1111 }, { keyword: 'fooocus_scheme', text: 'a1111' }]));
  assert.equal(a1111.tool, 'fooocus');
  assert.equal(a1111.seed, 2887412);
  assert.equal(a1111.scheduler, 'karras');
  assert.equal(a1111.params['ADM Guidance'], '(1.5, 0.8, 0.3)');

  // meta_parser.get_exif: UserComment (Pillow writes the str with no code), Software, MakerNote.
  const block = F.tiff([
    { tag: 0x0131, type: 2, data: Buffer.from('Fooocus v2.5.5\0', 'latin1'), ifd: 0 },
    { tag: 0x9286, type: 7, data: Buffer.from(F.FOOOCUS_JSON, 'latin1'), ifd: 'exif' },
    { tag: 0x927c, type: 7, data: Buffer.from('fooocus', 'latin1'), ifd: 'exif' },
  ], 'II');
  for (const bytes of [await F.jpegWithExif(block), await F.webpWithExif(block)]) {
    const m = readImageMetadata(bytes);
    assert.equal(m.tool, 'fooocus');
    assert.equal(m.prompt, 'a red fox in snow');
    assert.equal(m.raw['exif:Software'], 'Fooocus v2.5.5');
  }
});

test('broken or hostile metadata never throws and is kept raw', async () => {
  const cases: F.TextChunkSpec[][] = [
    [{ keyword: 'invokeai_metadata', text: '{"positive_prompt": "cut off' }],
    [{ keyword: 'prompt', text: '{not json' }, { keyword: 'workflow', text: '[]' }],
    [{ keyword: 'parameters', text: '{"sui_image_params": {"prompt": "swarm"}}' }],
    [{ keyword: 'parameters', type: 'zTXt', text: '', raw: Buffer.from([0, 1, 2, 3, 4, 5]) }], // not deflate data
    [{ keyword: 'parameters', text: '\u0000\u0001\u0002 junk' }],
    [{ keyword: '__proto__', text: 'x' }, { keyword: 'parameters', text: `Steps: 20, Seed: 1, __proto__: 5, constructor: 7` }],
    [{ keyword: 'parameters', text: `${'word, '.repeat(400_000)}\nSteps: 5` }],
    [{ keyword: 'prompt', text: JSON.stringify({ '1': { class_type: 'KSampler', inputs: { seed: 1e300, steps: 'many', positive: ['1', 0], model: [{}, 0] } } }) }],
  ];
  for (const chunks of cases) {
    const m = readImageMetadata(await F.pngWithText(chunks));
    assert.ok(['a1111', 'comfyui', 'invokeai', 'fooocus', 'swarmui', 'unknown'].includes(m.tool), m.tool);
    assert.equal(Object.getPrototypeOf(m.params), Object.prototype, 'no prototype was replaced');
    for (const v of Object.values(m.raw)) assert.ok(v.length <= 16 * 1024, 'raw text is capped');
  }
  // A compressed text chunk that inflates to 64 MB (a "zip bomb" of some 60 KB) is skipped, not inflated.
  const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x61), { level: 9 });
  const bombed = readImageMetadata(await F.pngWithText([{ keyword: 'parameters', type: 'zTXt', text: '', raw: Buffer.concat([Buffer.from([0]), bomb]) }, { keyword: 'Software', text: 'still read' }]));
  assert.equal(bombed.raw.parameters, undefined);
  assert.equal(bombed.tool, 'unknown');
  const big = readImageMetadata(await F.pngWithText([{ keyword: 'parameters', text: `${'word, '.repeat(400_000)}\nSteps: 5` }]));
  assert.equal(big.rawTruncated, true);
  assert.ok((big.prompt ?? '').length <= 20_000);
  assert.equal(readImageMetadata(await F.plainPng()).tool, 'unknown');
  assert.equal(readImageMetadata(Buffer.from('not an image')).tool, 'unknown');
});

// ---- the import pipeline ----

test('import: products under our own path, sidecar, row, thumbnails, provider "import" with tool and model', async () => {
  const { dir, db, src } = await project();
  // Source names are never used for paths, however odd.
  await fs.writeFile(path.join(src, '..%2F evil name ☃.png'), await F.pngWithText([{ keyword: 'parameters', text: F.A1111_TEXT }]));
  await fs.writeFile(path.join(src, 'comfy.png'), await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify(F.COMFY_API_DEFAULT) }], await F.plainPng(30, 20)));
  await fs.writeFile(path.join(src, 'plain.jpg'), await sharp({ create: { width: 20, height: 20, channels: 3, background: '#0a0' } }).jpeg().toBuffer());
  await fs.writeFile(path.join(src, 'notes.txt'), 'ignored in folder walks');
  const seen: string[] = [];
  const thumbs: string[] = [];
  const report = await importImages(dir, db, [src], { onProduct: (p) => seen.push(p.id), onThumbnail: (id) => thumbs.push(id) });
  await report.thumbnailsDone; // made in the background, after the import returned
  assert.deepEqual(thumbs, [...seen].reverse(), 'thumbnails are made newest first, the order the gallery opens in');
  assert.deepEqual(thumbs.sort(), [...report.importedIds].sort());
  assert.equal(report.imported, 3);
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(report.byTool, { a1111: 1, comfyui: 1, unknown: 1 });
  assert.equal(seen.length, 3);
  for (const id of report.importedIds) {
    const p = await db.getProduct(id);
    assert.ok(p);
    assert.equal(p.provider, IMPORT_PROVIDER);
    assert.match(p.file, /^products\/\d{4}\/\d{2}\/\d{2}\/imp-[0-9a-f]{32}\.(png|jpg)$/);
    const stored = await fs.readFile(path.join(dir, ...p.file.split('/')));
    assert.equal(stored.length, p.bytes);
    assert.equal(importedProductId(p.sha256), p.id);
    assert.deepEqual(await readSidecar(sidecarPath(dir, p)), p);
    assert.ok(existsSync(path.join(dir, '.artfactory', 'thumbs', `${p.id}-256.webp`)));
    assert.ok(!existsSync(path.join(dir, '.artfactory', 'thumbs', `${p.id}-768.webp`)), 'the large thumbnail waits until it is asked for');
    assert.equal(p.input.tool, p.imported?.tool);
  }
  // An agent asking for a product's picture gets its large thumbnail, made then.
  const asked = await db.getProduct(report.importedIds[0]);
  const large = await productThumbnail(dir, db, asked!);
  assert.equal(large.mediaType, 'image/webp');
  assert.equal((await sharp(Buffer.from(large.bytes)).metadata()).format, 'webp');
  assert.ok(existsSync(path.join(dir, '.artfactory', 'thumbs', `${asked!.id}-768.webp`)));
  const stored = await importedProducts(db, report);
  const a = stored.find((p) => p.imported?.tool === 'a1111')!;
  assert.equal(a.model, 'sd_xl_base_1.0');
  assert.equal(a.seed, 3021544718);
  assert.equal(a.prompt, 'masterpiece, a lighthouse at dusk, <lora:film:0.7>');
  assert.equal(a.input.cfg_scale, 6.5);
  assert.equal(a.imported?.fileName, '..%2F evil name ☃.png');
  const found = await db.queryProducts({ text: 'lighthouse' });
  assert.equal(found.total, 1, 'imported prompts are searchable');
  const c = stored.find((p) => p.imported?.tool === 'comfyui')!;
  assert.deepEqual([c.width, c.height], [30, 20], 'size from the decoded image');
  assert.equal(c.model, 'v1-5-pruned-emaonly');
});

test('import: the same image twice adds nothing, from another folder or the same run', async () => {
  const { dir, db, src } = await project();
  const png = await F.pngWithText([{ keyword: 'parameters', text: F.A1111_TEXT }]);
  await fs.writeFile(path.join(src, 'a.png'), png);
  await fs.mkdir(path.join(src, 'nested', 'deeper'), { recursive: true });
  await fs.writeFile(path.join(src, 'nested', 'deeper', 'copy-of-a.png'), png);
  const first = await importImages(dir, db, [src]);
  assert.equal(first.imported, 1);
  assert.equal(first.duplicates.length, 1);
  const again = await importImages(dir, db, [path.join(src, 'a.png')]);
  assert.equal(again.imported, 0);
  assert.deepEqual(again.duplicates, [{ file: path.join(src, 'a.png'), productId: first.importedIds[0] }]);
  assert.equal(await db.countProducts(), 1);
});

test('import: corrupt files are skipped with a reason while the rest import; non-images and project files too', async () => {
  const { dir, db, src } = await project();
  const good = await F.pngWithText([{ keyword: 'parameters', text: F.A1111_TEXT }]);
  await fs.writeFile(path.join(src, 'good.png'), good);
  await fs.writeFile(path.join(src, 'truncated.png'), good.subarray(0, good.length - 40));
  await fs.writeFile(path.join(src, 'empty.png'), '');
  await fs.writeFile(path.join(src, 'page.png'), '<html>not found</html>');
  const jpg = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#00a' } }).jpeg().toBuffer();
  await fs.writeFile(path.join(src, 'cut.jpg'), jpg.subarray(0, jpg.length / 2));
  const explicitText = path.join(src, 'readme.md');
  await fs.writeFile(explicitText, '# hello');
  const inside = path.join(dir, 'products', 'stray.png');
  await fs.mkdir(path.dirname(inside), { recursive: true });
  await fs.writeFile(inside, good);
  const r = await importImages(dir, db, [src, explicitText, inside, path.join(src, 'missing.png')]);
  assert.equal(r.imported, 1);
  const reasons = Object.fromEntries(r.skipped.map((s) => [path.basename(s.file), `${s.kind}: ${s.reason}`]));
  assert.match(reasons['truncated.png'], /^truncated: The PNG file is truncated/);
  assert.match(reasons['empty.png'], /^empty: The file is empty/);
  assert.match(reasons['page.png'], /^unsupported: The file is text \(HTML/);
  assert.match(reasons['cut.jpg'], /^(truncated|corrupt): The JPG file is/);
  assert.match(reasons['readme.md'], /^unsupported: The file is text/);
  await fs.writeFile(path.join(src, 'blob.png'), Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  const blob = await importImages(dir, db, [path.join(src, 'blob.png')]);
  assert.match(blob.skipped[0].reason, /^Not an image format Art Factory imports/);
  assert.match(reasons['stray.png'], /^inside-project:/);
  assert.match(reasons['missing.png'], /^unreadable: .*ENOENT/);
  // A named pipe given as a source: refused at once, not waited on for a writer that never comes.
  if (process.platform !== 'win32') {
    const pipe = path.join(src, 'pipe.png');
    execFileSync('mkfifo', [pipe]);
    const piped = await importImages(dir, db, [pipe]);
    assert.deepEqual(piped.skipped.map((s) => `${s.kind}: ${s.reason}`), ['unsupported: Not a regular file.']);
    await fs.rm(pipe);
  }
  for (const s of r.skipped) assert.doesNotMatch(s.reason, /download|provider/i, 'reasons speak of files, not downloads');
});

test('import: an image whose sidecar cannot be written is taken away again; a folder of the project is not imported', async () => {
  const { dir, db, src } = await project();
  const png = await F.plainPng(20, 20);
  await fs.writeFile(path.join(src, 'a.png'), png);
  const id = importedProductId(createHash('sha256').update(png).digest('hex'));
  // A folder where the sidecar should go makes writing it fail.
  const day = path.join(dir, 'products', '2026', '03', '04');
  await fs.mkdir(path.join(day, `${id}.json`), { recursive: true });
  await assert.rejects(importImages(dir, db, [src], { now: () => new Date('2026-03-04T05:06:07Z'), makeThumbnails: false }));
  assert.deepEqual(await fs.readdir(day), [`${id}.json`], 'no image is left without its sidecar');
  assert.equal(await db.getProduct(id), undefined);

  const r = await importImages(dir, db, [path.join(dir, 'products')]);
  assert.deepEqual(r.skipped.map((s) => s.kind), ['inside-project']);
  assert.match(r.skipped[0].reason, /folder is already part of the project/);
});

test('import: progress counts up to the total, and cancel stops between files keeping what was imported', async () => {
  const { dir, db, src } = await project();
  for (let i = 0; i < 12; i++) {
    const sub = path.join(src, `d${i % 3}`);
    await fs.mkdir(sub, { recursive: true });
    await fs.writeFile(path.join(sub, `img${i}.png`), await F.plainPng(16 + i, 16, [i * 20, 80, 120]));
  }
  const ticks: [number, number][] = [];
  const all = await importImages(dir, db, [src], { onProgress: (p) => ticks.push([p.done, p.total]), makeThumbnails: false });
  assert.equal(all.imported, 12);
  assert.deepEqual(ticks.map((t) => t[0]), Array.from({ length: 12 }, (_, i) => i + 1));
  assert.ok(ticks.every((t) => t[1] === 12));

  const second = await project();
  for (let i = 0; i < 10; i++) await fs.writeFile(path.join(second.src, `x${i}.png`), await F.plainPng(10 + i, 10));
  const ac = new AbortController();
  // Canceled once 3 files are looked at (rows are written in batches, so onProduct comes later).
  const r = await importImages(second.dir, second.db, [second.src], {
    signal: ac.signal,
    makeThumbnails: false,
    onProgress: (p) => {
      if (p.done === 3) ac.abort();
    },
  });
  assert.equal(r.canceled, true);
  // Files are read a few at a time: those already past their last check when the cancel came are stored.
  assert.ok(r.imported >= 3 && r.imported <= 6, `the walk stops at the files in flight after the cancel (${r.imported} of 10 imported)`);
  assert.equal(await second.db.countProducts(), r.imported, 'what was imported stays, nothing half-done');
});

test('import: PngSuite — every valid file imports, every x*.png is skipped with a reason', needsFixtures(PNGSUITE), async () => {
  const files = fixtureFiles(PNGSUITE, (f) => f.endsWith('.png')).map((f) => path.basename(f));
  const corrupt = files.filter((f) => f.startsWith('x'));
  assert.deepEqual([files.length, corrupt.length], [PNGSUITE_FILES, PNGSUITE_CORRUPT]);
  const { dir, db } = await project();
  const started = Date.now();
  const r = await importImages(dir, db, [PNGSUITE], { makeThumbnails: false });
  const skippedNames = r.skipped.map((s) => path.basename(s.file)).sort();
  assert.deepEqual(skippedNames, corrupt.sort(), 'exactly the x*.png files are skipped');
  for (const s of r.skipped) assert.ok(s.reason.length > 10 && ['corrupt', 'truncated', 'unsupported'].includes(s.kind), `${path.basename(s.file)}: ${s.kind} ${s.reason}`);
  // A few valid PngSuite files are byte-identical copies (e.g. basn6a08 and bgan6a08): those are duplicates.
  const hashes = new Set<string>();
  for (const f of files.filter((x) => !x.startsWith('x'))) hashes.add(createHash('sha256').update(await fs.readFile(path.join(PNGSUITE, f))).digest('hex'));
  assert.equal(r.imported, hashes.size);
  assert.equal(r.duplicates.length, files.length - corrupt.length - hashes.size);
  assert.equal(await db.countProducts(), r.imported);
  // The files with text chunks (ct*: Title, Author, … in many languages; exif2c08: eXIf) keep
  // them as raw metadata, which is not generation metadata.
  const withText = (await importedProducts(db, r)).filter((p) => p.imported?.raw);
  assert.deepEqual(withText.map((p) => p.imported!.fileName).sort(), ['ct1n0g04.png', 'cten0g04.png', 'ctfn0g04.png', 'ctgn0g04.png', 'cthn0g04.png', 'ctjn0g04.png', 'ctzn0g04.png', 'exif2c08.png']);
  assert.ok(withText.every((p) => p.imported!.tool === 'unknown'), 'PngSuite Title/Author chunks are not generation metadata');
  console.log(`# PngSuite: ${r.imported} imported, ${r.duplicates.length} duplicates, ${r.skipped.length} skipped in ${Date.now() - started} ms`);
});

test('import: bad_images — the empty file is skipped, 1×1 images import, text after IDAT is read', needsFixtures(BAD_IMAGES), async () => {
  const files = fixtureFiles(BAD_IMAGES);
  const { dir, db } = await project();
  const r = await importImages(dir, db, [BAD_IMAGES], { makeThumbnails: false });
  const skipped = Object.fromEntries(r.skipped.map((s) => [path.basename(s.file), s.kind]));
  assert.deepEqual(skipped, { 'empty_file.png': 'empty' });
  assert.equal(r.imported + r.duplicates.length, files.length - 1);
  const duck = (await importedProducts(db, r)).find((p) => p.imported?.fileName === 'text_after_idat.png');
  assert.ok(duck, 'text_after_idat.png imported');
  assert.equal(duck.imported?.tool, 'a1111');
  assert.equal(duck.prompt, 'photo of a duck');
  assert.equal(duck.negativePrompt, 'monochrome');
  assert.equal(duck.seed, 235284042);
  assert.equal(duck.model, 'realistic_realisticVisionV20_v20');
});
