#!/usr/bin/env bash
# Debian's Chromium for the editor tests (test/editor), installed when missing. playwright-core
# drives it at /usr/bin/chromium (CHROMIUM_PATH overrides); it never downloads a browser of its own.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
	echo "chromium present: $("$CHROMIUM" --version 2>/dev/null | head -n1)"
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	echo "[chromium] no $CHROMIUM and no way to install it here (needs root and apt-get): apt-get install -y chromium" >&2
	exit 1
fi
t0=$SECONDS
echo "[chromium] apt-get install chromium (about 1 min)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
echo "[chromium] $("$CHROMIUM" --version 2>/dev/null | head -n1) installed in $((SECONDS - t0)) s"
