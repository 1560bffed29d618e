// The Spending panel: spend per day as a bar chart, per provider and model as a table, and the
// budgets with what they have left. Read-only: it asks the host for another scope or range, and
// Raise Budget… runs the command.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatCost } from '../../engine/cost/format.ts';
import type { Cost } from '../../providers/billing.ts';
import { RANGES, type Range, type SpendingHostMessage, type SpendingView, type SpendingWebviewMessage } from '../spendingProtocol.ts';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import './spending.css';

interface VsCodeApi {
  postMessage(msg: SpendingWebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

const RANGE_LABELS: Record<Range, string> = { today: 'Today', '7d': 'Last 7 days', '30d': 'Last 30 days', all: 'All time' };

function money(list: Cost[]): string {
  return list.length ? list.map((c) => formatCost(c)).join(' + ') : '$0.00';
}

function initialView(): SpendingView | undefined {
  try {
    return (JSON.parse(document.getElementById('initial-view')?.textContent ?? 'null') as SpendingView | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Bars per day in one currency (the first the range has; others are listed below it). */
function Chart({ view }: { view: SpendingView }) {
  const currency = view.report.totals[0]?.currency;
  if (!currency) return <p class="empty">Nothing was spent in this range.</p>;
  const days = view.report.days.map((d) => ({ day: d.day, amount: d.totals.find((t) => t.currency === currency)?.amount ?? 0 }));
  const max = Math.max(...days.map((d) => d.amount), 1e-9);
  // A label every few bars when there are many (a month, a year).
  const step = Math.max(1, Math.ceil(days.length / 15));
  return (
    <figure class="chart" aria-label={`Spend per day in ${currency === 'buzz' ? 'Buzz' : currency}`}>
      <div class="bars" role="list">
        {days.map((d, i) => (
          <div class="bar" role="listitem" key={d.day} title={`${d.day}: ${formatCost({ amount: d.amount, currency })}`} aria-label={`${d.day}: ${formatCost({ amount: d.amount, currency })}`}>
            <div class="fill" style={{ height: `${Math.max(2, (d.amount / max) * 100)}%` }} />
            {(i % step === 0 || i === days.length - 1) && <span class="label">{d.day.slice(5)}</span>}
          </div>
        ))}
      </div>
      <figcaption>
        Per day, {currency === 'buzz' ? 'Buzz' : currency}; highest {formatCost({ amount: max, currency })}
      </figcaption>
    </figure>
  );
}

function App() {
  const [view, setView] = useState<SpendingView | undefined>(initialView);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const onMessage = (e: MessageEvent<SpendingHostMessage>) => {
      if (e.data?.type === 'view') {
        setView(e.data.view);
        setError(undefined);
        vscode.setState({ scope: e.data.view.scope, range: e.data.view.range });
      } else if (e.data?.type === 'error') setError(e.data.message);
    };
    window.addEventListener('message', onMessage);
    const saved = vscode.getState() as { scope?: string; range?: Range } | undefined;
    vscode.postMessage({ type: 'ready', scope: saved?.scope, range: saved?.range });
    return () => window.removeEventListener('message', onMessage);
  }, []);
  if (!view) return <p class="empty">{error ?? 'Loading…'}</p>;
  const r = view.report;
  const show = (scope: string, range: Range) => vscode.postMessage({ type: 'show', scope, range });
  return (
    <main class="spending">
      <header class="toolbar">
        <vscode-single-select label="Project" value={view.scope} onChange={(e: Event) => show((e.target as VscodeSingleSelect).value, view.range)}>
          {view.scopes.map((s) => (
            <vscode-option key={s.value} value={s.value}>
              {s.label}
            </vscode-option>
          ))}
        </vscode-single-select>
        <vscode-single-select label="Range" value={view.range} onChange={(e: Event) => show(view.scope, (e.target as VscodeSingleSelect).value as Range)}>
          {RANGES.map((range) => (
            <vscode-option key={range} value={range}>
              {RANGE_LABELS[range]}
            </vscode-option>
          ))}
        </vscode-single-select>
        <vscode-button secondary onClick={() => vscode.postMessage({ type: 'raiseBudget', scope: view.scope })}>
          Raise Budget…
        </vscode-button>
        {view.scope && (
          <vscode-button secondary onClick={() => vscode.postMessage({ type: 'openLedger', scope: view.scope })}>
            Open Ledger
          </vscode-button>
        )}
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <section aria-labelledby="total">
        <h2 id="total">
          {view.title}: {money(r.totals)} {RANGE_LABELS[view.range].toLowerCase()}
        </h2>
        {r.open > 0 && <p class="note">{r.open} job{r.open === 1 ? ' has' : 's have'} not ended (running, or cut short by a crash): counted at {r.open === 1 ? 'its' : 'their'} estimate.</p>}
        {r.totals.some((t) => t.estimated) && <p class="note">≈ marks amounts worked out from a price table or an estimate, not billed figures.</p>}
        <Chart view={view} />
      </section>
      <section aria-labelledby="budgets">
        <h2 id="budgets">Budgets</h2>
        {r.budgets.length === 0 ? (
          <p class="empty">No budget. Add one with Raise Budget…, in artfactory.json ("budgets"), or in the setting artFactory.budgets.</p>
        ) : (
          <ul class="budgets">
            {r.budgets.map((b, i) => {
              const used = b.budget.limit > 0 ? Math.min(1, b.spent / b.budget.limit) : 1;
              return (
                <li key={i}>
                  <span>
                    {b.scope === 'project' ? 'Project' : 'All projects'}: {formatCost({ amount: b.budget.limit, currency: b.budget.currency })} per {b.budget.per === 'total' ? 'all time' : b.budget.per}
                  </span>
                  <meter min={0} max={1} low={0.7} high={0.9} optimum={0} value={used} aria-label="used" />
                  <span>
                    {formatCost({ amount: b.spent, currency: b.budget.currency })} spent, <strong>{formatCost({ amount: b.left, currency: b.budget.currency })} left</strong>
                  </span>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section aria-labelledby="models">
        <h2 id="models">By provider and model</h2>
        {r.rows.length === 0 ? (
          <p class="empty">No jobs in this range.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Model</th>
                <th scope="col" class="num">
                  Jobs
                </th>
                <th scope="col" class="num">
                  Spent
                </th>
              </tr>
            </thead>
            <tbody>
              {r.rows.map((row) => (
                <tr key={`${row.provider}/${row.model}/${row.currency}`}>
                  <td>{row.provider}</td>
                  <td class="model">{row.model}</td>
                  <td class="num">{row.jobs}</td>
                  <td class="num">{formatCost({ amount: row.amount, currency: row.currency, estimated: row.estimated })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}

render(<App />, document.getElementById('app')!);
