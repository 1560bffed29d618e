#!/usr/bin/env bash
# `npm run demo`: build the VSIX, put a demo project in ~/art-factory-demo, and open it in
# VS Code with the extension — `code` when it is on PATH, otherwise code-server on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund
npm run --silent package >/dev/null
VSIX="$PWD/dist/art-factory.vsix"
DEMO="${ARTFACTORY_DEMO_DIR:-$HOME/art-factory-demo}"
if [ ! -f "$DEMO/artfactory.json" ]; then
  mkdir -p "$DEMO"
  cp -R demo/. "$DEMO/"
  echo "Demo project created in $DEMO"
fi
if command -v code >/dev/null 2>&1; then
  code --install-extension "$VSIX" --force
  code "$DEMO" "$DEMO/params/sample-lighthouse.art.json"
  echo "Opened $DEMO in VS Code. Press ▶ Generate above the parameter file."
  exit 0
fi
bash scripts/code-server.sh install
ENTRY=$(bash scripts/code-server.sh path)
STATE="${ARTFACTORY_DEMO_STATE:-${ARTFACTORY_CACHE:-$HOME/.cache/art-factory}/demo-code-server}"
mkdir -p "$STATE/data/User" "$STATE/extensions"
[ -f "$STATE/data/User/settings.json" ] || echo '{ "workbench.startupEditor": "none", "security.workspace.trust.enabled": false }' > "$STATE/data/User/settings.json"
node "$ENTRY" --install-extension "$VSIX" --force --user-data-dir "$STATE/data" --extensions-dir "$STATE/extensions" >/dev/null
PORT="${PORT:-8765}"
# The folder, and (as `code DIR FILE` does) the parameter file: VS Code for the Web opens the
# files a URL's `payload` names ("openFile"); the walkthrough opens beside it on first start.
FILE_URI="vscode-remote://127.0.0.1:$PORT$DEMO/params/sample-lighthouse.art.json"
PAYLOAD=$(node -e 'process.stdout.write(encodeURIComponent(JSON.stringify([["openFile", process.argv[1]]])))' "$FILE_URI")
URL="http://127.0.0.1:$PORT/?folder=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$DEMO")&payload=$PAYLOAD"
echo
echo "Art Factory demo: open this in a browser (Ctrl+C stops it):"
echo "  $URL"
echo "Press ▶ Generate above params/sample-lighthouse.art.json."
exec node "$ENTRY" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --user-data-dir "$STATE/data" --extensions-dir "$STATE/extensions" "$DEMO"
