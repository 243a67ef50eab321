#!/usr/bin/env bash
# bench-e2e.sh — newsflow end to end, with news-please in the same run (`make bench-e2e`).
# Installs news-please 1.6.16 from PyPI into a venv under data/bench (ignored), builds the
# binaries, uses the stack's Elasticsearch (ES on the same box), starts a NATS server of its
# own on another port for the separate services (stopped at the end), and runs
# pkg/cmd/bench-e2e, which prints one table. Takes 15–30 minutes on 2 cores.
#   BENCH_ONLY=backfill-aio,live  BENCH_PAGES=10000  BENCH_RATES=20,100  BENCH_LIVE=60s
#   BENCH_PPROF=dir: CPU and allocation profiles of every newsflow process (NEWSFLOW_PPROF)
#   BENCH_REV=HEAD: build the binaries from that commit (git archive) instead of the working
#   tree, which may hold other people's uncommitted edits
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${BENCH_WORK:-data/bench}
mkdir -p "$WORK"
VENV=$WORK/venv
if ! "$VENV/bin/python" -c 'import newsplease, elasticsearch' 2>/dev/null; then
    echo "bench-e2e: installing news-please 1.6.16 into $VENV (PyPI)"
    python3 -m venv "$VENV"
    # news-please's Elasticsearch storage is written for the 7.x client (port=, doc_type=),
    # which talks to an 8.x server; the 8.x/9.x clients reject its arguments.
    "$VENV/bin/pip" install -q "news-please==1.6.16" "elasticsearch>=7.17,<7.18"
fi
if [ -n "${BENCH_REV:-}" ]; then
    REV=$(git rev-parse "$BENCH_REV")
    SRC=$WORK/src-${REV:0:7}
    rm -rf "$SRC" && mkdir -p "$SRC"
    git archive "$REV" | tar -x -C "$SRC"
    (cd "$SRC" && make -s build VERSION="$(git describe --tags --always "$REV")" REVISION="$REV")
    BIN=$SRC/bin
    echo "bench-e2e: binaries of $REV in $BIN"
else
    make -s build
    SRC=. BIN=bin
fi
bash deploy/local/stack.sh up es
eval "$(bash deploy/local/stack.sh env)"
ES_PID=$(cat .stack/run/es.pid 2>/dev/null || echo 0)
# Our own NATS for the separate services: the shared one's streams belong to the tests.
export NEWSFLOW_STACK_DIR=$PWD/$WORK/stack NEWSFLOW_STACK_NATS_PORT=${BENCH_NATS_PORT:-24222} NEWSFLOW_STACK_NATS_MONITOR_PORT=${BENCH_NATS_MONITOR_PORT:-28222}
rm -rf "$NEWSFLOW_STACK_DIR/data/nats"
bash deploy/local/stack.sh up nats
trap 'NEWSFLOW_STACK_DIR='"$NEWSFLOW_STACK_DIR"' bash deploy/local/stack.sh down nats >/dev/null 2>&1 || true' EXIT
NATS_PID=$(cat "$NEWSFLOW_STACK_DIR/run/nats.pid")
RUN=$WORK/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN"
(cd "$SRC/pkg" && go build -o "$OLDPWD/$WORK/bench-e2e" ./cmd/bench-e2e)
"$WORK/bench-e2e" -bin "$BIN" -work "$RUN" -es "$NEWSFLOW_ES_URL" -es-pid "$ES_PID" \
    -nats "nats://127.0.0.1:$NEWSFLOW_STACK_NATS_PORT" -nats-pid "$NATS_PID" -python "$VENV/bin/python" \
    -pages "${BENCH_PAGES:-10000}" -rates "${BENCH_RATES:-20,100}" -live "${BENCH_LIVE:-60s}" -only "${BENCH_ONLY:-}" -pprof "${BENCH_PPROF:-}" | tee "$RUN/table.md"
echo "bench-e2e: logs and the table in $RUN"
