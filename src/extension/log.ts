import * as vscode from 'vscode';
import { redact } from '../providers/errors.ts';
import type { Logger } from '../providers/types.ts';

/** The "Art Factory" output channel. Every line passes through redact() with the keys this
 * session has seen, so a key can never reach the log even if a provider echoes it back. */
export class OutputLog implements Logger, vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Art Factory', { log: true });
  private readonly secrets = new Set<string>();

  rememberSecret(value: string | undefined): void {
    if (value) this.secrets.add(value);
  }

  scrub(text: string): string {
    return redact(text, [...this.secrets]);
  }

  info(message: string): void {
    this.channel.info(this.scrub(message));
  }
  warn(message: string): void {
    this.channel.warn(this.scrub(message));
  }
  error(message: string): void {
    this.channel.error(this.scrub(message));
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}
