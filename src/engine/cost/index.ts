// The cost side of the engine (issue 11), put together per project: its ledger, its budgets
// (artfactory.json) and the user's (a setting, counted in the user ledger across every project),
// and the guard the engine reserves through.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../providers/types.ts';
import { readManifest } from '../../storage/index.ts';
import { parseBudgets, SpendGuard, type Budget, type BudgetScope } from './budgets.ts';
import { Ledger } from './ledger.ts';

export { budgetStatus, describeBudget, normalizeCurrency, parseBudgets, periodStart, SpendGuard, type Budget, type BudgetPeriod, type BudgetScope, type BudgetStatus } from './budgets.ts';
export { isCost, Ledger, LEDGER_FILE, runAmount, type LedgerEntry, type LedgerJob } from './ledger.ts';
export { describeEstimate, estimateFrom, formatCost, PRICE_TTL_MS, Pricing, providerCurrency, summarize, type Estimate, type JobEstimate, type ModelPricing, type PricingOptions } from './pricing.ts';
export { REPLICATE_PRICES_AS_OF } from './replicatePrices.ts';
export { localDay, spendingReport, type SpendingReport, type SpendRow } from './report.ts';

/**
 * The machine-wide folder of the user's spending (the user ledger that user budgets count, and
 * the command line's price cache), shared by VS Code and the command line so both count the same
 * money: ARTFACTORY_USER_DIR, else the platform's place for an application's state.
 */
export function userCostDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.ARTFACTORY_USER_DIR) return path.resolve(env.ARTFACTORY_USER_DIR);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'art-factory');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'art-factory');
  return path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'art-factory');
}

/** The user's side: budgets from the setting, spending of every project in one ledger in the
 * global storage (`<dir>/ledger.jsonl`). */
export interface UserSpending {
  budgets(): Budget[];
  ledger: Ledger;
}

export function userSpending(globalDir: string, budgets: () => unknown, log?: Logger): UserSpending {
  const said = new Set<string>();
  return {
    ledger: new Ledger(globalDir, 'ledger.jsonl'),
    budgets: () => {
      const r = parseBudgets(budgets(), 'artFactory.budgets');
      sayOnce(said, r.problems, log);
      return r.budgets;
    },
  };
}

export interface ProjectSpending {
  dir: string;
  ledger: Ledger;
  guard: SpendGuard;
  /** The project's budgets, then the user's, as they are now. */
  scopes(): Promise<BudgetScope[]>;
  /** Problems with the project's budgets as written (a sentence each). */
  problems(): Promise<string[]>;
}

export function projectSpending(projectDir: string, o: { user?: UserSpending; log?: Logger; now?: () => Date } = {}): ProjectSpending {
  const ledger = new Ledger(projectDir);
  const said = new Set<string>();
  const own = async () => {
    const raw = await readManifest(projectDir)
      .then((m) => m.budgets)
      .catch(() => undefined);
    return parseBudgets(raw, path.join(path.basename(projectDir), 'artfactory.json'));
  };
  const scopes = async (): Promise<BudgetScope[]> => {
    const mine = await own();
    sayOnce(said, mine.problems, o.log);
    const list: BudgetScope[] = [{ kind: 'project', budgets: mine.budgets, ledger }];
    if (o.user) list.push({ kind: 'user', budgets: o.user.budgets(), ledger: o.user.ledger });
    return list;
  };
  return { dir: projectDir, ledger, guard: new SpendGuard(scopes, ledger, o.now), scopes, problems: async () => (await own()).problems };
}

/** Each problem logged once per session, not at every job. */
function sayOnce(said: Set<string>, problems: string[], log: Logger | undefined): void {
  for (const p of problems) {
    if (said.has(p)) continue;
    said.add(p);
    log?.warn(p);
  }
}
