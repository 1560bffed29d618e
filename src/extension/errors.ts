import { isProviderError, type ProviderError } from '../providers/errors.ts';

/** A user-facing sentence and buttons for a provider error (any other error: its message). */
export function describeProviderError(e: unknown): { message: string; actions: string[] } {
  if (!isProviderError(e)) return { message: e instanceof Error ? e.message : String(e), actions: ['Show Log'] };
  const pe: ProviderError = e;
  const actions = pe.action === 'set-key' ? ['Set API Key'] : pe.action === 'retry' ? ['Retry'] : ['Show Log'];
  return { message: pe.message, actions };
}
