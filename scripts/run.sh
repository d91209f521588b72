#!/usr/bin/env bash
# The README's two commands land here: `npm test` -> run.sh test, `npm run demo` -> run.sh demo;
# `npm run test:unit` -> run.sh unit is the fast inner loop.
# Works from a fresh clone with only the machine's Node 20 and npm: it fetches Node 24 from the
# npm registry (n8n-workflow 2.x needs it) and installs the locked dev dependencies.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node24.sh

stamp=node_modules/.install-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
	echo "[setup] installing dev dependencies with Node $(node -v)"
	# --ignore-scripts: eslint-plugin-n8n-nodes-base's install script insists on pnpm, and no
	# dependency needs a native build (isolated-vm ships a Node 24 prebuild).
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch "$stamp"
fi

case "${1:-}" in
test)
	npm run build --silent
	npx n8n-node lint
	npx prettier --check --log-level warn .
	npx tsc -p test/tsconfig.json
	# The end-to-end tests run the workflow in a real n8n: install it (cached after the first run).
	bash scripts/n8n/install.sh
	# The editor tests drive n8n's editor in Debian's Chromium (playwright-core never downloads one).
	bash scripts/n8n/install-chromium.sh
	E2E_REQUIRED=1 npx jest "${@:2}"
	;;
unit)
	# The fast inner loop: the engine and the nodes in n8n's engine, in-process. No build, no n8n
	# install, no demo systems: seconds.
	npx jest test/engine test/nodes test/harness.test.ts --testPathIgnorePatterns '\.systems\.test\.ts$' "${@:2}"
	;;
demo)
	npm run build --silent
	bash scripts/n8n/install.sh
	node --disable-warning=ExperimentalWarning scripts/demo.ts "${@:2}"
	;;
bench)
	# Figures and ratios, printed; no timed assertions anywhere (see bench/README.md).
	npm run build --silent
	bash scripts/n8n/install.sh
	node bench/run.js "${@:2}"
	;;
bench-partitioned)
	# The partitioned sync in queue mode, 1 worker then 2, at 1M keys x 3 systems by default
	# (--keys N for a smaller run); figures printed, no timed assertions (see bench/README.md).
	npm run build --silent
	bash scripts/n8n/install.sh
	# Exits when main settles: after a failed run a leftover socket must not keep it waiting.
	node -e "require('./bench/lib/register.js'); require('./bench/partitioned.ts').main(process.argv.slice(1)).then(() => process.exit(), (e) => { console.error(e); process.exit(1); })" -- "${@:2}"
	;;
reliability)
	# The whole reliability suite at full size (10k-record fault soak, 1000 malformed payloads,
	# crash and re-run, concurrent syncs, secrets); `npm test` runs the same files at small sizes.
	npm run build --silent
	bash scripts/n8n/install.sh
	RELIABILITY_FULL=1 E2E_REQUIRED=1 npx jest test/reliability "${@:2}"
	;;
realtime)
	# The real-time suite at full size (20 edits/s for 60 s on all three systems through the
	# real-time workflow); `npm test` runs the same file at 5 edits/s for 10 s.
	npm run build --silent
	bash scripts/n8n/install.sh
	REALTIME_FULL=1 E2E_REQUIRED=1 npx jest test/realtime "${@:2}"
	;;
systems)
	# The three demo systems on 127.0.0.1:5701-5703, seeded with conflicting customers.
	exec node --disable-warning=ExperimentalWarning demo/systems/start.ts --seed-demo "${@:2}"
	;;
*)
	echo "usage: scripts/run.sh test|unit|demo|bench|bench-partitioned|reliability|realtime|systems" >&2
	exit 2
	;;
esac
