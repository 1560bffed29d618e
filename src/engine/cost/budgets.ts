// Budgets: spending limits the queue keeps, since no provider offers a cap on a personal key.
//
//   "budgets": [{ "currency": "USD", "per": "day" | "month" | "total", "limit": 5 }]
//
// in a project's artfactory.json (that project's spending, from its ledger) and in the user
// setting `artFactory.budgets` (every project's spending together, from the user ledger in the
// global storage). Before each job is sent the engine reserves its estimate under every budget of
// its currency (`SpendGuard.reserve`); a job that would take spent + reserved past a limit is not
// sent. The check and the reservation happen with no await between them, so jobs started
// together can never overspend together.
import { ProviderError } from '../../providers/errors.ts';
import { providerDisplayName } from '../../providers/errors.ts';
import type { Cost, JobState } from '../../providers/types.ts';
import { providerCurrency, formatCost } from './pricing.ts';
import type { Ledger } from './ledger.ts';
import type { Budget, BudgetPeriod, BudgetStatus } from './model.ts';

export type { Budget, BudgetPeriod, BudgetStatus };



export interface BudgetScope {
  /** "project" (artfactory.json) or "user" (the setting). */
  kind: 'project' | 'user';
  budgets: Budget[];
  ledger: Ledger;
}

/** Budgets as written, checked: the good ones, and a sentence for each bad one. */
export function parseBudgets(raw: unknown, where: string): { budgets: Budget[]; problems: string[] } {
  const budgets: Budget[] = [];
  const problems: string[] = [];
  if (raw === undefined || raw === null) return { budgets, problems };
  if (!Array.isArray(raw)) return { budgets, problems: [`${where}: "budgets" must be a list like [{"currency": "USD", "per": "day", "limit": 5}]`] };
  raw.slice(0, 50).forEach((b: unknown, i) => {
    const o = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
    const currency = typeof o.currency === 'string' && /^[A-Za-z]{3,12}$/.test(o.currency) ? normalizeCurrency(o.currency) : undefined;
    const per = o.per === 'day' || o.per === 'month' || o.per === 'total' ? o.per : undefined;
    const limit = typeof o.limit === 'number' && Number.isFinite(o.limit) && o.limit >= 0 ? o.limit : undefined;
    if (!currency || !per || limit === undefined) {
      problems.push(`${where}: budget ${i + 1} needs "currency" ("USD" or "buzz"), "per" ("day", "month" or "total") and a "limit" of 0 or more`);
      return;
    }
    budgets.push({ currency, per, limit });
  });
  return { budgets, problems };
}

/** "usd" → "USD"; "Buzz" → "buzz" (Civitai's currency is a word, not an ISO code). */
export function normalizeCurrency(c: string): string {
  return c.toLowerCase() === 'buzz' ? 'buzz' : c.toUpperCase();
}

/** Where a budget's period began (local time: the user's day and month). */
export function periodStart(per: BudgetPeriod, now = new Date()): Date | undefined {
  if (per === 'total') return undefined;
  if (per === 'day') return new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return new Date(now.getFullYear(), now.getMonth(), 1);
}

/** "the project's daily USD budget of $5.00". */
export function describeBudget(b: Budget, kind: BudgetScope['kind']): string {
  const whose = kind === 'project' ? "the project's" : 'your';
  const per = b.per === 'day' ? 'daily' : b.per === 'month' ? 'monthly' : 'total';
  return `${whose} ${per} ${b.currency === 'buzz' ? 'Buzz' : b.currency} budget of ${formatCost({ amount: b.limit, currency: b.currency })}`;
}


/** How much of each budget is spent (or held by jobs in flight) and left. */
export function budgetStatus(scopes: BudgetScope[], now = new Date()): BudgetStatus[] {
  return scopes.flatMap((s) =>
    s.budgets.map((b) => {
      const spent = s.ledger.spent(b.currency, periodStart(b.per, now));
      return { scope: s.kind, budget: b, spent, left: Math.max(0, Math.round((b.limit - spent) * 1e6) / 1e6) };
    }),
  );
}

export interface Reservation {
  job: string;
  batch?: string;
  provider: string;
  model: string;
  estimate: Cost | null;
}

/** Reserves and settles jobs' money in the ledgers of the budgets' scopes. */
export class SpendGuard {
  constructor(
    /** The project's scope first, then the user's; read at each reservation (settings change). */
    private readonly scopes: () => Promise<BudgetScope[]> | BudgetScope[],
    /** The project ledger: every job is recorded there, budget or not. */
    private readonly ledger: Ledger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Reserve a job's estimate, or throw ProviderError('budget') when it would take a budget of
   * its currency past its limit. An unknown estimate reserves nothing: the plan asked first (or
   * the command line was told `--allow-unpriced`). Resolves when the reservation is durable.
   *
   * A job is reserved each time it is about to be sent. One still open from before was
   * interrupted (a crash) before its request id was saved: the provider may have it and bill it,
   * so that run is closed as interrupted with its cost unknown — it keeps counting at its
   * estimate — and the new attempt is reserved on its own.
   */
  async reserve(r: Reservation): Promise<void> {
    const scopes = await this.scopes();
    const ledgers = uniqueLedgers([this.ledger, ...scopes.map((s) => s.ledger)]);
    await Promise.all(ledgers.map((l) => l.refresh()));
    // From here to the appends: no await, so no other job is looked at in between.
    const interrupted = ledgers.filter((l) => l.open(r.job));
    const closing = interrupted.map((l) => l.append({ v: 1, type: 'cost', at: this.now().toISOString(), job: r.job, provider: r.provider, model: r.model, state: 'failed', cost: null, interrupted: true }));
    const currency = r.estimate?.currency ?? providerCurrency(r.provider);
    if (r.estimate && r.estimate.amount > 0) {
      for (const s of scopes) {
        for (const b of s.budgets) {
          if (b.currency !== currency) continue;
          const spent = s.ledger.spent(b.currency, periodStart(b.per, this.now()));
          if (spent + r.estimate.amount > b.limit + 1e-9) throw budgetError(r, b, s.kind, spent);
        }
      }
    }
    const entry = { v: 1 as const, type: 'estimate' as const, at: this.now().toISOString(), job: r.job, batch: r.batch, provider: r.provider, model: r.model, estimate: r.estimate };
    await Promise.all([...closing, ...ledgers.map((l) => l.append(entry))]);
  }

  /** The job ended: what it cost (null when unknown: its estimate stays counted). */
  async settle(r: { job: string; provider: string; model: string; state: JobState; cost: Cost | null }): Promise<void> {
    const scopes = await this.scopes();
    const ledgers = uniqueLedgers([this.ledger, ...scopes.map((s) => s.ledger)]).filter((l) => l.open(r.job));
    const entry = { v: 1 as const, type: 'cost' as const, at: this.now().toISOString(), ...r };
    await Promise.all(ledgers.map((l) => l.append(entry)));
  }
}

function uniqueLedgers(list: Ledger[]): Ledger[] {
  return [...new Set(list)];
}

function budgetError(r: Reservation, b: Budget, kind: BudgetScope['kind'], spent: number): ProviderError {
  const est = formatCost(r.estimate!, { approx: r.estimate!.estimated });
  const period = b.per === 'day' ? ' today' : b.per === 'month' ? ' this month' : '';
  return new ProviderError(
    'budget',
    r.provider,
    `Not sent to ${providerDisplayName(r.provider)}: this job (${est}) would take ${describeBudget(b, kind)} past its limit — ${formatCost({ amount: spent, currency: b.currency })} spent or held${period}. Raise the budget, or wait for the next ${b.per === 'total' ? 'budget' : b.per}.`,
  );
}
