#!/usr/bin/env bash
# Builds better-sqlite3 (for the storage benchmark's comparison only) into a cache outside the
# repo. Its install script would download a prebuilt binary from GitHub; here it compiles from
# source against Node's headers (python3, make, g++), about a minute and a half once.
#   scripts/better-sqlite3.sh         install once (idempotent), print the package folder
set -euo pipefail
CACHE="${ARTFACTORY_CACHE:-$HOME/.cache/art-factory}"
DIR="$CACHE/better-sqlite3"
PKG="$DIR/node_modules/better-sqlite3"
if [ ! -f "$PKG/build/Release/better_sqlite3.node" ]; then
  mkdir -p "$DIR"
  echo '{ "name": "art-factory-bench-better-sqlite3", "private": true, "allowScripts": { "better-sqlite3": true } }' > "$DIR/package.json"
  echo "building better-sqlite3 from source into $DIR (once)…" >&2
  (cd "$DIR" && npm_config_build_from_source=true npm install --no-audit --no-fund --loglevel=error better-sqlite3 > install.log 2>&1) || { tail -20 "$DIR/install.log" >&2; exit 1; }
fi
echo "$PKG"
