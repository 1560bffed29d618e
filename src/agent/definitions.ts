// The agent tools Art Factory offers, defined once: their names, what the model is told, and
// their input schemas. VS Code's `languageModelTools` contribution (package.json) and the MCP
// server's tool list are both made from these (test/agent/definitions.test.ts holds
// package.json to them). Input is checked with these schemas; a generation's envelope fields
// are the parameter file's own (`ParamFileEnvelope`), so a tool call and a file are held to
// the same rules and get the same messages.
import { z } from 'zod';
import { ParamFileEnvelope } from '../engine/paramFile.ts';

const envelope = ParamFileEnvelope.shape;

const project = z
  .string()
  .min(1)
  .max(1000)
  .optional()
  .describe('The Art Factory project: its name or folder. Needed only when more than one project is open.');

const ids = z.array(z.string().min(1).max(100)).min(1).max(100);

export const GenerateInput = z
  .object({
    project,
    file: z.string().min(1).max(1000).optional().describe('A parameter file (*.art.json) in the project to run, project-relative. Give either this or provider and model.'),
    provider: z.string().min(1).max(100).optional().describe('Provider id: fal, replicate, civitai or sample (offline, free). See artfactory_list_models.'),
    model: z.string().min(1).max(500).optional().describe('Model id, as artfactory_list_models gives it, e.g. fal-ai/flux/dev.'),
    prompt: z.string().min(1).max(10000).optional().describe("The prompt; it goes into the model's prompt field."),
    input: envelope.input.optional().describe('Other model inputs by field name (width, seed, …). Image fields take an https URL, a path (project-relative or absolute) or product:<id>.'),
    count: envelope.count.describe('How many jobs to run with these inputs (1 by default).'),
    seeds: envelope.seeds.describe('Run once per seed.'),
    sweep: envelope.sweep.describe('Field name → list of values: one job per combination.'),
    waitSeconds: z.number().int().min(0).max(1800).optional().describe('How long to wait for the results (default 300). Jobs still running then go on; their products appear in artfactory_search_products.'),
  })
  .strict();

const dateText = z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'Write a date as YYYY-MM-DD.').max(40);

export const SearchInput = z
  .object({
    project,
    text: z.string().max(500).optional().describe('Words to find in prompts.'),
    provider: z.string().max(100).optional().describe('Only this provider.'),
    model: z.string().max(500).optional().describe('Only this model.'),
    minRating: z.number().int().min(0).max(5).optional().describe('Only products rated at least this (1–5).'),
    favorite: z.boolean().optional().describe('Only favourites.'),
    tags: z.array(z.string().min(1).max(100)).max(20).optional().describe('Only products with all these tags.'),
    from: dateText.optional().describe('Made on or after this date (YYYY-MM-DD).'),
    to: dateText.optional().describe('Made on or before this date (YYYY-MM-DD).'),
    sort: z.enum(['newest', 'oldest', 'rating', 'model']).optional(),
    limit: z.number().int().min(1).max(100).optional().describe('At most this many (20 by default).'),
    cursor: z.string().max(1000).optional().describe('The "next" value of the previous page.'),
  })
  .strict();

export const GetInput = z
  .object({
    project,
    id: z.string().min(1).max(100).describe('The product id.'),
  })
  .strict();

export const ListModelsInput = z
  .object({
    provider: z.string().max(100).optional().describe('Only this provider.'),
    capability: z.enum(['text-to-image', 'image-to-image', 'video', 'audio']).optional(),
    text: z.string().max(200).optional().describe('Words in the model id, title or description.'),
    model: z.string().max(500).optional().describe("One model's id: its input fields are described in full."),
  })
  .strict();

export const UpdateInput = z
  .object({
    project,
    ids: ids.describe('The products to change.'),
    rating: z.number().int().min(0).max(5).optional().describe('1–5 stars; 0 clears the rating.'),
    favorite: z.boolean().optional(),
    addTags: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
    removeTags: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
  })
  .strict();

export interface ToolDefinition {
  name: string;
  /** Shown to people (VS Code's tool picker, an MCP client's list). */
  title: string;
  /** Shown to people in VS Code's tool picker. */
  userDescription: string;
  /** What the language model is told. */
  description: string;
  /** The short name to reference it in a VS Code chat prompt (#artFactoryGenerate). */
  referenceName: string;
  schema: z.ZodObject;
  /** Reads only (MCP annotations: clients may run it without asking). */
  readOnly: boolean;
  icon: string;
}

export const TOOLS = [
  {
    name: 'artfactory_generate',
    title: 'Generate Images',
    referenceName: 'artFactoryGenerate',
    icon: '$(sparkle)',
    userDescription: "Make images with Art Factory in the project's library",
    description:
      "Generate images (or video) with Art Factory, into the user's project library, through the user's own provider accounts. Either run a parameter file (file) or give provider, model and prompt (and other model inputs in input; image inputs take https URLs, project paths or product:<id>). Waits for the results and returns each product's id and project-relative file path, ready to use in code. Costs money on fal, replicate and civitai; the sample provider is offline and free. Use artfactory_list_models first to pick a model and see its inputs.",
    schema: GenerateInput,
    readOnly: false,
  },
  {
    name: 'artfactory_search_products',
    title: 'Search Products',
    referenceName: 'artFactorySearch',
    icon: '$(search)',
    userDescription: "Find images in the project's Art Factory library",
    description:
      "Search the images (products) in the user's Art Factory project: by words in the prompt, provider, model, rating, favourite, tags and dates. Returns ids, prompts, project-relative file paths, sizes and ratings, newest first unless sorted otherwise.",
    schema: SearchInput,
    readOnly: true,
  },
  {
    name: 'artfactory_get_product',
    title: 'Get Product',
    referenceName: 'artFactoryProduct',
    icon: '$(file-media)',
    userDescription: 'Show one product with its parameters, cost and lineage',
    description: 'Get one product of the Art Factory project by id: its file, full parameters (to make it again or vary it), seed, cost, rating, tags, notes, what it was made from and what was made from it.',
    schema: GetInput,
    readOnly: true,
  },
  {
    name: 'artfactory_list_models',
    title: 'List Models',
    referenceName: 'artFactoryModels',
    icon: '$(list-unordered)',
    userDescription: 'List the models Art Factory can run',
    description:
      "List the models Art Factory can run, with their provider, capabilities, prompt and image fields and whether the provider's key is set. Give model to get a summary of that model's input fields (types, allowed values, defaults) before generating with it.",
    schema: ListModelsInput,
    readOnly: true,
  },
  {
    name: 'artfactory_update_products',
    title: 'Rate, Tag or Favourite Products',
    referenceName: 'artFactoryCurate',
    icon: '$(star-empty)',
    userDescription: "Rate, tag or favourite products in the project's library",
    description: 'Curate products of the Art Factory project: set a 1–5 rating (0 clears it), mark or unmark favourites, add or remove tags. Changes the gallery and the products\' sidecar files.',
    schema: UpdateInput,
    readOnly: false,
  },
] as const satisfies readonly ToolDefinition[];

export type ToolName = (typeof TOOLS)[number]['name'];

export function toolDefinition(name: string): ToolDefinition | undefined {
  return TOOLS.find((t) => t.name === name);
}

/** A tool's input schema as JSON Schema (for package.json and the MCP tool list). */
export function inputJsonSchema(def: ToolDefinition): Record<string, unknown> {
  const { $schema: _drop, ...schema } = z.toJSONSchema(def.schema, { io: 'input' }) as Record<string, unknown>;
  return schema;
}

/** package.json's `contributes.languageModelTools`, made from the definitions above
 * (`node --import tsx scripts/agent-tools.ts` writes it; a test holds package.json to it). */
export function languageModelToolsContribution(): Record<string, unknown>[] {
  return TOOLS.map((t) => ({
    name: t.name,
    displayName: t.title,
    toolReferenceName: t.referenceName,
    canBeReferencedInPrompt: true,
    icon: t.icon,
    userDescription: t.userDescription,
    modelDescription: t.description,
    tags: ['art-factory', 'images', ...(t.readOnly ? [] : ['edit'])],
    inputSchema: inputJsonSchema(t),
  }));
}
