#!/usr/bin/env bash
# deploy/local/stack.sh — the real newsflow infrastructure on loopback, without Docker:
#   nats   nats-server (JetStream), built with `go install` from the Go module proxy
#   kafka  Apache Kafka 4.x, KRaft mode (one combined broker+controller), jars from Maven Central
#   es     Elasticsearch 8.x single node: the integ-test-zip distribution from Maven Central plus
#          the small newsflow-local plugin (deploy/local/es-plugin) built here with javac
#
# Usage: stack.sh up [svc...] | down [svc...] | status | env | install [svc...] | logs svc
#        svc ∈ nats kafka es (default: all)
# Everything lives under $NEWSFLOW_STACK_DIR (default <repo>/.stack): bin/ lib/ conf/ data/<svc>/
# logs/<svc>.log run/<svc>.pid. See deploy/local/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
STACK_DIR=${NEWSFLOW_STACK_DIR:-$REPO_ROOT/.stack}
mkdir -p "$STACK_DIR"
STACK_DIR=$(cd "$STACK_DIR" && pwd)
BIN=$STACK_DIR/bin
LIB=$STACK_DIR/lib
CONF=$STACK_DIR/conf
DATA=$STACK_DIR/data
LOGS=$STACK_DIR/logs
RUN=$STACK_DIR/run
BUILD=$STACK_DIR/build

NATS_VERSION=${NEWSFLOW_STACK_NATS_VERSION:-v2.15.2}
KAFKA_VERSION=${NEWSFLOW_STACK_KAFKA_VERSION:-4.1.2}
LOG4J_VERSION=${NEWSFLOW_STACK_LOG4J_VERSION:-2.25.3}   # the log4j2 that kafka-server $KAFKA_VERSION uses
ES_VERSION=${NEWSFLOW_STACK_ES_VERSION:-8.19.21}

NATS_PORT=${NEWSFLOW_STACK_NATS_PORT:-4222}
NATS_MONITOR_PORT=${NEWSFLOW_STACK_NATS_MONITOR_PORT:-8222}
KAFKA_PORT=${NEWSFLOW_STACK_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${NEWSFLOW_STACK_KAFKA_CONTROLLER_PORT:-9093}
ES_PORT=${NEWSFLOW_STACK_ES_PORT:-9200}
ES_TRANSPORT_PORT=${NEWSFLOW_STACK_ES_TRANSPORT_PORT:-9300}

KAFKA_HEAP=${NEWSFLOW_STACK_KAFKA_HEAP:-768m}
ES_HEAP=${NEWSFLOW_STACK_ES_HEAP:-1g}
NATS_TIMEOUT=${NEWSFLOW_STACK_NATS_TIMEOUT:-30}
KAFKA_TIMEOUT=${NEWSFLOW_STACK_KAFKA_TIMEOUT:-120}
ES_TIMEOUT=${NEWSFLOW_STACK_ES_TIMEOUT:-180}
STOP_TIMEOUT=${NEWSFLOW_STACK_STOP_TIMEOUT:-30}
# Elasticsearch refuses to run as root: when this script runs as root, ES runs as this system user.
ES_USER=${NEWSFLOW_STACK_ES_USER:-newsflow-es}

ALL_SERVICES=(nats kafka es)
HOST=127.0.0.1

log() { printf '%s\n' "stack: $*" >&2; }
die() { printf '%s\n' "stack: error: $*" >&2; exit 1; }
now() { date +%s; }

# ---------------------------------------------------------------- prerequisites

APT_UPDATED=0
apt_install() { # pkg...
    [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null || die "missing $*; install it (apt-get install $*) and retry"
    if [[ $APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need() { # command [debian-package]
    command -v "$1" >/dev/null 2>&1 || apt_install "${2:-$1}"
}

find_go() {
    if command -v go >/dev/null 2>&1; then command -v go; return; fi
    for g in /usr/local/go/bin/go /usr/lib/go/bin/go; do [[ -x $g ]] && { echo "$g"; return; }; done
    return 1
}

java_home() {
    if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then echo "$JAVA_HOME"; return; fi
    need java openjdk-17-jdk-headless
    local j
    j=$(readlink -f "$(command -v java)")
    echo "${j%/bin/java}"
}

JAVA_HOME_RESOLVED=
java_bin() {
    if [[ -z $JAVA_HOME_RESOLVED ]]; then
        JAVA_HOME_RESOLVED=$(java_home)
        local v
        v=$("$JAVA_HOME_RESOLVED/bin/java" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
        [[ ${v%%.*} -ge 17 ]] || die "Java 17+ needed (found $v at $JAVA_HOME_RESOLVED)"
    fi
    echo "$JAVA_HOME_RESOLVED/bin/$1"
}

need_javac() {
    local jc
    jc=$(java_bin javac)
    [[ -x $jc ]] || apt_install openjdk-17-jdk-headless
    [[ -x $jc ]] || die "javac not found next to $(java_bin java)"
}

mvn_run() { # logname args...
    local logfile=$BUILD/mvn-$1.log
    shift
    need mvn maven
    mkdir -p "$BUILD"
    if ! mvn -B -Dstyle.color=never "$@" >"$logfile" 2>&1; then
        grep -E 'ERROR|FAIL' "$logfile" | head -n 20 >&2 || true
        die "mvn failed (full output: $logfile)"
    fi
}

# ---------------------------------------------------------------- process helpers

pid_of() { # svc -> pid (empty if not running)
    local f=$RUN/$1.pid pid pattern
    [[ -s $f ]] || return 0
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
    case $1 in # guard against a recycled pid (e.g. after a reboot)
    nats) pattern=nats-server ;;
    kafka) pattern=kafka.Kafka ;;
    es) pattern=elasticsearch ;;
    esac
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"; then echo "$pid"; fi
}

port_open() { # port
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# start_bg svc logfile cwd cmd... : runs cmd in its own session (survives this shell), writes run/svc.pid
start_bg() {
    local svc=$1 logfile=$2 cwd=$3
    shift 3
    local pidfile=$RUN/$svc.pid
    rm -f "$pidfile"
    if [[ -f $logfile && $(stat -c %s "$logfile") -gt 20000000 ]]; then mv -f "$logfile" "$logfile.1"; fi
    printf '\n===== %s: starting %s =====\n' "$(date -Is)" "$svc" >>"$logfile"
    (
        cd "$cwd"
        # the daemon must not inherit the lock of run/<svc>.lock
        if [[ -n $LOCK_FD ]]; then exec {LOCK_FD}>&-; fi
        # setsid: new session and process group (pgid = pid), no controlling terminal.
        setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
    )
    local i
    for i in $(seq 50); do [[ -s $pidfile ]] && return 0; sleep 0.1; done
    die "$svc: process did not start (see $logfile)"
}

# stop svc: SIGTERM to the service's process group, wait, then SIGKILL
stop_svc() {
    local svc=$1 pid
    pid=$(pid_of "$svc")
    if [[ -z $pid ]]; then
        rm -f "$RUN/$svc.pid"
        echo "$svc: already down"
        return 0
    fi
    local t0
    t0=$(now)
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    while kill -0 -- "-$pid" 2>/dev/null || kill -0 "$pid" 2>/dev/null; do
        if (($(now) - t0 >= STOP_TIMEOUT)); then
            log "$svc: still running after ${STOP_TIMEOUT}s, sending SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 0.5
    done
    rm -f "$RUN/$svc.pid"
    echo "$svc: stopped (pid $pid, $(($(now) - t0))s)"
}

fail_with_log() { # svc logfile message
    local svc=$1 logfile=$2
    shift 2
    {
        echo "stack: error: $svc: $*"
        echo "stack: log: $logfile (last 40 lines of this start):"
        local from
        from=$(grep -n '^===== ' "$logfile" 2>/dev/null | tail -n 1 | cut -d: -f1)
        tail -n "+${from:-1}" "$logfile" 2>/dev/null | tail -n 40 | sed 's/^/    /'
    } >&2
}

# ---------------------------------------------------------------- NATS

nats_install() {
    local marker=$LIB/.nats-$NATS_VERSION
    [[ -f $marker && -x $BIN/nats-server ]] && return 0
    local go t0
    t0=$(now)
    mkdir -p "$BIN" "$BUILD"
    if go=$(find_go); then
        log "nats: building nats-server $NATS_VERSION with $("$go" version | awk '{print $3}')"
        (cd "$BUILD" && GOWORK=off CGO_ENABLED=0 GOBIN="$BIN" "$go" install "github.com/nats-io/nats-server/v2@$NATS_VERSION")
    else
        log "nats: no Go toolchain; using Debian's nats-server package"
        need nats-server nats-server
        ln -sf "$(command -v nats-server)" "$BIN/nats-server"
    fi
    "$BIN/nats-server" --version >/dev/null
    touch "$marker"
    log "nats: installed $("$BIN/nats-server" --version) in $(($(now) - t0))s"
}

nats_healthy() {
    curl -sf -m 3 "http://$HOST:$NATS_MONITOR_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1
}

nats_prepare() {
    mkdir -p "$DATA/nats" "$LOGS" "$RUN"
    # JetStream counts every stream's MaxBytes (1 GiB by default) against max_file_store
    # when the stream is created; unset, that budget is 75% of the free disk, so tests that
    # hold many streams failed with "insufficient storage resources" (err 10047) on a fuller
    # disk. A fixed budget (as secure.sh sets) makes them independent of the free space;
    # the actual use is a few MB.
    printf 'jetstream {\n  store_dir: "%s"\n  max_file_store: 1TB\n}\n' "$DATA/nats" > "$DATA/nats.conf"
}

nats_start() {
    start_bg nats "$LOGS/nats.log" "$STACK_DIR" "$BIN/nats-server" \
        -c "$DATA/nats.conf" -a "$HOST" -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -n newsflow-local
}

nats_url() { echo "nats://$HOST:$NATS_PORT"; }

# ---------------------------------------------------------------- Kafka

KAFKA_LIB=$LIB/kafka

kafka_install() {
    local marker=$KAFKA_LIB/.kafka-$KAFKA_VERSION
    [[ -f $marker && -f $LIB/tools/KafkaReady.class ]] && return 0
    local t0
    t0=$(now)
    mkdir -p "$BUILD/kafka" "$LIB/tools"
    cat >"$BUILD/kafka/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <!-- generated by deploy/local/stack.sh: the runtime classpath of a Kafka $KAFKA_VERSION broker -->
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.newsflow.stack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- kafka.Kafka (broker + controller) and kafka.tools.StorageTool -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- org.apache.kafka.tools.* (TopicCommand, ConsoleProducer, ...) without the Connect runtime -->
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions>
    </dependency>
    <!-- logging: slf4j 1.7 -> log4j2 -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
    log "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central"
    rm -rf "$KAFKA_LIB.tmp"
    mvn_run kafka -f "$BUILD/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB.tmp"
    [[ -f $KAFKA_LIB.tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || die "kafka: kafka_2.13-$KAFKA_VERSION.jar not resolved"
    rm -rf "$KAFKA_LIB"
    mv "$KAFKA_LIB.tmp" "$KAFKA_LIB"
    need_javac
    "$(java_bin javac)" -nowarn --release 17 -cp "$KAFKA_LIB/*" -d "$LIB/tools" "$SCRIPT_DIR/tools/KafkaReady.java"
    touch "$marker"
    log "kafka: installed $(ls "$KAFKA_LIB" | wc -l) jars in $(($(now) - t0))s"
}

kafka_config() {
    mkdir -p "$CONF/kafka" "$DATA/kafka" "$LOGS"
    cat >"$CONF/kafka/server.properties" <<EOF
# generated by deploy/local/stack.sh on every 'up'
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA/kafka
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=8388608
replica.fetch.max.bytes=8388608
log.retention.hours=168
log.segment.bytes=268435456
num.network.threads=2
num.io.threads=4
EOF
    cat >"$CONF/kafka/log4j2.properties" <<'EOF'
# generated by deploy/local/stack.sh: everything to stdout (= logs/kafka.log)
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
}

kafka_java() { # main-class args...
    "$(java_bin java)" -Xms64m -Xmx256m -XX:+UseSerialGC -Dlog4j2.configurationFile="$CONF/kafka/log4j2.properties" \
        -cp "$KAFKA_LIB/*" "$@"
}

kafka_format() {
    [[ -f $DATA/kafka/meta.properties ]] && return 0
    local id
    id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    [[ -n $id ]] || die "kafka: could not generate a cluster id"
    log "kafka: formatting $DATA/kafka (cluster id $id)"
    kafka_java kafka.tools.StorageTool format -t "$id" -c "$CONF/kafka/server.properties" >>"$LOGS/kafka.log" 2>&1 ||
        { fail_with_log kafka "$LOGS/kafka.log" "storage format failed"; exit 1; }
}

kafka_healthy() {
    port_open "$KAFKA_PORT" || return 1
    "$(java_bin java)" -Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -cp "$LIB/tools:$KAFKA_LIB/*" KafkaReady "$HOST:$KAFKA_PORT" >/dev/null 2>&1
}

kafka_prepare() {
    kafka_config
    kafka_format
}

kafka_start() {
    start_bg kafka "$LOGS/kafka.log" "$STACK_DIR" "$(java_bin java)" \
        -Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$CONF/kafka/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
        -cp "$KAFKA_LIB/*" kafka.Kafka "$CONF/kafka/server.properties"
}

# ---------------------------------------------------------------- Elasticsearch

# ES paths live under ES_ROOT, normally the stack dir. When running as root and the ES user cannot
# reach the stack dir (e.g. a checkout under /root), they move to /var/lib/newsflow-es/<hash> and the
# usual places under the stack dir become symlinks.
ES_ROOT=$STACK_DIR
es_run_as_other() { [[ $(id -u) -eq 0 ]]; }

es_paths() {
    ES_HOME=$ES_ROOT/lib/elasticsearch-$ES_VERSION
    ES_CONF=$ES_ROOT/conf/es
    ES_DATA=$ES_ROOT/data/es
    ES_LOGDIR=$ES_ROOT/logs/es
    ES_TMP=$ES_ROOT/tmp/es
}

es_as_user() { # cmd... (as the ES user when root)
    if es_run_as_other; then
        setpriv --reuid="$ES_USER" --regid="$ES_USER" --init-groups "$@"
    else
        "$@"
    fi
}

es_prepare_user() {
    es_run_as_other || return 0
    need setpriv util-linux
    if ! id -u "$ES_USER" >/dev/null 2>&1; then
        log "es: creating system user $ES_USER (Elasticsearch refuses to run as root)"
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER"
    fi
    if ! es_as_user test -x "$STACK_DIR" 2>/dev/null; then
        ES_ROOT=/var/lib/newsflow-es/$(printf '%s' "$STACK_DIR" | sha1sum | cut -c1-12)
        mkdir -p "$ES_ROOT"
        chmod 755 /var/lib/newsflow-es "$ES_ROOT"
    fi
}

es_link() { # real link: make `link` (under the stack dir) point to `real` (under ES_ROOT)
    [[ $ES_ROOT == "$STACK_DIR" ]] && return 0
    mkdir -p "$(dirname "$2")"
    [[ -L $2 || ! -e $2 ]] && ln -sfn "$1" "$2"
}

es_install() {
    es_prepare_user
    es_paths
    local marker=$ES_HOME/.installed
    if [[ -f $marker ]]; then
        es_plugin_build
        return 0
    fi
    local t0 zip
    t0=$(now)
    mkdir -p "$BUILD/es" "$ES_ROOT/lib"
    log "es: fetching org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip from Maven Central"
    mvn_run es dependency:copy "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
        -DoutputDirectory="$BUILD/es" -Dmdep.overWriteReleases=true
    zip=$BUILD/es/elasticsearch-$ES_VERSION.zip
    [[ -f $zip ]] || die "es: $zip not downloaded"
    rm -rf "$ES_HOME" "$ES_HOME.tmp"
    mkdir -p "$ES_HOME.tmp"
    if command -v unzip >/dev/null; then
        unzip -q "$zip" -d "$ES_HOME.tmp"
    else
        (cd "$ES_HOME.tmp" && "$(java_bin jar)" xf "$zip")
    fi
    mv "$ES_HOME.tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
    rm -rf "$ES_HOME.tmp"
    chmod -R a+rX "$ES_HOME"
    chmod a+x "$ES_HOME"/bin/* "$ES_HOME"/lib/platform/*/* 2>/dev/null || true

    es_plugin_build
    touch "$marker"
    es_link "$ES_HOME" "$LIB/elasticsearch-$ES_VERSION"
    log "es: installed Elasticsearch $ES_VERSION (+ newsflow-local plugin) in $(($(now) - t0))s"
}

# The newsflow-local plugin (deploy/local/es-plugin): GET / banner (the rest-root module) and the
# analysis-common components. Rebuilt whenever its sources change (takes effect at the next ES start).
es_plugin_build() {
    local plugdir=$ES_HOME/plugins/newsflow-local classes=$BUILD/es/plugin-classes sum
    sum=$( (cd "$SCRIPT_DIR/es-plugin" && find . -type f | sort | xargs sha1sum; echo "$ES_VERSION") | sha1sum | cut -c1-40)
    [[ -f $plugdir/.src-sha1 && $(<"$plugdir/.src-sha1") == "$sum" ]] && return 0
    need_javac
    rm -rf "$classes"
    mkdir -p "$classes" "$plugdir"
    "$(java_bin javac)" -nowarn --release 17 -cp "$ES_HOME/lib/*" -d "$classes" \
        $(find "$SCRIPT_DIR/es-plugin/src" -name '*.java' | sort)
    "$(java_bin jar)" cf "$plugdir/newsflow-local.jar" -C "$classes" .
    sed "s/@ES_VERSION@/$ES_VERSION/g" "$SCRIPT_DIR/es-plugin/plugin-descriptor.properties.in" >"$plugdir/plugin-descriptor.properties"
    echo "$sum" >"$plugdir/.src-sha1"
    chmod -R a+rX "$plugdir"
    if [[ -n $(pid_of es) ]]; then
        log "es: rebuilt the newsflow-local plugin; it takes effect after 'stack.sh down es && stack.sh up es'"
    else
        log "es: built the newsflow-local plugin"
    fi
}

es_config() {
    mkdir -p "$ES_CONF/jvm.options.d" "$ES_DATA" "$ES_LOGDIR" "$ES_TMP" "$LOGS"
    local f
    for f in log4j2.properties roles.yml role_mapping.yml users users_roles; do
        [[ -e $ES_CONF/$f || ! -e $ES_HOME/config/$f ]] || cp "$ES_HOME/config/$f" "$ES_CONF/$f"
    done
    sed -e "s#file=gc.log#file=$ES_LOGDIR/gc.log#" -e 's#filecount=32,filesize=64m#filecount=4,filesize=16m#' \
        -e "s#-XX:ErrorFile=hs_err#-XX:ErrorFile=$ES_LOGDIR/hs_err#" \
        "$ES_HOME/config/jvm.options" >"$ES_CONF/jvm.options"
    printf '%s\n' "-Xms$ES_HEAP" "-Xmx$ES_HEAP" "-XX:HeapDumpPath=$ES_TMP" >"$ES_CONF/jvm.options.d/newsflow.options"
    cat >"$ES_CONF/elasticsearch.yml" <<EOF
# generated by deploy/local/stack.sh on every 'up'
cluster.name: newsflow-local
node.name: newsflow-es
path.data: $ES_DATA
path.logs: $ES_LOGDIR
network.host: $HOST
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
discovery.type: single-node
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
    if es_run_as_other; then
        chown -R "$ES_USER:$ES_USER" "$ES_CONF" "$ES_DATA" "$ES_LOGDIR" "$ES_TMP"
    fi
    es_link "$ES_CONF" "$CONF/es"
    es_link "$ES_DATA" "$DATA/es"
    es_link "$ES_LOGDIR" "$LOGS/es"
}

es_healthy() {
    curl -sf -m 3 "http://$HOST:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1 &&
        curl -sf -m 3 "http://$HOST:$ES_PORT/" 2>/dev/null | grep -q '"tagline" : "You Know, for Search"'
}

es_prepare() {
    es_config
}

es_start() {
    local cmd=("$ES_HOME/bin/elasticsearch")
    if es_run_as_other; then
        cmd=(setpriv --reuid="$ES_USER" --regid="$ES_USER" --init-groups "${cmd[@]}")
    fi
    ES_JAVA_HOME=$(dirname "$(dirname "$(java_bin java)")") ES_PATH_CONF=$ES_CONF ES_TMPDIR=$ES_TMP \
        ES_JAVA_OPTS=${NEWSFLOW_STACK_ES_JAVA_OPTS:-} JAVA_HOME= \
        start_bg es "$LOGS/es.log" "$ES_HOME" "${cmd[@]}"
}

# ---------------------------------------------------------------- dispatch

svc_install() { "${1}_install"; }
svc_port() {
    case $1 in
    nats) echo "$NATS_PORT" ;;
    kafka) echo "$KAFKA_PORT" ;;
    es) echo "$ES_PORT" ;;
    esac
}
svc_timeout() {
    case $1 in
    nats) echo "$NATS_TIMEOUT" ;;
    kafka) echo "$KAFKA_TIMEOUT" ;;
    es) echo "$ES_TIMEOUT" ;;
    esac
}
svc_ports() {
    case $1 in
    nats) echo "$NATS_PORT $NATS_MONITOR_PORT" ;;
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    es) echo "$ES_PORT $ES_TRANSPORT_PORT" ;;
    esac
}

parse_services() { # args... -> SERVICES array
    SERVICES=()
    if [[ $# -eq 0 ]]; then
        SERVICES=("${ALL_SERVICES[@]}")
        return
    fi
    local s
    for s in "$@"; do
        case $s in
        nats | kafka | es) SERVICES+=("$s") ;;
        elasticsearch) SERVICES+=(es) ;;
        *) die "unknown service '$s' (expected: ${ALL_SERVICES[*]})" ;;
        esac
    done
}

# Per-service lock (run/<svc>.lock) around install/start/stop, so concurrent stack.sh calls on
# different services don't wait for each other; health waits run unlocked.
LOCK_FD=
lock_svc() { # svc
    mkdir -p "$RUN"
    exec {LOCK_FD}>"$RUN/$1.lock"
    if ! flock -n "$LOCK_FD"; then
        log "$1: another stack.sh is working on it; waiting"
        flock "$LOCK_FD"
    fi
}
unlock_svc() {
    [[ -n $LOCK_FD ]] && exec {LOCK_FD}>&-
    LOCK_FD=
}

cmd_install() {
    parse_services "$@"
    local s
    for s in "${SERVICES[@]}"; do
        lock_svc "$s"
        svc_install "$s"
        unlock_svc
    done
}

cmd_up() {
    parse_services "$@"
    need curl
    mkdir -p "$BIN" "$LIB" "$CONF" "$DATA" "$LOGS" "$RUN"
    local s p pid rc=0 pending=() still=()
    declare -A T0
    for s in "${SERVICES[@]}"; do
        lock_svc "$s"
        svc_install "$s"
        unlock_svc
    done
    for s in "${SERVICES[@]}"; do
        lock_svc "$s"
        if [[ -n $(pid_of "$s") ]]; then
            if "${s}_healthy"; then
                echo "$s: already up (pid $(pid_of "$s"), port $(svc_port "$s"))"
            else
                pending+=("$s") # running but not healthy (yet): wait for it below
                T0[$s]=$(now)
            fi
            unlock_svc
            continue
        fi
        for p in $(svc_ports "$s"); do
            if port_open "$p"; then
                die "$s: port $HOST:$p is already in use by a process this stack did not start (no live pid in $RUN/$s.pid; another checkout's stack or an embedded server?); stop it or choose other ports (NEWSFLOW_STACK_${s^^}_PORT, ...)"
            fi
        done
        "${s}_prepare"
        T0[$s]=$(now)
        "${s}_start"
        unlock_svc
        pending+=("$s")
    done
    # wait for all started services together
    while [[ ${#pending[@]} -gt 0 ]]; do
        still=()
        for s in "${pending[@]}"; do
            pid=$(pid_of "$s")
            if [[ -z $pid ]]; then
                fail_with_log "$s" "$LOGS/$s.log" "process exited during startup"
                rc=1
            elif "${s}_healthy"; then
                echo "$s: up in $(($(now) - T0[$s]))s (pid $pid, port $(svc_port "$s"))"
            elif (($(now) - T0[$s] >= $(svc_timeout "$s"))); then
                fail_with_log "$s" "$LOGS/$s.log" "not healthy after $(svc_timeout "$s")s; stopping it"
                stop_svc "$s" >/dev/null || true
                rc=1
            else
                still+=("$s")
            fi
        done
        pending=("${still[@]}")
        [[ ${#pending[@]} -gt 0 ]] && sleep 1
    done
    return $rc
}

cmd_down() {
    parse_services "$@"
    local s i
    # reverse order: es, kafka, nats
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        s=${SERVICES[$i]}
        lock_svc "$s"
        stop_svc "$s"
        unlock_svc
    done
}

cmd_status() {
    local s pid state detail
    es_paths
    for s in "${ALL_SERVICES[@]}"; do
        pid=$(pid_of "$s")
        if [[ -z $pid ]]; then
            state=down
            detail=""
            port_open "$(svc_port "$s")" && detail=" (port $(svc_port "$s") is in use by another process)"
            printf '%-6s down%s\n' "$s" "$detail"
            continue
        fi
        if "${s}_healthy"; then state=up; else state=starting/unhealthy; fi
        case $s in
        nats) detail="nats://$HOST:$NATS_PORT monitor http://$HOST:$NATS_MONITOR_PORT" ;;
        kafka) detail="$HOST:$KAFKA_PORT controller $HOST:$KAFKA_CONTROLLER_PORT" ;;
        es) detail="http://$HOST:$ES_PORT" ;;
        esac
        printf '%-6s %s pid %s port %s %s\n' "$s" "$state" "$pid" "$(svc_port "$s")" "$detail"
    done
}

cmd_env() {
    echo "export NEWSFLOW_NATS_URL=nats://$HOST:$NATS_PORT NEWSFLOW_KAFKA_BROKERS=$HOST:$KAFKA_PORT NEWSFLOW_ES_URL=http://$HOST:$ES_PORT"
}

cmd_logs() {
    [[ $# -eq 1 ]] || die "usage: stack.sh logs nats|kafka|es"
    parse_services "$1"
    tail -n 100 -F "$LOGS/${SERVICES[0]}.log"
}

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    install) cmd_install "$@" ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

# Sourcing this file (`source deploy/local/stack.sh`) defines its functions and settings without
# running a command, so other scripts (secured servers, clusters) reuse the installers.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
