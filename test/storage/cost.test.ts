// Migration 5 (issue 11): each product's cost as columns, so the gallery sorts and filters by it
// and sums a selection without reading every record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import initSqlJs from 'sql.js';
import { migrate, Repo } from '../../src/storage/repo.ts';
import type { Cost } from '../../src/providers/types.ts';
import { insertAsVersion1, product } from './helpers.ts';

const usd = (amount: number, estimated = false): Cost => ({ amount, currency: 'USD', estimated });

test('migration 5 reads the costs already in stored records; sort by cost puts unknown last and pages through every product', async () => {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  assert.equal(migrate(db, 4), 4);
  insertAsVersion1(db, [product(1, { cost: usd(0.025) }), product(2), product(3, { cost: { amount: 16, currency: 'buzz', estimated: false } }), product(4, { cost: 'junk' as unknown as Cost })]);
  assert.equal(migrate(db, 5), 5);
  const repo = new Repo(db);
  repo.putProducts([product(5, { cost: usd(0.06) }), product(6, { cost: usd(0.003, true) }), product(7)]);
  const ids = (q: Parameters<Repo['queryProducts']>[0]) => repo.queryProducts(q).items.map((p) => p.id);
  // Costliest first (currencies side by side by amount), unknown last, newest first among equals.
  assert.deepEqual(ids({ sort: 'cost' }), ['P00000003', 'P00000005', 'P00000001', 'P00000006', 'P00000007', 'P00000004', 'P00000002']);
  // Paged two at a time, the keyset walks the same order.
  const paged: string[] = [];
  let after: string | undefined;
  do {
    const page = repo.queryProducts({ sort: 'cost', limit: 2, after });
    paged.push(...page.items.map((p) => p.id));
    after = page.next;
  } while (after);
  assert.deepEqual(paged, ids({ sort: 'cost' }));
  assert.equal(repo.countBefore({ sort: 'cost' }, product(1, { cost: usd(0.025) })), 2);
  // Filters: USD between 1 and 10 cents; Buzz.
  assert.deepEqual(ids({ minCost: 0.01, maxCost: 0.1 }), ['P00000005', 'P00000001']);
  assert.deepEqual(ids({ minCost: 0, costCurrency: 'buzz' }), ['P00000003']);
  // An update changes the columns too.
  repo.putProduct(product(6, { cost: usd(0.5) }));
  assert.deepEqual(ids({ minCost: 0.1 }), ['P00000006']);
  assert.deepEqual(repo.costSum(['P00000001', 'P00000005', 'P00000006', 'P00000003', 'P00000002', 'nope']), {
    sums: [
      { currency: 'USD', amount: 0.585, products: 3, estimated: false },
      { currency: 'buzz', amount: 16, products: 1, estimated: false },
    ],
    unknown: 1,
  });
});
