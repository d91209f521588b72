#!/usr/bin/env bash
# Installs a real n8n (N8N_VERSION, default 2.41.1) under .cache/n8n/ for the e2e tests
# (test/e2e) and anything else that needs a running n8n. Idempotent: a stamp file holding the
# version marks a finished install, so a second run is instant.
#
# Works from a fresh clone with only the machine's Node 20 + npm: scripts/node24.sh fetches
# Node 24 (n8n 2.x refuses Node 20) and sets npm_config_nodedir to its headers.
# Recipe (see N8N-RUNTIME.md): a plain `npm install n8n` fails (a Kafka client downloads and
# builds native code), so install with --ignore-scripts and rebuild only sqlite3, the one
# native module the n8n server needs. Cold: ~6 min, ~2.9 GB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"

N8N_VERSION="${N8N_VERSION:-2.41.1}"
N8N_DIR="$ROOT/.cache/n8n"
STAMP="$N8N_DIR/.install-stamp"

cached() {
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$N8N_VERSION" ] &&
		[ -f "$N8N_DIR/node_modules/n8n/bin/n8n" ]
}
if cached; then
	echo "n8n $N8N_VERSION cached"
	exit 0
fi

t0=$SECONDS
# One install at a time (two test jobs starting together): wait for the other, then recheck.
mkdir -p "$ROOT/.cache"
if command -v flock >/dev/null; then
	exec 9>"$ROOT/.cache/n8n.lock"
	flock 9
	if cached; then
		echo "n8n $N8N_VERSION cached (installed by a concurrent run; waited $((SECONDS - t0)) s)"
		exit 0
	fi
fi
# shellcheck source=../node24.sh
source scripts/node24.sh
echo "[n8n] Node $(node -v) at $(command -v node) ($((SECONDS - t0)) s)"

# A different version or an interrupted install: start over in a clean folder.
rm -rf "$N8N_DIR"
mkdir -p "$N8N_DIR"
cat >"$N8N_DIR/package.json" <<JSON
{ "name": "n8n-runtime", "private": true, "description": "n8n for e2e tests; made by scripts/n8n/install.sh" }
JSON

t1=$SECONDS
echo "[n8n] npm install --ignore-scripts n8n@$N8N_VERSION into $N8N_DIR (about 4 min cold)"
(cd "$N8N_DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
	"n8n@$N8N_VERSION")
echo "[n8n] installed in $((SECONDS - t1)) s"

t2=$SECONDS
echo "[n8n] npm rebuild sqlite3 (about 2 min)"
(cd "$N8N_DIR" && npm rebuild sqlite3 --loglevel=error)
echo "[n8n] sqlite3 rebuilt in $((SECONDS - t2)) s"

# Smoke check: the CLI runs under Node 24 and reports the version we asked for.
scratch="$(mktemp -d)"
got="$(cd "$N8N_DIR" && N8N_USER_FOLDER="$scratch" node node_modules/n8n/bin/n8n --version 2>/dev/null | tail -n1)"
rm -rf "$scratch"
if [ "$got" != "$N8N_VERSION" ]; then
	echo "[n8n] installed n8n reports version '$got', expected $N8N_VERSION" >&2
	exit 1
fi
node -e "require('$N8N_DIR/node_modules/sqlite3')" ||
	{ echo "[n8n] sqlite3 does not load under Node $(node -v)" >&2; exit 1; }

echo "$N8N_VERSION" >"$STAMP"
echo "[n8n] n8n $N8N_VERSION ready in $N8N_DIR (total $((SECONDS - t0)) s)"
