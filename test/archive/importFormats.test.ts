// Issue 13: every format the best image browsers read. One test per tool, on images built in
// the tool's own layout (formatFixtures.ts cites each), then the import path that reads files
// beside an image, and seeds past 2^53 kept exactly.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { importImages } from '../../src/archive/import.ts';
import { readImageMetadata } from '../../src/media/metadata/index.ts';
import { readPngChunks } from '../../src/media/pngChunks.ts';
import { createProject, openProjectDb, readSidecar, sidecarPath } from '../../src/storage/index.ts';
import { ProjectPaths } from '../../src/storage/productPaths.ts';
import type { ProjectDb } from '../../src/storage/types.ts';
import { productDetail } from '../../src/webviews/tiles.ts';
import * as X from './formatFixtures.ts';
import * as F from './metadataFixtures.ts';

const open: ProjectDb[] = [];
after(async () => {
  await Promise.all(open.map((db) => db.close()));
});

async function project(): Promise<{ dir: string; db: ProjectDb; src: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'af-formats-'));
  const dir = path.join(root, 'project');
  await createProject(dir, 'Formats');
  const db = await openProjectDb(dir, { saveDelayMs: 10 });
  open.push(db);
  const src = path.join(root, 'incoming');
  await fs.mkdir(src);
  return { dir, db, src };
}

/** The metadata of a PNG, read as the import reads it (its chunks passed in). */
const readPng = (bytes: Buffer) => readImageMetadata(bytes, { pngChunks: readPngChunks(bytes) });

const core = (m: ReturnType<typeof readImageMetadata>) => ({ tool: m.tool, prompt: m.prompt, negativePrompt: m.negativePrompt, seed: m.seed, steps: m.steps, cfgScale: m.cfgScale, sampler: m.sampler, scheduler: m.scheduler, model: m.model, width: m.width, height: m.height });

test('NovelAI: PNG chunks (Description, Software, Source, Comment JSON), its WebP UserComment dictionary, and V4 captions', async () => {
  const png = readPng(await F.pngWithText(X.NOVELAI_CHUNKS));
  assert.deepEqual(core(png), {
    tool: 'novelai',
    prompt: X.NOVELAI_COMMENT.prompt,
    negativePrompt: X.NOVELAI_COMMENT.uc,
    seed: 210306140,
    steps: 28,
    cfgScale: 5,
    sampler: 'k_euler_ancestral',
    scheduler: 'native',
    model: 'Stable Diffusion XL',
    width: 1216,
    height: 832,
  });
  assert.equal(png.params.model_hash, 'C1E1DE52');
  assert.equal(png.params.generation_time, '6.494704299024306');
  assert.equal(png.raw.Comment, JSON.stringify(X.NOVELAI_COMMENT));
  assert.equal(png.raw.Title, 'AI generated image', 'NovelAI keeps its Title raw');

  const webp = readImageMetadata(await F.webpWithExif(F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentUnicodeBE(X.NOVELAI_WEBP_DICT), ifd: 'exif' }], 'II')));
  assert.deepEqual(core(webp), core(png), 'the WebP form reads the same');

  const v4 = readPng(await F.pngWithText([...X.NOVELAI_CHUNKS.filter((c) => c.keyword !== 'Comment' && c.keyword !== 'Source'), { keyword: 'Source', text: 'NovelAI Diffusion V4.5 4BDE2A90' }, { keyword: 'Comment', text: JSON.stringify(X.NOVELAI_V4_COMMENT) }]));
  assert.equal(v4.prompt, '2girls, rooftop at night, city lights', 'an empty prompt falls back to the V4 base caption');
  assert.equal(v4.negativePrompt, 'lowres, blurry');
  assert.equal(v4.params.character_prompts, 'girl, red hair | girl, blue hair');
  assert.equal(v4.model, 'NovelAI Diffusion V4.5');
  assert.equal(v4.seed, 3816166865);

  const broken = readPng(await F.pngWithText([{ keyword: 'Software', text: 'NovelAI' }, { keyword: 'Description', text: 'a prompt' }, { keyword: 'Comment', text: '{"steps": 28,' }]));
  assert.equal(broken.tool, 'novelai');
  assert.equal(broken.prompt, 'a prompt', 'the Description still gives the prompt');
  assert.match(broken.warnings.join(' '), /Comment chunk is not valid JSON/);
});

test('stealth parameters: A1111 text in the alpha channel (compressed and not), RGB mode, NovelAI dictionary; a plain RGBA image has none', async () => {
  for (const [compressed, mode] of [[true, 'alpha'], [false, 'alpha'], [true, 'rgb'], [false, 'rgb']] as const) {
    const m = readPng(await X.stealthPng(F.A1111_TEXT, { compressed, mode, width: 96, height: 64 }));
    assert.equal(m.tool, 'a1111', `${mode} ${compressed ? 'comp' : 'info'}`);
    assert.equal(m.prompt, 'masterpiece, a lighthouse at dusk, <lora:film:0.7>');
    assert.equal(m.seed, 3021544718);
    assert.equal(m.params.stealth, true);
    assert.equal(m.raw[`stealth:${mode}`], F.A1111_TEXT);
  }
  // Taller than the 120 bits of the signature and wider than one column of payload.
  const tall = readPng(await X.stealthPng(F.A1111_TEXT, { width: 40, height: 300 }));
  assert.equal(tall.steps, 28);
  const nai = readPng(await X.stealthPng(JSON.stringify(Object.fromEntries(X.NOVELAI_CHUNKS.map((c) => [c.keyword, c.text]))), { width: 128, height: 128 }));
  assert.equal(nai.tool, 'novelai');
  assert.equal(nai.seed, 210306140);
  assert.equal(nai.negativePrompt, X.NOVELAI_COMMENT.uc);
  // Text chunks win over hidden bits: the extension itself reads stealth only without them.
  const both = readPng(await F.pngWithText([{ keyword: 'parameters', text: 'visible prompt\nSteps: 3' }], await X.stealthPng(F.A1111_TEXT)));
  assert.equal(both.prompt, 'visible prompt');
  const plain = readPng(await X.stealthPng('', { compressed: false }).then(async () => F.plainPng(64, 48)));
  assert.equal(plain.tool, 'unknown');
  assert.deepEqual(plain.warnings, []);
  // A signature whose length runs past the pixels reads as nothing, without throwing.
  const cut = await X.stealthPng('x'.repeat(10), { compressed: false, width: 20, height: 20 });
  assert.equal(readPng(cut).tool, 'unknown');
});

test('SwarmUI: sui_image_params in PNG parameters and in JPEG UserComment, a 64-bit seed exact', async () => {
  const png = readPng(await F.pngWithText([{ keyword: 'parameters', text: X.SWARM_JSON }]));
  assert.deepEqual(core(png), {
    tool: 'swarmui',
    prompt: 'A headshot photograph of a 30 year old woman, <lora:detail_slider:0.6>',
    negativePrompt: 'blurry',
    seed: '1234567890123456789',
    steps: 25,
    cfgScale: 1,
    sampler: 'euler',
    scheduler: 'normal',
    model: 'flux1-dev-fp8',
    width: 512,
    height: 768,
  });
  assert.equal(png.params.loras, 'detail_slider:0.6');
  assert.equal(png.params.fluxguidancescale, 3.5);
  assert.equal(png.params.model_hash, '8e91b68084b53a7fc44ed2a3756d821e355ac1a7b6fe29be760c1db532f3d88a');
  assert.equal(png.params.generation_time, '35.81 sec');
  const jpeg = readImageMetadata(await F.jpegWithExif(F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentUnicodeBE(X.SWARM_JSON), ifd: 'exif' }])));
  assert.deepEqual(core(jpeg), core(png));
  // Older builds: the JSON in EXIF Model (stable-diffusion-prompt-reader's "swarm legacy format").
  const legacy = readImageMetadata(await F.jpegWithExif(F.tiff([{ tag: 0x0110, type: 2, data: Buffer.from(`${X.SWARM_JSON}\0`, 'utf8'), ifd: 0 }])));
  assert.equal(legacy.tool, 'swarmui');
  assert.equal(legacy.seed, '1234567890123456789');
});

test('Easy Diffusion: one PNG chunk per key, display names (txt format chosen), and JPEG UserComment JSON', async () => {
  const png = readPng(await F.pngWithText(X.EASY_DIFFUSION.map(([keyword, text]) => ({ keyword, text }))));
  assert.deepEqual(core(png), { tool: 'easydiffusion', prompt: 'a watercolor fox in a misty forest', negativePrompt: 'photo, blurry', seed: 3291457211, steps: 25, cfgScale: 7.5, sampler: 'dpmpp_2m', scheduler: undefined, model: 'sd-v1-5', width: 512, height: 768 });
  assert.equal(png.params.use_face_correction, 'GFPGANv1.4');
  assert.equal(png.params.use_lora_model, undefined, '"None" is no value');
  const names = readPng(await F.pngWithText(X.EASY_DIFFUSION_TXT.trim().split('\n').map((l) => ({ keyword: l.slice(0, l.indexOf(':')), text: l.slice(l.indexOf(':') + 2) }))));
  assert.deepEqual(core(names), core(png));
  const jpeg = readImageMetadata(await F.jpegWithExif(F.tiff([{ tag: 0x9286, type: 7, data: F.userCommentUnicodeBE(X.EASY_DIFFUSION_JSON), ifd: 'exif' }])));
  assert.deepEqual(core(jpeg), { ...core(png), model: 'sd-v1-5' });
  // ComfyUI's `prompt` chunk is JSON; Easy Diffusion's is text: not confused.
  assert.equal(png.raw.prompt, 'a watercolor fox in a misty forest');
});

test('Draw Things: XMP in a PNG iTXt chunk and a JPEG APP1 segment', async () => {
  const xmp = X.drawThingsXmp(X.DRAW_THINGS_CONFIG);
  const png = readPng(await F.pngWithText([{ keyword: 'XML:com.adobe.xmp', text: xmp, type: 'iTXt' }]));
  assert.deepEqual(core(png), { tool: 'drawthings', prompt: 'Lichen colony, (mist:1.3) & bark', negativePrompt: 'blurry <lowres>', seed: 1172910896, steps: 4, cfgScale: 1, sampler: 'Euler A Trailing', scheduler: undefined, model: 'flux_1_schnell_q5p', width: 768, height: 1024 });
  assert.equal(png.params.loras, 'detail_tweaker_f16:0.8');
  assert.equal(png.params.seed_mode, 'Scale Alike');
  assert.ok(png.raw['XML:com.adobe.xmp'].includes('Draw Things'), 'the XMP is kept raw');
  const jpeg = readImageMetadata(await X.jpegWithXmp(xmp));
  assert.deepEqual(core(jpeg), core(png));
  // Without the configuration JSON, the description line still gives prompt, negative and settings.
  const described = readPng(await F.pngWithText([{ keyword: 'XML:com.adobe.xmp', type: 'iTXt', text: xmp.replace(/<exif:UserComment>[\s\S]*<\/exif:UserComment>/, '') }]));
  assert.equal(described.tool, 'drawthings');
  assert.equal(described.prompt, 'Lichen colony, (mist:1.3) & bark');
  assert.equal(described.negativePrompt, 'blurry <lowres>');
  assert.equal(described.steps, 4);
  // A photo's XMP is not a generator's: not kept, not read.
  const photo = readPng(await F.pngWithText([{ keyword: 'XML:com.adobe.xmp', type: 'iTXt', text: '<x:xmpmeta><rdf:Description xmp:CreatorTool="Adobe Photoshop 25.0"/></x:xmpmeta>' }]));
  assert.equal(photo.tool, 'unknown');
  assert.deepEqual(photo.raw, {});
});

test('Midjourney: the description (prompt, parameters, job id), author and XMP', async () => {
  const m = readPng(await F.pngWithText(X.MIDJOURNEY_CHUNKS));
  assert.equal(m.tool, 'midjourney');
  assert.equal(m.prompt, 'a lighthouse at dusk, oil painting');
  assert.equal(m.negativePrompt, 'people, boats', '--no is the negative prompt');
  assert.equal(m.seed, 4242);
  assert.equal(m.model, 'Midjourney v6');
  assert.equal(m.params.job_id, X.MIDJOURNEY_JOB);
  assert.equal(m.params.aspect_ratio, '2:1');
  assert.equal(m.params.stylize, '80');
  assert.equal(m.params.author, 'peterkaminski');
  // Renamed and with the Job ID cut from the description, the XMP still names the job.
  const noJob = readPng(await F.pngWithText([{ keyword: 'Description', text: 'a koi pond --v 6.1 --ar 3:4' }, X.MIDJOURNEY_CHUNKS[3]]));
  assert.equal(noJob.tool, 'midjourney');
  assert.equal(noJob.params.job_id, X.MIDJOURNEY_JOB);
  assert.equal(noJob.model, 'Midjourney v6.1');
  // JPEG: EXIF ImageDescription and Artist.
  const jpeg = readImageMetadata(await F.jpegWithExif(F.tiff([{ tag: 0x010e, type: 2, data: Buffer.from(`${X.MIDJOURNEY_CHUNKS[2].text}\0`), ifd: 0 }, { tag: 0x013b, type: 2, data: Buffer.from('peterkaminski\0'), ifd: 0 }])));
  assert.equal(jpeg.tool, 'midjourney');
  assert.equal(jpeg.params.author, 'peterkaminski');
  assert.equal(jpeg.params.job_id, X.MIDJOURNEY_JOB);
});

test('InvokeAI 5 invokeai_graph: its core_metadata node, else the generation nodes through the edges', async () => {
  const bare = readPng(await F.pngWithText([{ keyword: 'invokeai_graph', text: JSON.stringify(X.INVOKE_GRAPH_SD1) }]));
  assert.deepEqual(core(bare), { tool: 'invokeai', prompt: 'a cozy cabin in the snow, warm light', negativePrompt: 'lowres, watermark', seed: 2897315614, steps: 32, cfgScale: 6.5, sampler: undefined, scheduler: 'dpmpp_2m_k', model: 'Deliberate v2', width: 512, height: 640 });
  assert.equal(bare.params.base_model, 'sd-1');
  const meta = readPng(await F.pngWithText([{ keyword: 'invokeai_graph', text: JSON.stringify(X.INVOKE_GRAPH_WITH_METADATA) }]));
  assert.deepEqual([meta.prompt, meta.seed, meta.steps, meta.model, meta.params.guidance, meta.params.base_model], ['a red lantern on a pier', 94881612, 28, 'FLUX Dev (Quantized)', 3.5, 'flux']);
  // invokeai_metadata, when present, is read first (it is the same record, shorter).
  const both = readPng(await F.pngWithText([{ keyword: 'invokeai_metadata', text: F.INVOKE_V5 }, { keyword: 'invokeai_graph', text: JSON.stringify(X.INVOKE_GRAPH_SD1) }]));
  assert.equal(both.prompt, 'a fox in a snowy forest, golden hour');
  // A graph with no generation in it.
  const empty = readPng(await F.pngWithText([{ keyword: 'invokeai_graph', text: '{"id":"g","nodes":{},"edges":[]}' }]));
  assert.equal(empty.tool, 'invokeai');
  assert.match(empty.warnings.join(' '), /holds no generation we know/);
});

test('ComfyUI node packs: SD3.5 with a 64-bit seed, custom sampler + GGUF + Power Lora, efficiency nodes, DualCFGGuider, WebP EXIF', async () => {
  const sd3 = readPng(await F.pngWithText([{ keyword: 'prompt', text: X.COMFY_API_SD3 }]));
  assert.deepEqual(core(sd3), { tool: 'comfyui', prompt: 'a tiny astronaut hatching from an egg on the moon', negativePrompt: 'lowres, text', seed: '18446744073709551557', steps: 40, cfgScale: 4.5, sampler: 'dpmpp_2m', scheduler: 'sgm_uniform', model: 'sd3.5_large', width: 1024, height: 1344 });

  const custom = readPng(await F.pngWithText([{ keyword: 'prompt', text: X.COMFY_API_CUSTOM_JSON }]));
  assert.deepEqual(core(custom), { tool: 'comfyui', prompt: 'ink drawing of a heron', negativePrompt: 'color, photo', seed: '9007199254740993', steps: 26, cfgScale: 2.5, sampler: 'dpmpp_2m_sde', scheduler: 'karras', model: 'flux1-dev-Q8_0', width: 832, height: 1216 });
  assert.equal(custom.params.loras, 'ink_style:0.75', 'the lora switched off is not listed');

  const eff = readPng(await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify(X.COMFY_API_EFFICIENT) }]));
  assert.deepEqual(core(eff), { tool: 'comfyui', prompt: 'a samurai in the rain, cinematic', negativePrompt: 'cartoon', seed: 640271075062843, steps: 30, cfgScale: 6, sampler: 'dpmpp_2m_sde', scheduler: 'karras', model: 'juggernautXL_v9', width: 1024, height: 1024 });
  assert.equal(eff.params.loras, 'add-detail-xl:0.8');

  const dual = readPng(await F.pngWithText([{ keyword: 'prompt', text: JSON.stringify(X.COMFY_API_DUAL) }]));
  assert.deepEqual([dual.prompt, dual.negativePrompt, dual.cfgScale, dual.sampler, dual.scheduler, dual.steps, dual.params.denoise, dual.params.guider], ['a glass teapot, studio light', 'noisy', 7, 'euler_ancestral', 'beta', 18, 0.9, 'DualCFGGuider']);

  const webp = readImageMetadata(await X.comfyWebp(X.COMFY_API_SD3.replace(/\s+/g, ' '), F.COMFY_WORKFLOW_DEFAULT));
  assert.equal(webp.tool, 'comfyui');
  assert.equal(webp.seed, '18446744073709551557');
  assert.equal(webp.model, 'sd3.5_large');
  // Only the workflow (the API prompt left out): read from the editor graph.
  const wfOnly = readImageMetadata(await X.comfyWebp('', F.COMFY_WORKFLOW_DEFAULT));
  assert.equal(wfOnly.prompt, 'beautiful scenery nature glass bottle landscape, , purple galaxy bottle,');

  // The API graph in A1111's `parameters` chunk, no `prompt` chunk (Infinite Image Browsing reads it).
  const inParameters = readPng(await F.pngWithText([{ keyword: 'parameters', text: X.COMFY_API_SD3 }]));
  assert.deepEqual([inParameters.tool, inParameters.seed, inParameters.model, inParameters.prompt], ['comfyui', '18446744073709551557', 'sd3.5_large', 'a tiny astronaut hatching from an egg on the moon']);

  // The editor graph with the prompt from a Dynamic Prompts node and the seed from rgthree's
  // Seed node (widgets converted to inputs: the sampler's own widget value is stale).
  const wf = structuredClone(F.COMFY_WORKFLOW_DEFAULT) as typeof F.COMFY_WORKFLOW_DEFAULT & { nodes: Record<string, unknown>[]; links: unknown[][] };
  wf.nodes.push(
    { id: 10, type: 'DPRandomGenerator', mode: 0, outputs: [{ name: 'STRING', type: 'STRING', links: [10] }], widgets_values: ['a {red|blue} lantern on a pier', 12, 'No'] },
    { id: 11, type: 'Seed (rgthree)', mode: 0, outputs: [{ name: 'SEED', type: 'INT', links: [11] }], widgets_values: [18446744073709552000] },
  );
  (wf.nodes.find((n) => n.id === 6)!.inputs as unknown[]).push({ name: 'text', type: 'STRING', link: 10, widget: { name: 'text' } });
  (wf.nodes.find((n) => n.id === 3)!.inputs as unknown[]).push({ name: 'seed', type: 'INT', link: 11, widget: { name: 'seed' } });
  wf.links.push([10, 10, 0, 6, 1, 'STRING'], [11, 11, 0, 3, 4, 'INT']);
  const wfText = JSON.stringify(wf).replace('18446744073709552000', '18446744073709551615');
  const dp = readPng(await F.pngWithText([{ keyword: 'workflow', text: wfText }]));
  assert.deepEqual([dp.prompt, dp.seed, dp.steps, dp.negativePrompt], ['a {red|blue} lantern on a pier', '18446744073709551615', 20, 'text, watermark']);
});

test('Fooocus forks: Fooocus-MRE Comment JSON, RuinedFooocus parameters JSON; aesthetic score chunks', async () => {
  const mre = readPng(await F.pngWithText([{ keyword: 'Comment', text: X.FOOOCUS_MRE }]));
  assert.deepEqual(core(mre), { tool: 'fooocus', prompt: 'castle on a hill', negativePrompt: undefined, seed: 42424242, steps: 30, cfgScale: 7, sampler: 'dpmpp_2m_sde_gpu', scheduler: 'karras', model: 'sd_xl_base_1.0_0.9vae', width: 1024, height: 1024 });
  const ruined = readPng(await F.pngWithText([{ keyword: 'parameters', text: X.RUINED_FOOOCUS }]));
  assert.deepEqual(core(ruined), { tool: 'fooocus', prompt: 'a neon koi', negativePrompt: 'dull', seed: 1234, steps: 20, cfgScale: 6, sampler: 'dpmpp_2m', scheduler: 'karras', model: 'dreamshaperXL', width: 896, height: 1152 });
  assert.equal(ruined.params.software, 'RuinedFooocus');
  const scored = readPng(await F.pngWithText([{ keyword: 'parameters', text: F.A1111_TEXT }, { keyword: 'aesthetic_score', text: '6.4' }]));
  assert.equal(scored.params.aesthetic_score, 6.4);
});

// ---- files beside the image ----

test('import: a .txt beside the image (A1111, Easy Diffusion), a .json (Easy Diffusion), Fooocus log.html; the image itself wins', async () => {
  const { dir, db, src } = await project();
  const plain = (i: number) => F.plainPng(20 + i, 20);
  await fs.writeFile(path.join(src, 'a1111.png'), await plain(1));
  await fs.writeFile(path.join(src, 'a1111.txt'), F.A1111_TEXT);
  await fs.writeFile(path.join(src, 'ed.jpeg.png'), await plain(2));
  await fs.writeFile(path.join(src, 'ed.jpeg.txt'), X.EASY_DIFFUSION_TXT);
  await fs.writeFile(path.join(src, 'edjson.png'), await plain(3));
  await fs.writeFile(path.join(src, 'edjson.json'), X.EASY_DIFFUSION_JSON);
  await fs.writeFile(path.join(src, '2024-03-01_10-00-00_1234.png'), await plain(4));
  await fs.writeFile(path.join(src, 'log.html'), X.fooocusLogHtml([{ file: 'other.png', rows: [['Prompt', 'not this one']] }, { file: '2024-03-01_10-00-00_1234.png', rows: X.FOOOCUS_LOG_ROWS }]));
  await fs.writeFile(path.join(src, 'own.png'), await F.pngWithText([{ keyword: 'parameters', text: 'its own prompt\nSteps: 9' }]));
  await fs.writeFile(path.join(src, 'own.txt'), F.A1111_TEXT);
  await fs.writeFile(path.join(src, 'none.png'), await plain(5));
  await fs.writeFile(path.join(src, 'none.txt'), 'shopping list: eggs');
  const r = await importImages(dir, db, [src], { makeThumbnails: false });
  assert.equal(r.imported, 6);
  const byName = new Map((await Promise.all(r.importedIds.map((id) => db.getProduct(id)))).map((p) => [p!.imported!.fileName, p!]));
  const a = byName.get('a1111.png')!;
  assert.deepEqual([a.imported?.tool, a.prompt, a.seed, a.input.steps], ['a1111', 'masterpiece, a lighthouse at dusk, <lora:film:0.7>', 3021544718, 28]);
  assert.equal(a.imported?.raw?.['sidecar:txt'], F.A1111_TEXT);
  const ed = byName.get('ed.jpeg.png')!;
  assert.deepEqual([ed.imported?.tool, ed.prompt, ed.negativePrompt, ed.seed, ed.model], ['easydiffusion', 'a watercolor fox in a misty forest', 'photo, blurry', 3291457211, 'sd-v1-5']);
  assert.equal(byName.get('edjson.png')!.imported?.tool, 'easydiffusion');
  const fooocus = byName.get('2024-03-01_10-00-00_1234.png')!;
  assert.deepEqual([fooocus.imported?.tool, fooocus.prompt, fooocus.seed, fooocus.input.steps, fooocus.model, fooocus.input.width], ['fooocus', 'a red fox in snow', '12345678901234567890', 30, 'juggernautXL_v8Rundiffusion', 1152]);
  assert.equal(fooocus.input['LoRA 1'], 'sd_xl_offset_example-lora_1.0.safetensors : 0.1');
  assert.equal(byName.get('own.png')!.prompt, 'its own prompt', "the image's own metadata wins over a .txt beside it");
  const none = byName.get('none.png')!;
  assert.equal(none.imported?.tool, 'unknown', 'a .txt that is not parameters is not read as them');
  assert.equal(none.imported?.raw, undefined);
});

// ---- seeds past 2^53 ----

test('a seed past 2^53 stays exact: metadata, input, sidecar, database, and again after Rebuild-style reads', async () => {
  const { dir, db, src } = await project();
  await fs.writeFile(path.join(src, 'sd3.png'), await F.pngWithText([{ keyword: 'prompt', text: X.COMFY_API_SD3 }]));
  await fs.writeFile(path.join(src, 'fooocus.png'), await F.pngWithText([{ keyword: 'parameters', text: F.FOOOCUS_JSON }, { keyword: 'fooocus_scheme', text: 'fooocus' }]));
  await fs.writeFile(path.join(src, 'a1111.png'), await F.pngWithText([{ keyword: 'parameters', text: F.A1111_TEXT.replace('Seed: 3021544718', 'Seed: 18446744073709551615') }]));
  const r = await importImages(dir, db, [src], { makeThumbnails: false });
  assert.equal(r.imported, 3);
  const seeds: Record<string, string> = { 'sd3.png': '18446744073709551557', 'fooocus.png': '127589946317439009', 'a1111.png': '18446744073709551615' };
  for (const id of r.importedIds) {
    const p = (await db.getProduct(id))!;
    const want = seeds[p.imported!.fileName];
    assert.equal(p.seed, want, `${p.imported!.fileName}: database`);
    assert.equal(p.input.seed, want, 'input');
    const sidecar = await readSidecar(sidecarPath(dir, p));
    assert.equal(sidecar.seed, want, 'sidecar');
    assert.ok((await fs.readFile(sidecarPath(dir, p), 'utf8')).includes(`"seed": "${want}"`), 'written as its digits');
    assert.deepEqual(p.imported?.warnings ?? [], [], 'no warning: nothing was rounded');
    // What the gallery's detail view is sent (its Seed row shows String(record.seed)).
    const detail = productDetail('Formats', p, { paths: new ProjectPaths(dir), toUri: (abs) => `file://${abs}` });
    assert.equal(detail.record.seed, want, 'gallery detail');
  }
});
