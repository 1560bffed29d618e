#!/usr/bin/env bash
# Installs code-server 4.100.3 (the last release on Node 20) into a cache outside the repo,
# with no downloads beyond the npm registry and Debian's packages:
#   scripts/code-server.sh install      install once (idempotent)
#   scripts/code-server.sh path         print the code-server binary
# @vscode/ripgrep's postinstall downloads rg from GitHub; we hand it Debian's rg instead, by
# placing the tarball it looks for in its cache folder.
set -euo pipefail
VERSION=4.100.3
CACHE="${ARTFACTORY_CACHE:-$HOME/.cache/art-factory}"
DIR="$CACHE/code-server-$VERSION"
BIN="$DIR/node_modules/code-server/out/node/entry.js"

case "${1:-install}" in
  path) echo "$BIN"; exit 0 ;;
  install) ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac

if [ -f "$DIR/.installed" ] && [ -f "$BIN" ]; then exit 0; fi

need=()
command -v rg >/dev/null || need+=(ripgrep)
for p in libkrb5-dev libsecret-1-dev libxkbfile-dev libx11-dev pkg-config; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else echo "code-server needs: sudo apt-get install -y ${need[*]}" >&2; exit 1; fi
fi

# The ripgrep tarball @vscode/ripgrep's postinstall would download, made from Debian's rg.
RG_VER=$(rg --version | head -1 | awk '{print $2}')
for rgpkg_ver in 1.15.9 1.15.10 1.15.11 1.15.14 1.17.0; do
  for rg_tag in "v13.0.0-10" "v13.0.0-13" "v14.1.1" "v$RG_VER"; do
    c="/tmp/vscode-ripgrep-cache-$rgpkg_ver"
    mkdir -p "$c"
    t="$c/ripgrep-$rg_tag-x86_64-unknown-linux-musl.tar.gz"
    if [ ! -f "$t" ]; then
      tmp=$(mktemp -d); cp "$(command -v rg)" "$tmp/rg"; tar -czf "$t" -C "$tmp" rg; rm -rf "$tmp"
    fi
  done
done

mkdir -p "$DIR"
cd "$DIR"
cat > package.json <<JSON
{ "name": "art-factory-code-server", "private": true, "allowScripts": { "code-server": true, "@vscode/ripgrep": true, "argon2": true, "kerberos": true, "node-pty": true, "@parcel/watcher": true, "@vscode/spdlog": true, "native-watchdog": true, "@vscode/windows-registry": true, "@vscode/deviceid": true, "@vscode/sqlite3": true, "@vscode/policy-watcher": true } }
JSON
echo "installing code-server $VERSION into $DIR (a few minutes the first time)…"
npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --loglevel=error "code-server@$VERSION" > "$DIR/install.log" 2>&1 || { tail -40 "$DIR/install.log" >&2; exit 1; }
# If the ripgrep download was still attempted and failed, put Debian's rg where it belongs.
find "$DIR/node_modules" -path '*@vscode/ripgrep' -type d | while read -r d; do mkdir -p "$d/bin"; [ -x "$d/bin/rg" ] || cp "$(command -v rg)" "$d/bin/rg"; done
[ -f "$BIN" ] || { echo "code-server did not install: $BIN missing" >&2; exit 1; }
touch "$DIR/.installed"
echo "code-server $VERSION ready: $BIN"
