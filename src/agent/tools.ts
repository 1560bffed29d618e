// Running an agent tool, whoever asks (VS Code's language model tools, the MCP server): the
// input is checked against the tool's schema, the tool runs, and the answer is concise JSON
// with project-relative paths. Every failure comes back as a tool error: a clear sentence,
// with no stack trace and no key in it.
import type { z } from 'zod';
import { isProviderError, redact } from '../providers/errors.ts';
import { StorageError } from '../storage/errors.ts';
import { GenerateInput, GetInput, ListModelsInput, SearchInput, toolDefinition, UpdateInput } from './definitions.ts';
import { prepareGenerate, runGenerate, type CallOptions, type GeneratePreview } from './generate.ts';
import { ToolError, type AgentHost } from './host.ts';
import { getProduct, searchProducts, updateProducts, type ProductSummary } from './library.ts';
import { listModels } from './models.ts';

/** The project and products a result names (the MCP server links them as resources). */
export interface NamedProducts {
  dir: string;
  items: Pick<ProductSummary, 'id' | 'file' | 'mediaType'>[];
}

export type ToolOutcome = { ok: true; /** The answer as JSON text. */ text: string; products: NamedProducts } | { ok: false; text: string };

/** A schema problem as the parameter file's checks say it: `"count": Too big: …`. */
function issueMessage(issue: z.core.$ZodIssue): string {
  const at = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
  if (issue.code === 'unrecognized_keys') return `Unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${[...at, k].join('.')}"`).join(', ')}`;
  return `${at.length ? `"${at.join('.')}"` : 'The input'}: ${issue.message.replace(/[.\s]+$/, '')}`;
}

/** Check a call's arguments against the tool's schema; throws ToolError listing each problem. */
export function checkArgs<T extends z.ZodObject>(schema: T, tool: string, args: unknown): z.infer<T> {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  throw new ToolError(`Invalid arguments for ${tool}: ${parsed.error.issues.slice(0, 10).map(issueMessage).join('; ')}.`);
}

/** What a failure says: our own errors as they are, anything unexpected by its message only. */
function failureText(e: unknown): string {
  if (e instanceof ToolError || e instanceof StorageError || isProviderError(e)) return e.message;
  if (e instanceof Error) return `Art Factory could not do this: ${e.message.split('\n')[0]}`;
  return `Art Factory could not do this: ${String(e).split('\n')[0]}`;
}

export class AgentTools {
  constructor(private readonly host: AgentHost) {}

  /** Run a tool. Never throws: a failure is `{ ok: false }` with the reason. */
  async call(name: string, args: unknown, opts: CallOptions = {}): Promise<ToolOutcome> {
    let secrets: string[] = [];
    try {
      secrets = await this.host.secrets();
      if (!toolDefinition(name)) throw new ToolError(`There is no Art Factory tool "${name.slice(0, 100)}".`);
      const result = await this.run(name, args, opts);
      const json = JSON.stringify(result, null, 1);
      return { ok: true, text: redact(json, secrets), products: productsOf(result) };
    } catch (e) {
      if (!(e instanceof ToolError)) this.host.log.warn(`tool ${name.slice(0, 100)}: ${redact(e instanceof Error ? (e.stack ?? e.message) : String(e), secrets)}`);
      return { ok: false, text: redact(failureText(e), secrets) };
    }
  }

  private async run(name: string, args: unknown, opts: CallOptions): Promise<unknown> {
    switch (name) {
      case 'artfactory_generate':
        return runGenerate(this.host, checkArgs(GenerateInput, name, args), opts);
      case 'artfactory_search_products':
        return searchProducts(this.host, checkArgs(SearchInput, name, args));
      case 'artfactory_get_product':
        return getProduct(this.host, checkArgs(GetInput, name, args));
      case 'artfactory_list_models':
        return listModels(this.host, checkArgs(ListModelsInput, name, args));
      case 'artfactory_update_products':
        return updateProducts(this.host, checkArgs(UpdateInput, name, args));
      default:
        throw new ToolError(`There is no Art Factory tool "${name.slice(0, 100)}".`);
    }
  }

  /** What a generation will do (jobs, models, images from outside the project), before
   * anything is spent; a ToolError's message when the call cannot run. */
  async previewGenerate(args: unknown): Promise<{ ok: true; preview: GeneratePreview } | { ok: false; text: string }> {
    const secrets = await this.host.secrets().catch(() => []);
    try {
      const { preview } = await prepareGenerate(this.host, checkArgs(GenerateInput, 'artfactory_generate', args));
      return { ok: true, preview };
    } catch (e) {
      return { ok: false, text: redact(failureText(e), secrets) };
    }
  }
}

function productsOf(result: unknown): NamedProducts {
  const r = result as { projectDir?: string; products?: ProductSummary[]; updated?: ProductSummary[]; id?: string; file?: string; mediaType?: string };
  const items = r.products ?? r.updated ?? (r.id && r.file && r.mediaType ? [{ id: r.id, file: r.file, mediaType: r.mediaType }] : []);
  return { dir: r.projectDir ?? '', items: items.map((p) => ({ id: p.id, file: p.file, mediaType: p.mediaType })) };
}
