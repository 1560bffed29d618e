// Money as the user reads it. Pure (no Node modules): the Spending webview uses it too.
import type { Cost } from '../../providers/billing.ts';

/** What describeEstimate needs of an estimate. */
export interface EstimateSummary {
  totals: Cost[];
  unknown: number;
}

/** "$0.30", "≈ $0.30", "120 Buzz", "0.0045 USD". */
export function formatCost(c: { amount: number; currency: string; estimated?: boolean }, o: { approx?: boolean } = {}): string {
  const approx = (o.approx ?? c.estimated) ? '≈ ' : '';
  if (c.currency === 'USD') {
    const digits = c.amount === 0 ? 2 : c.amount < 0.01 ? 4 : c.amount < 1 ? 3 : 2;
    return `${approx}$${c.amount.toFixed(digits).replace(/(\.\d\d\d?)0+$/, '$1')}`;
  }
  if (c.currency === 'buzz') return `${approx}${Math.round(c.amount)} Buzz`;
  return `${approx}${c.amount} ${c.currency}`;
}

/** "≈ $0.30", "≈ $0.30 + 40 Buzz", "≈ $0.30, 2 jobs unknown", "cost unknown". */
export function describeEstimate(e: EstimateSummary): string {
  if (e.unknown === 0 && e.totals.every((t) => t.amount === 0)) return 'free';
  const parts = e.totals.map((t) => formatCost(t, { approx: true }).replace(/^≈ /, ''));
  const known = parts.length ? `≈ ${parts.join(' + ')}` : '';
  if (e.unknown === 0) return known || 'free';
  if (!known) return 'cost unknown';
  return `${known}, ${e.unknown} job${e.unknown === 1 ? '' : 's'} unknown`;
}
