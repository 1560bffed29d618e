// The shapes of budgets and spending reports. Pure types: the Spending webview reads them too.
import type { Cost } from '../../providers/billing.ts';

export type BudgetPeriod = 'day' | 'month' | 'total';

export interface Budget {
  currency: string;
  per: BudgetPeriod;
  limit: number;
}

export interface BudgetStatus {
  scope: 'project' | 'user';
  budget: Budget;
  spent: number;
  left: number;
}

export interface SpendRow {
  provider: string;
  model: string;
  currency: string;
  jobs: number;
  amount: number;
  /** Some of it is an estimate (Replicate's table, a cost not reported, a job in flight). */
  estimated: boolean;
}

export interface SpendingReport {
  since?: string;
  /** Per currency. */
  totals: Cost[];
  /** Local days (YYYY-MM-DD), oldest first, each with its sums per currency. */
  days: { day: string; totals: Cost[] }[];
  rows: SpendRow[];
  /** Jobs sent and not ended (in flight, or left by a crash): counted at their estimate. */
  open: number;
  budgets: BudgetStatus[];
}
