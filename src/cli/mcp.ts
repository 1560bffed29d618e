// `art-factory mcp --project DIR`: the agent tools (src/agent) served over stdio with the
// official MCP SDK, for any MCP client (VS Code, Claude Code, Cursor). It acts on its one
// project only; keys come from the environment, as for the rest of the command line. Products
// are also resources, `artfactory://product/<id>`, read as their thumbnail.
//
// The SDK's protocol `Server` with our own request handlers, rather than `McpServer`'s
// registerTool/registerResource: the tools' schemas are ours (src/agent/definitions.ts, the same
// ones VS Code's contribution is made from) and their input errors must read like a parameter
// file's, not like the SDK's zod validation output; and McpServer brings zod 3 and
// zod-to-json-schema into the command line's bundle (about 100 KB) for nothing we use.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
  type ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import * as path from 'node:path';
import { inputJsonSchema, TOOLS } from '../agent/definitions.ts';
import { ToolError, type AgentHost } from '../agent/host.ts';
import { productRecord, productSummary, productThumbnail } from '../agent/library.ts';
import { AgentTools } from '../agent/tools.ts';
import { redact } from '../providers/errors.ts';
import { ENV_KEY_NAMES } from '../providers/index.ts';
import type { Logger } from '../providers/types.ts';
import { readManifest } from '../storage/index.ts';
import { version } from '../../package.json';
import { envHasKey, envSecrets, openCliSession, type CliSession } from './session.ts';

export const PRODUCT_URI = 'artfactory://product/';
/** Jobs one call may start without asking (a tool cannot ask): `--max-jobs`. */
export const DEFAULT_MAX_JOBS = 16;

export interface McpOptions {
  maxJobs?: number;
  verbose?: boolean;
}

/** The agent host of one project on the command line. */
export function cliAgentHost(dir: string, name: string, session: CliSession, log: Logger, maxJobs: number): AgentHost {
  return {
    projects: async () => [{ dir, name, db: session.db }],
    registry: session.registry,
    submitter: session.submitter,
    log,
    refusal: () => undefined,
    hasKey: envHasKey,
    keyHint: (provider) => `set ${ENV_KEY_NAMES[provider] ?? 'its key'} in the MCP server's environment`,
    secrets: async () => envSecrets(),
    approve: () => false,
    declined: (plan) => `This makes ${plan.jobCount} jobs; this server starts at most ${maxJobs} per call (art-factory mcp --max-jobs). Nothing was sent: ask for fewer.`,
  };
}

/** The MCP server of one project (not yet connected). */
export async function createMcpServer(dir: string, opts: McpOptions & { log: Logger }): Promise<{ server: Server; close(): Promise<void> }> {
  const maxJobs = opts.maxJobs ?? DEFAULT_MAX_JOBS;
  const session = openCliSession(dir, { log: opts.log, confirmAbove: () => maxJobs });
  const name = (await readManifest(dir).catch(() => undefined))?.name || path.basename(dir);
  const host = cliAgentHost(dir, name, session, opts.log, maxJobs);
  const tools = new AgentTools(host);
  const server = new Server(
    { name: 'art-factory', title: 'Art Factory', version },
    {
      capabilities: { tools: {}, resources: {} },
      instructions: `Art Factory: generate images into the project "${name}" (${dir}) and find, inspect and curate them. Paths in results are relative to that folder. Products are also resources: ${PRODUCT_URI}<id> reads as the product's thumbnail.`,
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: TOOLS.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: inputJsonSchema(t) as { type: 'object'; properties?: Record<string, object> },
      annotations: { title: t.title, readOnlyHint: t.readOnly, destructiveHint: false, idempotentHint: t.readOnly || t.name === 'artfactory_update_products', openWorldHint: t.name === 'artfactory_generate' },
    })),
  }));

  // Calls still running when the client goes away are stopped (a generation cancels its jobs,
  // as `art-factory generate` does on Ctrl+C) before the database closes under them.
  const running = new Map<AbortController, Promise<unknown>>();
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const token = request.params._meta?.progressToken;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    extra.signal.addEventListener('abort', onAbort, { once: true });
    const call = tools.call(request.params.name, request.params.arguments ?? {}, {
      signal: stop.signal,
      progress:
        token === undefined
          ? undefined
          : (ended, total, message) => void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ended, total, message } }).catch(() => undefined),
    });
    running.set(stop, call);
    const outcome = await call.finally(() => {
      running.delete(stop);
      extra.signal.removeEventListener('abort', onAbort);
    });
    if (!outcome.ok) return { isError: true, content: [{ type: 'text', text: outcome.text }] };
    return {
      content: [
        { type: 'text', text: outcome.text },
        ...outcome.products.items.slice(0, 20).map((p) => ({ type: 'resource_link' as const, uri: `${PRODUCT_URI}${p.id}`, name: path.posix.basename(p.file), mimeType: p.mediaType, description: `Product ${p.id} (${p.file})` })),
      ],
    };
  });

  // Products as resources: the newest listed, any read by its id (search finds the others).
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [{ uriTemplate: `${PRODUCT_URI}{id}`, name: 'product', title: 'Art Factory product', description: "A product of the project, read as its thumbnail (768 px on the long side, WebP) with its summary.", mimeType: 'image/webp' }],
  }));
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const page = await (await session.db()).queryProducts({ limit: 50 });
    return {
      resources: page.items.flatMap((p) => {
        const s = productSummary(p);
        return s ? [{ uri: `${PRODUCT_URI}${s.id}`, name: path.posix.basename(s.file), title: s.prompt?.slice(0, 80), mimeType: 'image/webp', description: `${s.model} · ${s.createdAt}` }] : [];
      }),
    };
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (request): Promise<ReadResourceResult> => {
    const uri = request.params.uri;
    if (!uri.startsWith(PRODUCT_URI)) throw new McpError(ErrorCode.InvalidParams, `There is no resource ${uri.slice(0, 200)}; products are ${PRODUCT_URI}<id>.`);
    const id = uri.slice(PRODUCT_URI.length);
    try {
      const { record } = await productRecord(host, undefined, decodeURIComponent(id));
      const thumb = await productThumbnail(dir, await session.db(), record);
      return {
        contents: [
          { uri, mimeType: thumb.mediaType, blob: Buffer.from(thumb.bytes).toString('base64') },
          { uri, mimeType: 'application/json', text: JSON.stringify(productSummary(record)) },
        ],
      };
    } catch (e) {
      const message = e instanceof ToolError ? e.message : `Product ${id.slice(0, 100)} cannot be read: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
      throw new McpError(e instanceof ToolError ? ErrorCode.InvalidParams : ErrorCode.InternalError, redact(message, envSecrets()));
    }
  });

  return {
    server,
    close: async () => {
      for (const stop of running.keys()) stop.abort();
      await Promise.allSettled(running.values());
      await server.close().catch(() => undefined);
      await session.close();
    },
  };
}

/** Serve over stdin/stdout until the client closes the stream. */
export async function serveMcp(dir: string, opts: McpOptions): Promise<number> {
  // stdout carries the protocol: every log line goes to stderr.
  const err = (line: string) => process.stderr.write(`${redact(line, envSecrets())}\n`);
  const log: Logger = { info: (m) => opts.verbose && err(m), warn: (m) => err(`warning: ${m}`), error: (m) => err(`error: ${m}`) };
  const { server, close } = await createMcpServer(dir, { ...opts, log });
  const transport = new StdioServerTransport();
  // The client closing stdin, or stopping the process (SIGTERM, Ctrl+C), ends it the same way.
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await server.connect(transport);
  log.info(`art-factory mcp: serving ${dir}`);
  await closed;
  await close();
  return 0;
}
