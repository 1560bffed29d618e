// What the agent tools need from where they run: the extension (projects open in the
// workspace, SecretStorage keys, the progress notification) or the MCP server (its one
// --project, keys from the environment). The tools themselves know neither.
import * as path from 'node:path';
import type { Batch, Plan, Submitter } from '../engine/submission.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Logger } from '../providers/types.ts';
import type { ProductRecord, ProjectDb } from '../storage/types.ts';

export interface AgentProject {
  /** Absolute folder. */
  dir: string;
  name: string;
  db(): Promise<ProjectDb>;
}

export interface AgentHost {
  /** The projects tools may act on: those open in the workspace, or the server's --project. */
  projects(): Promise<AgentProject[]>;
  /** The project meant when a call names none and several are open (the active editor's). */
  activeProject?(): string | undefined;
  registry: ProviderRegistry;
  /** The one submission path (plan → confirm → submit → follow), built with this host's deps. */
  submitter: Submitter;
  log: Logger;
  /** Why nothing may be changed or generated now (Restricted Mode), else undefined. */
  refusal(): string | undefined;
  /** Whether the provider's key is set; undefined for a provider that manages its own. */
  hasKey(provider: string): Promise<boolean | undefined>;
  /** How the user sets the provider's key here ("set FAL_KEY", "run Art Factory: Set API Key"). */
  keyHint(provider: string): string;
  /** Every secret that must never appear in a result (the providers' keys). */
  secrets(): Promise<string[]>;
  /** A plan that asks first (more jobs than the host allows without asking): true starts it.
   * The tool cannot ask the user; the host decides (VS Code's chat confirmation already showed
   * the count; the MCP server refuses above --max-jobs). */
  approve(plan: Plan): Promise<boolean> | boolean;
  /** Why a plan was not approved, for the tool's error. */
  declined(plan: Plan): string;
  /** The batch is being stored: show it (the extension's progress notification). */
  starting?(batch: Batch, plan: Plan): void;
  /** A product's metadata changed through a tool (the gallery shows it). */
  changed?(dir: string, product: ProductRecord): void;
}

/** A failure the agent is told as it is: a clear sentence, never a stack trace. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}

/** `rel` as a project-relative path with forward slashes, or undefined when it leaves `dir`. */
export function insideProject(dir: string, abs: string): string | undefined {
  const rel = path.relative(dir, abs);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/** The project a call means: the one named (by name or folder), else the only one, else the
 * active one. Only the host's projects can be named. */
export async function resolveProject(host: AgentHost, named: string | undefined): Promise<AgentProject> {
  const all = await host.projects();
  const list = (): string => all.map((p) => `"${p.name}" (${p.dir})`).join(', ');
  if (all.length === 0) throw new ToolError('No Art Factory project is open. Open a folder with an artfactory.json, or run "Art Factory: New Project…".');
  if (named !== undefined) {
    const byDir = all.find((p) => path.resolve(p.dir) === path.resolve(named));
    const byName = all.filter((p) => p.name === named || path.basename(p.dir) === named);
    const found = byDir ?? (byName.length === 1 ? byName[0] : undefined);
    if (found) return found;
    throw new ToolError(`${byName.length > 1 ? `More than one project is called "${named}"` : `"${named}" is not a project open here`}. Name one of: ${list()}.`);
  }
  if (all.length === 1) return all[0];
  const active = host.activeProject?.();
  const found = active ? all.find((p) => p.dir === active) : undefined;
  if (found) return found;
  throw new ToolError(`Several projects are open; say which with "project": ${list()}.`);
}
