// Messages of the Spending panel (issue 11): the host sends what to show, the webview asks for
// another scope or range, Raise Budget…, or the ledger file. Pure types (the webview bundles
// this); the host checks what the webview sends against `SpendingWebviewMessage`.
import type { SpendingReport } from '../engine/cost/model.ts';

export const RANGES = ['today', '7d', '30d', 'all'] as const;
export type Range = (typeof RANGES)[number];

export interface SpendingView {
  /** "" for all projects, else a project folder. */
  scope: string;
  scopes: { value: string; label: string }[];
  range: Range;
  title: string;
  report: SpendingReport;
}

export type SpendingHostMessage = { type: 'view'; view: SpendingView } | { type: 'error'; message: string };

export type SpendingWebviewMessage =
  | { type: 'ready'; scope?: string; range?: Range }
  | { type: 'show'; scope: string; range: Range }
  | { type: 'raiseBudget'; scope: string; currency?: string }
  | { type: 'openLedger'; scope: string };

/** A message from the webview, or undefined when it is not one of ours (a hostile page may
 * post anything). */
export function parseSpendingMessage(m: unknown): SpendingWebviewMessage | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const o = m as Record<string, unknown>;
  const str = (v: unknown) => typeof v === 'string' && v.length <= 4096;
  const range = (v: unknown): v is Range => typeof v === 'string' && (RANGES as readonly string[]).includes(v);
  switch (o.type) {
    case 'ready':
      return { type: 'ready', scope: str(o.scope) ? (o.scope as string) : undefined, range: range(o.range) ? o.range : undefined };
    case 'show':
      return str(o.scope) && range(o.range) ? { type: 'show', scope: o.scope as string, range: o.range } : undefined;
    case 'raiseBudget':
      return str(o.scope) ? { type: 'raiseBudget', scope: o.scope as string, currency: typeof o.currency === 'string' && o.currency.length <= 12 ? o.currency : undefined } : undefined;
    case 'openLedger':
      return str(o.scope) ? { type: 'openLedger', scope: o.scope as string } : undefined;
    default:
      return undefined;
  }
}

/** Where a range starts (local midnight), undefined for all. */
export function rangeStart(range: Range, now = new Date()): Date | undefined {
  if (range === 'all') return undefined;
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  if (range === '7d') d.setDate(d.getDate() - 6);
  if (range === '30d') d.setDate(d.getDate() - 29);
  return d;
}
