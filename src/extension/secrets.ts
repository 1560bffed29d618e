import type * as vscode from 'vscode';
import type { OutputLog } from './log.ts';

const ENV_KEY: Record<string, string> = { fal: 'FAL_KEY', replicate: 'REPLICATE_API_TOKEN', civitai: 'CIVITAI_API_TOKEN' };

/** API keys: VS Code SecretStorage first, the environment variable as a fallback. Keys are
 * handed to adapters at call time and remembered by the log's redactor, nothing else. */
export class KeyStore {
  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly log: OutputLog,
  ) {}

  private slot(provider: string): string {
    return `artFactory.apiKey.${provider}`;
  }

  async get(provider: string): Promise<string | undefined> {
    const stored = await this.storage.get(this.slot(provider));
    const key = stored || (ENV_KEY[provider] ? process.env[ENV_KEY[provider]] : undefined) || undefined;
    this.log.rememberSecret(key);
    return key;
  }

  async source(provider: string): Promise<'secret-storage' | 'environment' | undefined> {
    if (await this.storage.get(this.slot(provider))) return 'secret-storage';
    return ENV_KEY[provider] && process.env[ENV_KEY[provider]] ? 'environment' : undefined;
  }

  async set(provider: string, key: string): Promise<void> {
    this.log.rememberSecret(key);
    await this.storage.store(this.slot(provider), key);
  }

  async clear(provider: string): Promise<void> {
    await this.storage.delete(this.slot(provider));
  }
}
