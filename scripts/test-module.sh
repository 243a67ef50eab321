#!/usr/bin/env bash
# test-module.sh DIR [PACKAGES...] — runs `go test -race -v` (default ./...) in one Go module, keeps the full log under
# .stack/logs/, and prints the package results plus every conformance-suite subtest (so the
# output shows the bus suite running on each backend, and any skip with its reason). On
# failure it prints the failing tests' output and the log's path.
set -uo pipefail
mod=$1
shift
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.stack/logs"
log="$root/.stack/logs/test-$(echo "$mod" | tr '/' '-')${LOG_SUFFIX:-}.log"
(cd "$root/$mod" && ${GO:-go} test ${RACE--race} -v -timeout "${TEST_TIMEOUT:-30m}" -count=1 "${pkgs[@]}") >"$log" 2>&1
rc=$?
grep -E '^(ok|FAIL|\?|panic:)|--- (PASS|FAIL|SKIP): TestConformance|--- SKIP' "$log" | grep -v -E '^\s+--- PASS: TestConformance[A-Za-z]*/[A-Za-z]+/' || true
if [ $rc -ne 0 ]; then
  echo "--- failures in $mod (full log: $log) ---"
  grep -n -E -- '--- FAIL|panic:|FAIL\s' "$log" | head -40
  awk '/--- FAIL/{p=1} p{print; n++} n>200{exit}' "$log"
fi
exit $rc
