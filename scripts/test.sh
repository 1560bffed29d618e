#!/usr/bin/env bash
# The whole test command (README, `npm test`, and .ci/run): installs what the tests need,
# then typecheck, lint, build, and every test suite through Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

# Debian packages: chromium for webview and end-to-end tests, the libraries code-server's
# native modules build against, ripgrep (stands in for @vscode/ripgrep's download), zip tools.
apt_needed=()
command -v chromium >/dev/null || apt_needed+=(chromium)
command -v rg >/dev/null || apt_needed+=(ripgrep)
for pkg in libkrb5-dev libsecret-1-dev libxkbfile-dev libx11-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || apt_needed+=("$pkg")
done
if [ ${#apt_needed[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing Debian packages: ${apt_needed[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_needed[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${apt_needed[*]}. Run: sudo apt-get install -y ${apt_needed[*]}" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

# Typecheck and lint only read the sources, so they run beside the build (which writes dist/);
# each one's output is shown when it fails.
echo "== typecheck, lint, and build and package (this machine's VSIX, then the universal one)"
logs=$(mktemp -d)
npm run --silent typecheck >"$logs/typecheck" 2>&1 & typecheck=$!
npm run --silent lint >"$logs/lint" 2>&1 & lint=$!
{ npm run --silent package && npm run --silent package:all -- --target universal; } >"$logs/package" 2>&1 & package=$!
steps_failed=0
for step in typecheck lint package; do
  if ! wait "${!step}"; then
    echo "== $step failed:"
    cat "$logs/$step"
    steps_failed=1
  fi
done
rm -rf "$logs"
[ "$steps_failed" = 0 ] || exit 1
echo "== code-server (cached outside the repo)"
bash scripts/code-server.sh install

echo "== tests"
# Two lanes at once. The end-to-end tests run one after another (each starts code-server and
# Chromium, which want a core to themselves); every other file runs beside them,
# ARTFACTORY_TEST_CONCURRENCY at a time (default 3: most wait on child processes and fake
# servers, not on the CPU), the slowest first so no long one is left running alone at the end.
# Every file uses its own temp folders, ports and fake servers, and only reads dist/.
e2e=(test/e2e/*.test.ts)
slow=(test/fault/crash.test.ts test/fault/importCrash.test.ts test/storage/processes.test.ts test/fault/providers.test.ts test/cli/cli.test.ts
  test/package/noSharp.test.ts test/webview/gallery.test.ts test/fault/untrusted.test.ts test/cli/imageInputs.test.ts)
files=()
for f in "${slow[@]}"; do [ -f "$f" ] && files+=("$f"); done
for f in test/**/*.test.ts; do
  [[ " ${slow[*]} ${e2e[*]} " == *" $f "* ]] || files+=("$f")
done
mkdir -p test-results
# The fault suite writes one report per test file here; stale ones must not be merged.
rm -rf test-results/fault test-results/fault-summary.json test-results/*.tap test-results/e2e.txt
status=0
e2e_status=0
if [ ${#e2e[@]} -gt 0 ]; then
  node --import tsx --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=test-results/e2e.txt \
    --test-reporter=tap --test-reporter-destination=test-results/tests-e2e.tap \
    "${e2e[@]}" & e2e_pid=$!
else
  : >test-results/e2e.txt; true & e2e_pid=$!
fi
node --import tsx --test --test-concurrency="${ARTFACTORY_TEST_CONCURRENCY:-3}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=test-results/tests.tap \
  "${files[@]}" || status=$?
wait "$e2e_pid" || e2e_status=$?
echo "== end-to-end tests (code-server, run beside the others)"
cat test-results/e2e.txt
[ "$e2e_status" = 0 ] || status=$e2e_status
total() { cat test-results/tests.tap test-results/tests-e2e.tap 2>/dev/null | sed -n "s/^# $1 //p" | awk '{ n += $1 } END { print n + 0 }'; }
echo "$(total pass) passed, $(total fail) failed, $(total skipped) skipped"
# Faults injected / survived / products lost, skipped tests, and the latest benchmark results.
node scripts/fault-summary.mjs || true
exit "$status"
