// The agent tools in VS Code: each tool of src/agent registered with `vscode.lm.registerTool`
// (contributed as `languageModelTools` in package.json), acting on the projects open in the
// workspace, with what a generation will do shown before anything is spent. And, where VS Code
// has `lm.registerMcpServerDefinitionProvider` (1.101+), the `art-factory mcp` server of each
// open project in VS Code's MCP list, without configuration.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TOOLS } from '../agent/definitions.ts';
import type { AgentHost } from '../agent/host.ts';
import { AgentTools } from '../agent/tools.ts';
import { ENV_BASE_URL_NAMES, ENV_KEY_NAMES } from '../providers/index.ts';
import { providerDisplayName } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { OutputLog } from './log.ts';
import type { ProjectManager } from './projects.ts';
import type { KeyStore } from './secrets.ts';
import type { Submissions } from './submit.ts';
import { providerBaseUrl, PROVIDERS_WITH_KEYS } from './settings.ts';
import { isTrusted } from './trust.ts';

export interface AgentToolsDeps {
  context: vscode.ExtensionContext;
  projects: ProjectManager;
  registry: ProviderRegistry;
  keys: KeyStore;
  submissions: Submissions;
  log: OutputLog;
}

const KEYED: readonly string[] = PROVIDERS_WITH_KEYS;

/** The tools' host in VS Code: the workspace's projects, SecretStorage keys, the submission
 * path's notification, and the project events the gallery follows. */
function vscodeAgentHost(d: AgentToolsDeps): AgentHost {
  return {
    projects: async () => {
      await d.projects.ready();
      return d.projects.all().map((s) => ({ dir: s.dir, name: s.name, db: () => s.db() }));
    },
    activeProject: () => d.projects.active()?.dir,
    registry: d.registry,
    submitter: d.submissions.submitter,
    log: d.log,
    refusal: () => (isTrusted() ? undefined : 'This workspace is in Restricted Mode: Art Factory only shows its projects here. Trust the folder (Workspaces: Manage Workspace Trust) to generate or change products.'),
    hasKey: async (provider) => (KEYED.includes(provider) ? (await d.keys.get(provider)) !== undefined : undefined),
    keyHint: (provider) => `run "Art Factory: Set API Key" and pick ${providerDisplayName(provider)}`,
    secrets: async () => (await Promise.all(KEYED.map((p) => d.keys.get(p)))).filter((k): k is string => !!k),
    // VS Code's chat showed the job count and asked before the tool ran (prepareInvocation).
    approve: () => true,
    declined: (plan) => `The ${plan.jobCount} jobs were not started.`,
    // The notification ▶ Generate shows, from the moment the jobs are being stored.
    starting: (batch, plan) => d.submissions.follow(batch, plan),
    changed: (dir, product) => {
      const session = d.projects.get(dir);
      if (session) d.projects.announceProductChange(session, product);
    },
  };
}

/** Register every agent tool, and the MCP server definitions where VS Code has the API. */
export function registerAgentTools(d: AgentToolsDeps): vscode.Disposable[] {
  const tools = new AgentTools(vscodeAgentHost(d));
  const disposables: vscode.Disposable[] = [];
  for (const def of TOOLS) {
    disposables.push(
      vscode.lm.registerTool<Record<string, unknown>>(def.name, {
        prepareInvocation: async (options) => {
          if (def.name !== 'artfactory_generate') return { invocationMessage: `Art Factory: ${def.title.toLowerCase()}` };
          const preview = await tools.previewGenerate(options.input);
          // A call that cannot run says why when it is invoked; nothing is spent either way.
          if (!preview.ok) return { invocationMessage: 'Art Factory: checking the request' };
          const p = preview.preview;
          const jobs = `${p.jobs} job${p.jobs === 1 ? '' : 's'}`;
          // One paragraph: VS Code shows it rendered in the chat, and as plain text in the modal
          // it asks with when a tool is invoked outside a chat. Names and paths are escaped.
          const message = new vscode.MarkdownString()
            .appendMarkdown(`**${jobs}** with `)
            .appendText(`${p.models.join(', ')} on ${p.providers.join(', ')}, into the project `)
            .appendMarkdown('**')
            .appendText(p.project.name)
            .appendMarkdown('**')
            .appendText(`${p.file ? ` (from ${p.file})` : ''}.`);
          // Budgets (issue 11) put the estimated cost here.
          if (p.estimate) message.appendText(` Estimated cost: ${p.estimate}.`);
          if (p.outsideImages.length) message.appendText(` Images from outside the project are sent to ${p.providers.join(', ')}: ${p.outsideImages.join(', ')}.`);
          return { invocationMessage: `Art Factory: generating ${jobs} in ${p.project.name}`, confirmationMessages: { title: `Generate ${jobs} with Art Factory?`, message } };
        },
        invoke: async (options, token) => {
          const stop = new AbortController();
          const sub = token.onCancellationRequested(() => stop.abort());
          try {
            const outcome = await tools.call(def.name, options.input, { signal: stop.signal });
            // A thrown error is what VS Code hands the model as the tool's failure.
            if (!outcome.ok) throw new Error(outcome.text);
            return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(outcome.text)]);
          } finally {
            sub.dispose();
          }
        },
      }),
    );
  }
  disposables.push(...registerMcpServers(d));
  return disposables;
}

// VS Code 1.101's MCP API, declared here: the extension builds against 1.100's types.
interface McpStdioServerDefinition {
  readonly label: string;
  command: string;
  args: string[];
  env: Record<string, string | number | null>;
  cwd?: vscode.Uri;
  version?: string;
}
type McpStdioServerDefinitionClass = new (label: string, command: string, args?: string[], env?: Record<string, string | number | null>, version?: string) => McpStdioServerDefinition;
interface McpServerDefinitionProvider {
  onDidChangeMcpServerDefinitions?: vscode.Event<void>;
  provideMcpServerDefinitions(token: vscode.CancellationToken): vscode.ProviderResult<McpStdioServerDefinition[]>;
  resolveMcpServerDefinition?(server: McpStdioServerDefinition, token: vscode.CancellationToken): vscode.ProviderResult<McpStdioServerDefinition>;
}
type RegisterMcp = (id: string, provider: McpServerDefinitionProvider) => vscode.Disposable;

export const MCP_PROVIDER_ID = 'artFactory.mcpServers';

/** Each trusted open project's `art-factory mcp` server, listed in VS Code's MCP servers. Before
 * VS Code 1.101 the API is absent, or (1.100) present in its proposed form, which wants another
 * contribution point and throws: either way say so in the log and go on without it. */
export function registerMcpServers(d: AgentToolsDeps, api: { register?: RegisterMcp; Definition?: McpStdioServerDefinitionClass } = mcpApi()): vscode.Disposable[] {
  const { register, Definition } = api;
  const unavailable = (why: string): vscode.Disposable[] => {
    d.log.info(`MCP: this VS Code (${vscode.version}) ${why}; the agent tools are registered, and the README shows how to add the server by hand`);
    return [];
  };
  if (!register || !Definition || !atLeast(vscode.version, 1, 101)) return unavailable('cannot list extension MCP servers (1.101 and later can)');
  const changed = new vscode.EventEmitter<void>();
  const cli = path.join(d.context.extensionPath, 'dist', 'cli.js');
  const version = String((d.context.extension.packageJSON as { version?: unknown }).version ?? '');
  const provider: McpServerDefinitionProvider = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: async () => {
      // Nothing is run for a folder that is not trusted.
      if (!isTrusted()) return [];
      await d.projects.ready();
      return d.projects.all().map((s) => {
        // The extension host's own runtime runs the bundled CLI (Electron as Node in VS Code).
        const def = new Definition(`Art Factory: ${s.name}`, process.execPath, [cli, 'mcp', '--project', s.dir], { ELECTRON_RUN_AS_NODE: '1' }, version);
        def.cwd = vscode.Uri.file(s.dir);
        return def;
      });
    },
    // Keys (and provider endpoints) are added only when VS Code starts the server.
    resolveMcpServerDefinition: async (server) => {
      for (const p of KEYED) {
        const key = await d.keys.get(p);
        if (key) server.env[ENV_KEY_NAMES[p]] = key;
        const base = providerBaseUrl(p);
        if (base && ENV_BASE_URL_NAMES[p]) server.env[ENV_BASE_URL_NAMES[p]] = base;
      }
      return server;
    },
  };
  let registered: vscode.Disposable;
  try {
    registered = register(MCP_PROVIDER_ID, provider);
  } catch (e) {
    changed.dispose();
    return unavailable(`refused the MCP server definitions (${e instanceof Error ? e.message : String(e)})`);
  }
  return [
    changed,
    registered,
    d.projects.onDidChange(() => changed.fire()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
  ];
}

/** Whether a VS Code version ("1.101.2", "1.102.0-insider") is at least major.minor. */
export function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}

function mcpApi(): { register?: RegisterMcp; Definition?: McpStdioServerDefinitionClass } {
  const lm = vscode.lm as unknown as { registerMcpServerDefinitionProvider?: RegisterMcp };
  const ns = vscode as unknown as { McpStdioServerDefinition?: McpStdioServerDefinitionClass };
  return { register: lm.registerMcpServerDefinitionProvider?.bind(vscode.lm), Definition: ns.McpStdioServerDefinition };
}
