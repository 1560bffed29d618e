// Writes the schemas that ship as files: media/schemas/art.schema.json (the envelope VS Code
// gives every *.art.json through package.json's jsonValidation) and, in the demo project, the
// schemas of the models its parameter files name whose schemas need no network (Sample,
// Civitai); the others are written by the extension when it opens the project.
//   node --import tsx scripts/schemas.ts          write them
//   node --import tsx scripts/schemas.ts --check  exit 1 when a file is out of date (a test runs it)
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { envelopeSchema, hintSchema, modelSchemaPath, modelSchemaText } from '../src/engine/schemas.ts';
import { parseCheckpointAir } from '../src/providers/civitai/air.ts';
import { civitaiInputSchema } from '../src/providers/civitai/input.ts';
import { createSampleProvider } from '../src/providers/sample.ts';
import type { JsonSchema } from '../src/providers/types.ts';

const ROOT = path.resolve(__dirname, '..');
const DEMO = path.join(ROOT, 'demo');

const sample = createSampleProvider({ getKey: async () => undefined, baseUrl: undefined, limits: {}, log: { info: () => undefined, warn: () => undefined, error: () => undefined } } as never);
const offline: Record<string, (model: string) => Promise<JsonSchema>> = {
  sample: (model) => sample.getInputSchema(model),
  civitai: async (model) => civitaiInputSchema(parseCheckpointAir(model)),
};

/** Every shipped schema file and the text it must have. */
export async function shippedSchemas(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  files.set(path.join(ROOT, 'media', 'schemas', 'art.schema.json'), `${JSON.stringify(hintSchema(envelopeSchema()), null, 2)}\n`);
  for (const name of readdirSync(path.join(DEMO, 'params')).filter((f) => f.endsWith('.art.json'))) {
    const { provider, model } = JSON.parse(readFileSync(path.join(DEMO, 'params', name), 'utf8')) as { provider: string; model: string };
    const input = await offline[provider]?.(model);
    // The same text the extension writes when it opens the project and finds the file missing.
    if (input) files.set(path.join(DEMO, modelSchemaPath(provider, model)), modelSchemaText(provider, model, input));
  }
  return files;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of await shippedSchemas()) {
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    stale++;
    if (check) console.error(`out of date: ${path.relative(ROOT, file)} (run: node --import tsx scripts/schemas.ts)`);
    else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      console.log(`wrote ${path.relative(ROOT, file)}`);
    }
  }
  if (check && stale) process.exit(1);
}

if (require.main === module) void main();
