// Merges the fault suite's per-file reports (test-results/fault/*.json, one per test file so
// parallel files never write the same one) into test-results/fault-summary.json and prints a
// short table; then every test the run skipped, with its reason (from test-results/*.tap),
// so a missing fixture or tool never passes unseen; then one paragraph on the latest
// `npm run bench` results, if there are any.
// scripts/test.sh (and so CI) runs it after the tests. Exit code 0 always: the tests decide.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'test-results', 'fault');

const rows = [];
for (const name of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).sort() : []) {
  try {
    const report = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    for (const [category, c] of Object.entries(report.categories ?? {})) {
      rows.push({ file: report.file ?? name, category, injected: c.injected ?? 0, survived: c.survived ?? 0, productsLost: c.productsLost ?? 0, notes: c.notes ?? {} });
    }
  } catch (e) {
    console.log(`fault summary: ${name} is unreadable (${e instanceof Error ? e.message : String(e)})`);
  }
}
// Skipped tests, at any depth, from every lane's TAP: `ok N - name # SKIP reason` (names escape
// # as \#).
const results = join(root, 'test-results');
const taps = existsSync(results) ? readdirSync(results).filter((n) => n.endsWith('.tap')).map((n) => join(results, n)) : [];
const skipped = [];
for (const line of taps.flatMap((t) => readFileSync(t, 'utf8').split('\n'))) {
  const m = /^\s*ok \d+ - (.*?) # SKIP ?(.*)$/.exec(line);
  if (m) skipped.push({ test: m[1].replace(/\\#/g, '#'), reason: m[2].trim() || '(no reason given)' });
}

const totals = rows.reduce((t, r) => ({ injected: t.injected + r.injected, survived: t.survived + r.survived, productsLost: t.productsLost + r.productsLost }), { injected: 0, survived: 0, productsLost: 0 });
writeFileSync(join(root, 'test-results', 'fault-summary.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), totals, categories: rows, skipped }, null, 2)}\n`);

if (rows.length === 0) {
  console.log('Fault suite: no reports in test-results/fault/ (were test/fault/*.test.ts run?)');
} else {
  const label = (r) => `${r.file.replace(/^test\/fault\/|\.test\.ts$/g, '')}: ${r.category}${r.notes.skipped ? ' (skipped)' : ''}`;
  const width = Math.min(70, Math.max(...rows.map((r) => label(r).length), 5));
  const line = (a, b, c, d) => `${a.padEnd(width)}  ${String(b).padStart(8)}  ${String(c).padStart(8)}  ${String(d).padStart(5)}`;
  console.log('\nFault suite');
  console.log(line('', 'injected', 'survived', 'lost'));
  for (const r of rows) console.log(line(label(r).slice(0, width), r.injected, r.survived, r.productsLost));
  console.log(line('total', totals.injected, totals.survived, totals.productsLost));
  const verdict = totals.productsLost === 0 && totals.survived === totals.injected ? 'every fault survived, no product lost' : `${totals.injected - totals.survived} fault(s) not survived, ${totals.productsLost} product(s) lost`;
  console.log(`${verdict} (test-results/fault-summary.json)`);
}

if (skipped.length > 0) {
  console.log(`\nSkipped: ${skipped.length} test${skipped.length === 1 ? '' : 's'} did not run (under CI=true a missing fixture fails instead)`);
  for (const s of skipped) console.log(`  - ${s.test.slice(0, 110)}: ${s.reason}`);
} else if (taps.length > 0) {
  console.log('\nSkipped: none');
}

// The latest benchmark results, in one paragraph (the bench itself is never run here).
const benchDir = join(root, 'bench', 'results');
const benchFiles = existsSync(benchDir) ? readdirSync(benchDir).filter((n) => n.endsWith('.json')).sort() : [];
if (benchFiles.length === 0) {
  console.log('\nBenchmarks: no results in bench/results/ (run `npm run bench`).');
} else {
  const unit = (k, v) => {
    const words = k.replace(/(Ms|PerSec|MB)$/, '').replace(/([A-Z])/g, ' $1').toLowerCase().trim();
    const n = typeof v === 'number' ? v.toLocaleString('en-US') : v;
    return k.endsWith('Ms') ? `${words} ${n} ms` : k.endsWith('PerSec') ? `${words} ${n}/s` : k.endsWith('MB') ? `${words} ${n} MB` : `${words} ${n}`;
  };
  const parts = [];
  let newest = 0;
  let machine = '';
  for (const f of benchFiles) {
    try {
      const data = JSON.parse(readFileSync(join(benchDir, f), 'utf8'));
      newest = Math.max(newest, statSync(join(benchDir, f)).mtimeMs);
      machine ||= data.machine ?? '';
      const perSize = (data.rows ?? []).map((row) => {
        const fields = Object.entries(row).filter(([k, v]) => k !== 'products' && typeof v === 'number');
        return `${typeof row.products === 'number' ? `${row.products.toLocaleString('en-US')} products: ` : ''}${fields.map(([k, v]) => unit(k, v)).join(', ')}`;
      });
      parts.push(`${f.replace(/\.json$/, '')}: ${perSize.join('; ')}`);
    } catch {
      parts.push(`${f}: unreadable`);
    }
  }
  console.log(`\nBenchmarks (latest, ${new Date(newest).toISOString().slice(0, 16).replace('T', ' ')} UTC${machine ? `, ${machine}` : ''}): ${parts.join('. ')}.`);
}
