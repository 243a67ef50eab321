#!/usr/bin/env bash
# chromium.sh — installs headless Chromium from Debian's `chromium` package for the
# JavaScript-rendering fetch path (sources with `render: js`) and its tests. Idempotent: a
# machine that already has a Chromium binary does nothing. Prints the binary's path.
#
#   bash deploy/local/chromium.sh          # install if missing, print the path
#   NEWSFLOW_CHROMIUM=/path/to/chrome ...  # use this binary instead (checked, not installed)
set -euo pipefail

find_chromium() {
	if [ -n "${NEWSFLOW_CHROMIUM:-}" ]; then
		[ -x "$NEWSFLOW_CHROMIUM" ] && { echo "$NEWSFLOW_CHROMIUM"; return 0; }
		echo "chromium.sh: NEWSFLOW_CHROMIUM=$NEWSFLOW_CHROMIUM is not executable" >&2
		return 1
	fi
	local c
	for c in chromium chromium-browser google-chrome-stable google-chrome headless-shell; do
		if command -v "$c" >/dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

if find_chromium; then
	exit 0
fi
if [ -n "${NEWSFLOW_CHROMIUM:-}" ]; then
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "chromium.sh: no chromium binary and no apt-get to install Debian's chromium package;" >&2
	echo "  install Chromium and set NEWSFLOW_CHROMIUM to its path" >&2
	exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "chromium.sh: not root and no sudo: cannot apt-get install chromium" >&2
		exit 1
	fi
fi
echo "chromium.sh: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
find_chromium
