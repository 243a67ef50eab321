#!/bin/bash
# Paired sweep: every case runs right after its own "default" run (same load window), R rounds.
R=${R:-4}; N=${N:-8000}
CASES=${CASES:-"default+cold-index workers=1 workers=3 workers=4 flush=512KiB workers=4+flush=1MiB flush=5MiB refresh=30s translog=async refresh=30s+async lang-copy(de)"}
for r in $(seq 1 $R); do
  for c in $CASES; do
    echo "== pair r$r $c $(uptime)"
    NEWSFLOW_BENCH_CASES="default,$c" NEWSFLOW_ES_URL=http://127.0.0.1:9200 ./index.test -test.run '^$' -test.bench BulkIndex5KB -test.benchtime ${N}x 2>&1 | grep Benchmark
  done
done
echo "== end $(uptime)"
