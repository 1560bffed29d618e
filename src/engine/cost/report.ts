// What was spent, summed from a ledger: per day, per provider and model, in total; with the
// budgets and what they have left. The Spending view, the status bar and `art-factory cost` all
// show this one report.
import type { Cost } from '../../providers/types.ts';
import { budgetStatus, type BudgetScope } from './budgets.ts';
import type { SpendingReport, SpendRow } from './model.ts';

export type { SpendingReport, SpendRow };
import { runAmount, type Ledger } from './ledger.ts';



export function localDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function add(map: Map<string, Cost>, c: Cost): void {
  const t = map.get(c.currency) ?? { amount: 0, currency: c.currency, estimated: false };
  t.amount = Math.round((t.amount + c.amount) * 1e6) / 1e6;
  t.estimated ||= c.estimated;
  map.set(c.currency, t);
}

export async function spendingReport(ledger: Ledger, o: { since?: Date; scopes?: BudgetScope[]; now?: Date } = {}): Promise<SpendingReport> {
  await ledger.refresh();
  for (const s of o.scopes ?? []) if (s.ledger !== ledger) await s.ledger.refresh();
  const from = o.since?.getTime() ?? -Infinity;
  const totals = new Map<string, Cost>();
  const days = new Map<string, Map<string, Cost>>();
  const rows = new Map<string, SpendRow>();
  let open = 0;
  for (const r of ledger.runs()) {
    if (Date.parse(r.at) < from) continue;
    if (!r.end) open++;
    const c = runAmount(r);
    if (!c) continue;
    const counted = { ...c, estimated: c.estimated || !r.end || r.end.cost === null };
    add(totals, counted);
    const day = localDay(new Date(r.at));
    const d = days.get(day) ?? new Map<string, Cost>();
    add(d, counted);
    days.set(day, d);
    const k = `${r.provider}\0${r.model}\0${c.currency}`;
    const row = rows.get(k) ?? { provider: r.provider, model: r.model, currency: c.currency, jobs: 0, amount: 0, estimated: false };
    row.jobs++;
    row.amount = Math.round((row.amount + c.amount) * 1e6) / 1e6;
    row.estimated ||= counted.estimated;
    rows.set(k, row);
  }
  // Every day of the range, a day without spending too (a chart's gaps are days): from `since`
  // (or the first day spent) to today, at most a year and a bit of bars.
  const first = o.since ?? (days.size ? new Date(`${[...days.keys()].sort()[0]}T00:00:00`) : undefined);
  const allDays: string[] = [];
  if (first) {
    const d = new Date(first.getFullYear(), first.getMonth(), first.getDate());
    const end = localDay(o.now ?? new Date());
    while (allDays.length < 400 && localDay(d) <= end) {
      allDays.push(localDay(d));
      d.setDate(d.getDate() + 1);
    }
  }
  for (const day of days.keys()) if (!allDays.includes(day)) allDays.push(day);
  return {
    since: o.since?.toISOString(),
    totals: [...totals.values()],
    days: allDays.sort().map((day) => ({ day, totals: [...(days.get(day)?.values() ?? [])] })),
    rows: [...rows.values()].sort((a, b) => a.currency.localeCompare(b.currency) || b.amount - a.amount),
    open,
    budgets: budgetStatus(o.scopes ?? [], o.now),
  };
}
