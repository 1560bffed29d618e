// Spending: open the Spending panel, raise a budget (the one a job was stopped by, or any).
import type { CommandContext } from './context.ts';
import type { CommandTable } from './register.ts';

type CostCommands = Pick<CommandTable, 'openSpending' | 'raiseBudget'>;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length <= 4096 ? v : undefined);

export function costCommands({ costs, spending, projects }: CommandContext): CostCommands {
  /** Only a folder that is one of the open projects. */
  const project = (v: unknown) => {
    const dir = text(v);
    return dir && projects.get(dir) ? dir : undefined;
  };
  return {
    openSpending: {
      args: (raw) => [project(raw[0])],
      run: (dir) => spending.open(dir),
    },
    raiseBudget: {
      args: (raw) => [project(raw[0]), text(raw[1])?.slice(0, 12)],
      run: (dir, currency) => costs.raiseBudget({ project: dir, currency }),
      // It writes the project's artfactory.json (or your settings).
      trustedOnly: 'Changing budgets is',
    },
  };
}
