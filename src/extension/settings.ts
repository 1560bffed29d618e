import * as vscode from 'vscode';
import type { RateLimits } from '../providers/types.ts';

/** Typed access to the `artFactory.*` settings declared in package.json. */
export const PROVIDERS_WITH_KEYS = ['fal', 'replicate', 'civitai'] as const;
export type KeyedProvider = (typeof PROVIDERS_WITH_KEYS)[number];

const ENV_BASE: Record<string, string> = {
  fal: 'ARTFACTORY_FAL_BASE_URL',
  replicate: 'ARTFACTORY_REPLICATE_BASE_URL',
  civitai: 'ARTFACTORY_CIVITAI_BASE_URL',
};

function cfg(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('artFactory');
}

/** The endpoint override for a provider: the env variable wins over the setting. */
export function providerBaseUrl(provider: string): string | undefined {
  const env = ENV_BASE[provider] ? process.env[ENV_BASE[provider]] : undefined;
  const setting = cfg().get<string>(`providers.${provider}.baseUrl`);
  return (env || setting || '').trim() || undefined;
}

export function providerLimits(provider: string): Partial<RateLimits> {
  const c = cfg();
  const limits: Partial<RateLimits> = {};
  const concurrency = c.get<number>(`providers.${provider}.concurrency`);
  const creates = c.get<number>(`providers.${provider}.createsPerMinute`);
  const calls = c.get<number>(`providers.${provider}.callsPerMinute`);
  if (concurrency) limits.concurrency = concurrency;
  if (creates) limits.createsPerMinute = creates;
  if (calls) limits.callsPerMinute = calls;
  return limits;
}

export const settings = {
  sampleEnabled: (): boolean => cfg().get<boolean>('providers.sample.enabled', true),
  civitaiAllowMatureContent: (): boolean => cfg().get<boolean>('providers.civitai.allowMatureContent', false),
  jobTimeoutMs: (): number => cfg().get<number>('jobs.timeoutMinutes', 30) * 60_000,
  pollIntervalMs: (): number => cfg().get<number>('jobs.pollIntervalMs', 1000),
  confirmAbove: (): number => cfg().get<number>('generate.confirmAbove', 8),
  downloadLimitBytes: (): number => cfg().get<number>('downloads.maxMegabytes', 200) * 1024 * 1024,
  inputLimitBytes: (): number => cfg().get<number>('inputs.maxMegabytes', 50) * 1024 * 1024,
  importMaxMegapixels: (): number => cfg().get<number>('import.maxMegapixels', 100),
  backupCount: (): number => cfg().get<number>('backups.count', 5),
  globalTemplatesFolder: (): string => cfg().get<string>('templates.globalFolder', '').trim(),
  /** Spending limits across every project (issue 11), as written; checked in engine/cost. */
  budgets: (): unknown => cfg().get<unknown>('budgets', []),
  /** Ask before a Generate estimated above this many US dollars; 0: never for cost. */
  confirmAboveCost: (): number => cfg().get<number>('generate.confirmAboveCost', 1),
  replicatePrices: (): { models?: Record<string, unknown>; hardware?: Record<string, unknown> } => cfg().get('costs.replicatePrices', {}),
  /** Loopback http is allowed only when an override points there. */
  allowLoopbackHttp: (): boolean => PROVIDERS_WITH_KEYS.some((p) => providerBaseUrl(p) !== undefined),
};
