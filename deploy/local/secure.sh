#!/usr/bin/env bash
# deploy/local/secure.sh — newsflow's servers with security on, on loopback, next to (never
# instead of) the dev stack of stack.sh: other ports, its own data dir, the same installers.
#   certs       a private CA, a server certificate for 127.0.0.1/localhost, a client certificate
#               (openssl, generated on the first 'up'; 'certs' regenerates them)
#   nats        nats-server: TLS, an account with a user/password and an NKey user, JetStream
#   nats-mtls   nats-server: TLS with client certificates required (mTLS) and a token, JetStream
#   kafka       Kafka KRaft: a SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; client
#               certificate optional) next to the plaintext one
#   es          Elasticsearch with security on (HTTPS, a user, an API key) — see docs/security.md
#
# Usage: secure.sh up [svc...] | down [svc...] | status | env | certs
#        svc ∈ nats nats-mtls kafka es (default: nats nats-mtls kafka, plus es when
#        NEWSFLOW_SECURE_ES=1)
# Everything lives under $NEWSFLOW_SECURE_DIR (default <repo>/.stack/secure): certs/ secrets/
# conf/ data/<svc>/ logs/<svc>.log run/<svc>.pid. Binaries and jars are shared with stack.sh.
# `secure.sh env` prints the NEWSFLOW_TEST_SECURE_* variables the secured-server tests read.
set -euo pipefail

SECURE_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack.sh
source "$SECURE_SCRIPT_DIR/stack.sh"

SECURE_DIR=${NEWSFLOW_SECURE_DIR:-$STACK_DIR/secure}
mkdir -p "$SECURE_DIR"
SECURE_DIR=$(cd "$SECURE_DIR" && pwd)
# stack.sh's process helpers (start_bg, pid_of, stop_svc, fail_with_log) use these:
CONF=$SECURE_DIR/conf
DATA=$SECURE_DIR/data
LOGS=$SECURE_DIR/logs
RUN=$SECURE_DIR/run
CERTS=$SECURE_DIR/certs
SECRETS=$SECURE_DIR/secrets

S_NATS_PORT=${NEWSFLOW_SECURE_NATS_PORT:-4322}
S_NATS_MONITOR_PORT=${NEWSFLOW_SECURE_NATS_MONITOR_PORT:-8322}
S_NATS_MTLS_PORT=${NEWSFLOW_SECURE_NATS_MTLS_PORT:-4323}
S_NATS_MTLS_MONITOR_PORT=${NEWSFLOW_SECURE_NATS_MTLS_MONITOR_PORT:-8323}
S_KAFKA_PORT=${NEWSFLOW_SECURE_KAFKA_PORT:-9392}
S_KAFKA_CONTROLLER_PORT=${NEWSFLOW_SECURE_KAFKA_CONTROLLER_PORT:-9393}
S_KAFKA_SASL_PORT=${NEWSFLOW_SECURE_KAFKA_SASL_PORT:-9394}
S_ES_PORT=${NEWSFLOW_SECURE_ES_PORT:-9250}
S_ES_TRANSPORT_PORT=${NEWSFLOW_SECURE_ES_TRANSPORT_PORT:-9350}
S_KAFKA_HEAP=${NEWSFLOW_SECURE_KAFKA_HEAP:-512m}

# pid_of: stack.sh's, plus the second nats-server
pid_of_stack() { :; }
eval "$(declare -f pid_of | sed '1s/pid_of/pid_of_stack/')"
pid_of() {
    if [[ $1 == nats-mtls ]]; then
        local f=$RUN/$1.pid pid
        [[ -s $f ]] || return 0
        pid=$(<"$f")
        [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- nats-server; then echo "$pid"; fi
        return 0
    fi
    pid_of_stack "$@"
}

slog() { printf '%s\n' "secure: $*" >&2; }

# ---------------------------------------------------------------- certificates and secrets

secret() { # name -> the secret's value, created (random) on first use
    local f=$SECRETS/$1
    if [[ ! -s $f ]]; then
        mkdir -p "$SECRETS"
        chmod 700 "$SECRETS"
        (umask 077 && openssl rand -hex 24 >"$f")
    fi
    cat "$f"
}

certs_make() { # force: regenerate
    need openssl
    if [[ ${1:-} != force && -s $CERTS/client.pem && -s $CERTS/server.p12 ]]; then return 0; fi
    rm -rf "$CERTS.tmp"
    mkdir -p "$CERTS.tmp"
    (
        cd "$CERTS.tmp"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=newsflow test CA" \
            -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        # a second CA nobody trusts (the untrusted-certificate tests)
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=newsflow other CA" \
            -keyout other-ca.key -out other-ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
        printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth,clientAuth" \
            "keyUsage=critical,digitalSignature,keyEncipherment" >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
            -extfile server.ext -out server.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=newsflow-client" -keyout client.key -out client.csr 2>/dev/null
        printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=critical,digitalSignature,keyEncipherment" >client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
            -extfile client.ext -out client.pem 2>/dev/null
        # Kafka and Elasticsearch read a PKCS#12 keystore
        openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name server \
            -passout "pass:$(secret keystore)" -out server.p12
        rm -f ./*.csr ./*.ext ./*.srl
        chmod 644 ./*.pem ./*.p12 ./*.key # the ES user reads them (they are test certificates)
    )
    rm -rf "$CERTS"
    mv "$CERTS.tmp" "$CERTS"
    slog "certificates in $CERTS (CA $CERTS/ca.pem)"
}

nkey_user() { # -> writes secrets/nkey.seed and secrets/nkey.pub once
    if [[ -s $SECRETS/nkey.seed && -s $SECRETS/nkey.pub ]]; then return 0; fi
    local nk=$BIN/nk go
    if [[ ! -x $nk ]]; then
        go=$(find_go) || die "nats: Go is needed to build the nk tool"
        mkdir -p "$BIN" "$BUILD"
        (cd "$BUILD" && GOWORK=off CGO_ENABLED=0 GOBIN="$BIN" "$go" install github.com/nats-io/nkeys/nk@v0.4.16)
    fi
    mkdir -p "$SECRETS"
    (umask 077 && "$nk" -gen user >"$SECRETS/nkey.seed")
    "$nk" -inkey "$SECRETS/nkey.seed" -pubout >"$SECRETS/nkey.pub"
}

# ---------------------------------------------------------------- NATS (two servers)

snats_healthy() { curl -sf -m 3 "http://$HOST:$1/healthz?js-enabled-only=true" >/dev/null 2>&1; }

snats_start() { # svc port monitor-port
    local svc=$1 port=$2 mon=$3 conf=$CONF/$1.conf
    mkdir -p "$CONF" "$DATA/$svc" "$LOGS" "$RUN"
    {
        echo "# generated by deploy/local/secure.sh on every 'up'"
        echo "server_name: newsflow-$svc"
        echo "listen: $HOST:$port"
        echo "http: $HOST:$mon"
        echo "jetstream { store_dir: \"$DATA/$svc\", max_memory_store: 1GB, max_file_store: 1TB }"
        if [[ $svc == nats ]]; then
            cat <<EOF
tls { cert_file: "$CERTS/server.pem", key_file: "$CERTS/server.key", ca_file: "$CERTS/ca.pem", timeout: 5 }
accounts {
  NEWSFLOW {
    jetstream: enabled
    users: [
      { user: newsflow, password: "$(secret nats-password)" }
      { nkey: $(<"$SECRETS/nkey.pub") }
    ]
  }
}
EOF
        else
            cat <<EOF
tls { cert_file: "$CERTS/server.pem", key_file: "$CERTS/server.key", ca_file: "$CERTS/ca.pem", verify: true, timeout: 5 }
authorization { token: "$(secret nats-token)" }
EOF
        fi
    } >"$conf"
    chmod 600 "$conf"
    start_bg "$svc" "$LOGS/$svc.log" "$SECURE_DIR" "$BIN/nats-server" -c "$conf"
}

# ---------------------------------------------------------------- Kafka

skafka_config() {
    mkdir -p "$CONF/kafka" "$DATA/kafka" "$LOGS"
    local pw
    pw=$(secret keystore)
    (
        umask 077
        cat >"$CONF/kafka/server.properties" <<EOF
# generated by deploy/local/secure.sh on every 'up'
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$S_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$S_KAFKA_PORT,SASL_SSL://$HOST:$S_KAFKA_SASL_PORT,CONTROLLER://$HOST:$S_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$S_KAFKA_PORT,SASL_SSL://$HOST:$S_KAFKA_SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_newsflow-plain="$(secret kafka-plain-password)";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$CERTS/server.p12
ssl.keystore.password=$pw
ssl.key.password=$pw
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS/ca.pem
ssl.client.auth=requested
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
log.retention.hours=24
num.network.threads=2
num.io.threads=2
EOF
    )
    sed -e 's/rootLogger.level = INFO/rootLogger.level = WARN/' <<'EOF' >"$CONF/kafka/log4j2.properties"
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
EOF
}

skafka_format() {
    # The SCRAM users are created at format time; a data dir formatted with other passwords
    # (secrets/ deleted) is formatted again.
    local stamp
    stamp=$(printf '%s' "$(secret kafka-scram-password)" | sha1sum | cut -c1-12)
    if [[ -f $DATA/kafka/meta.properties && -f $DATA/kafka/.scram-$stamp ]]; then return 0; fi
    rm -rf "$DATA/kafka"
    mkdir -p "$DATA/kafka"
    local id pw
    pw=$(secret kafka-scram-password)
    id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    slog "kafka: formatting $DATA/kafka with SCRAM users"
    kafka_java kafka.tools.StorageTool format -t "$id" -c "$CONF/kafka/server.properties" \
        --add-scram "SCRAM-SHA-512=[name=newsflow-scram,password=$pw]" \
        --add-scram "SCRAM-SHA-256=[name=newsflow-scram,password=$pw]" >>"$LOGS/kafka.log" 2>&1 ||
        { fail_with_log kafka "$LOGS/kafka.log" "storage format failed"; exit 1; }
    touch "$DATA/kafka/.scram-$stamp"
}

skafka_start() {
    start_bg kafka "$LOGS/kafka.log" "$SECURE_DIR" "$(java_bin java)" \
        -Xms128m "-Xmx$S_KAFKA_HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$CONF/kafka/log4j2.properties" -Dkafka.logs.dir="$LOGS" \
        -cp "$KAFKA_LIB/*" kafka.Kafka "$CONF/kafka/server.properties"
}

skafka_healthy() {
    port_open "$S_KAFKA_SASL_PORT" || return 1
    "$(java_bin java)" -Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -cp "$LIB/tools:$KAFKA_LIB/*" KafkaReady "$HOST:$S_KAFKA_PORT" >/dev/null 2>&1
}

# ---------------------------------------------------------------- Elasticsearch

# The integ-test-zip distribution stack.sh installs already carries the x-pack-core and
# x-pack-security modules (stack.sh turns them off); here they are on: HTTPS with the test CA,
# the file realm (a superuser made with elasticsearch-users) and API keys.
S_ES_HEAP=${NEWSFLOW_SECURE_ES_HEAP:-512m}
S_ES_USER=newsflow

ses_install() {
    es_install # the distribution, installed by stack.sh (shared, read-only here)
    ses_paths
    local src=$ES_HOME sum plugdir classes=$SECURE_DIR/build/es-plugin
    # The node gets its own copy of the distribution: its extra plugin must not appear in (or be
    # rebuilt under) the dev stack's running node.
    if [[ ! -f $S_ES_HOME/.installed ]]; then
        rm -rf "$S_ES_HOME"
        mkdir -p "$(dirname "$S_ES_HOME")"
        cp -a "$src" "$S_ES_HOME"
    fi
    plugdir=$S_ES_HOME/plugins/newsflow-secure
    sum=$( (cd "$SECURE_SCRIPT_DIR/es-secure-plugin" && find . -type f | sort | xargs sha1sum; echo "$ES_VERSION") | sha1sum | cut -c1-40)
    [[ -f $plugdir/.src-sha1 && $(<"$plugdir/.src-sha1") == "$sum" ]] && return 0
    need_javac
    rm -rf "$classes"
    mkdir -p "$classes" "$plugdir"
    "$(java_bin javac)" -nowarn --release 17 -cp "$S_ES_HOME/lib/*" -d "$classes" \
        $(find "$SECURE_SCRIPT_DIR/es-secure-plugin/src" -name '*.java' | sort)
    "$(java_bin jar)" cf "$plugdir/newsflow-secure.jar" -C "$classes" .
    sed "s/@ES_VERSION@/$ES_VERSION/g" "$SECURE_SCRIPT_DIR/es-secure-plugin/plugin-descriptor.properties.in" >"$plugdir/plugin-descriptor.properties"
    echo "$sum" >"$plugdir/.src-sha1"
    chmod -R a+rX "$S_ES_HOME"
    slog "es: built the newsflow-secure plugin"
}

ses_paths() {
    es_prepare_user
    es_paths
    S_ES_HOME=$SECURE_DIR/lib/elasticsearch-$ES_VERSION
    S_ES_CONF=$SECURE_DIR/conf/es
    S_ES_DATA=$DATA/es
    S_ES_LOGDIR=$LOGS/es
    S_ES_TMP=$SECURE_DIR/tmp/es
}

ses_curl() { # path [curl args...] (as the superuser)
    local path=$1
    shift
    curl -sS -m 10 --cacert "$CERTS/ca.pem" -u "$S_ES_USER:$(secret es-password)" "$@" "https://$HOST:$S_ES_PORT$path"
}

ses_config() {
    ses_paths
    mkdir -p "$S_ES_CONF/jvm.options.d" "$S_ES_CONF/certs" "$S_ES_DATA" "$S_ES_LOGDIR" "$S_ES_TMP" "$LOGS"
    local f
    for f in log4j2.properties roles.yml role_mapping.yml users users_roles; do
        [[ -e $S_ES_CONF/$f ]] || cp "$S_ES_HOME/config/$f" "$S_ES_CONF/$f"
    done
    cp "$CERTS/ca.pem" "$CERTS/server.pem" "$CERTS/server.key" "$S_ES_CONF/certs/"
    sed -e "s#file=gc.log#file=$S_ES_LOGDIR/gc.log#" -e 's#filecount=32,filesize=64m#filecount=2,filesize=16m#' \
        -e "s#-XX:ErrorFile=hs_err#-XX:ErrorFile=$S_ES_LOGDIR/hs_err#" \
        "$S_ES_HOME/config/jvm.options" >"$S_ES_CONF/jvm.options"
    printf '%s\n' "-Xms$S_ES_HEAP" "-Xmx$S_ES_HEAP" "-XX:HeapDumpPath=$S_ES_TMP" >"$S_ES_CONF/jvm.options.d/newsflow.options"
    cat >"$S_ES_CONF/elasticsearch.yml" <<EOF
# generated by deploy/local/secure.sh on every 'up'
cluster.name: newsflow-secure
node.name: newsflow-es-secure
path.data: $S_ES_DATA
path.logs: $S_ES_LOGDIR
network.host: $HOST
http.port: $S_ES_PORT
transport.port: $S_ES_TRANSPORT_PORT
discovery.type: single-node
xpack.security.enabled: true
xpack.security.authc.api_key.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.key: certs/server.key
xpack.security.http.ssl.certificate: certs/server.pem
xpack.security.http.ssl.certificate_authorities: certs/ca.pem
xpack.security.http.ssl.client_authentication: optional
xpack.security.transport.ssl.enabled: true
xpack.security.transport.ssl.verification_mode: certificate
xpack.security.transport.ssl.key: certs/server.key
xpack.security.transport.ssl.certificate: certs/server.pem
xpack.security.transport.ssl.certificate_authorities: certs/ca.pem
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
EOF
    if es_run_as_other; then
        chown -R "$ES_USER:$ES_USER" "$S_ES_CONF" "$S_ES_DATA" "$S_ES_LOGDIR" "$S_ES_TMP"
    fi
    # the superuser of the file realm (its password from secrets/es-password)
    local env=(env ES_JAVA_HOME="$(dirname "$(dirname "$(java_bin java)")")" ES_PATH_CONF="$S_ES_CONF" JAVA_HOME=)
    es_as_user "${env[@]}" "$S_ES_HOME/bin/elasticsearch-users" userdel "$S_ES_USER" >/dev/null 2>&1 || true
    es_as_user "${env[@]}" "$S_ES_HOME/bin/elasticsearch-users" useradd "$S_ES_USER" -p "$(secret es-password)" -r superuser >>"$LOGS/es.log" 2>&1 ||
        { fail_with_log es "$LOGS/es.log" "elasticsearch-users useradd failed"; exit 1; }
}

ses_start() {
    ses_config
    local cmd=("$S_ES_HOME/bin/elasticsearch")
    if es_run_as_other; then
        cmd=(setpriv --reuid="$ES_USER" --regid="$ES_USER" --init-groups "${cmd[@]}")
    fi
    ES_JAVA_HOME=$(dirname "$(dirname "$(java_bin java)")") ES_PATH_CONF=$S_ES_CONF ES_TMPDIR=$S_ES_TMP \
        ES_JAVA_OPTS=${NEWSFLOW_SECURE_ES_JAVA_OPTS:-} JAVA_HOME= \
        start_bg es "$LOGS/es.log" "$S_ES_HOME" "${cmd[@]}"
}

# ses_healthy: the superuser is let in over HTTPS, the cluster is yellow, and an API key exists
# (secrets/es-api-key: the encoded key; secrets/es-api-key-id and es-api-key-secret: id and key).
ses_healthy() {
    ses_curl "/_cluster/health?wait_for_status=yellow&timeout=2s" -f >/dev/null 2>&1 || return 1
    if [[ -s $SECRETS/es-api-key ]] &&
        curl -sf -m 5 --cacert "$CERTS/ca.pem" -H "Authorization: ApiKey $(<"$SECRETS/es-api-key")" \
            "https://$HOST:$S_ES_PORT/_security/_authenticate" >/dev/null 2>&1; then
        return 0
    fi
    local out
    out=$(ses_curl /_security/api_key -f -X POST -H 'Content-Type: application/json' -d '{"name":"newsflow-test"}' 2>/dev/null) || return 1
    (
        umask 077
        sed -n 's/.*"encoded" *: *"\([^"]*\)".*/\1/p' <<<"$out" >"$SECRETS/es-api-key"
        sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' <<<"$out" >"$SECRETS/es-api-key-id"
        sed -n 's/.*"api_key" *: *"\([^"]*\)".*/\1/p' <<<"$out" >"$SECRETS/es-api-key-secret"
    )
    [[ -s $SECRETS/es-api-key ]]
}

ses_env() { # prefix
    echo "export ${1}_ES_URL=https://$HOST:$S_ES_PORT ${1}_ES_USERNAME=$S_ES_USER ${1}_ES_PASSWORD_FILE=$SECRETS/es-password ${1}_ES_API_KEY_FILE=$SECRETS/es-api-key ${1}_ES_API_KEY_ID_FILE=$SECRETS/es-api-key-id ${1}_ES_API_KEY_SECRET_FILE=$SECRETS/es-api-key-secret"
}

# ---------------------------------------------------------------- dispatch

s_healthy() {
    case $1 in
    nats) snats_healthy "$S_NATS_MONITOR_PORT" ;;
    nats-mtls) snats_healthy "$S_NATS_MTLS_MONITOR_PORT" ;;
    kafka) skafka_healthy ;;
    es) ses_healthy ;;
    esac
}
s_ports() {
    case $1 in
    nats) echo "$S_NATS_PORT $S_NATS_MONITOR_PORT" ;;
    nats-mtls) echo "$S_NATS_MTLS_PORT $S_NATS_MTLS_MONITOR_PORT" ;;
    kafka) echo "$S_KAFKA_PORT $S_KAFKA_SASL_PORT $S_KAFKA_CONTROLLER_PORT" ;;
    es) echo "$S_ES_PORT $S_ES_TRANSPORT_PORT" ;;
    esac
}
s_timeout() {
    case $1 in
    nats | nats-mtls) echo "$NATS_TIMEOUT" ;;
    kafka) echo "$KAFKA_TIMEOUT" ;;
    es) echo "${NEWSFLOW_SECURE_ES_TIMEOUT:-900}" ;;
    esac
}
s_install() {
    case $1 in
    nats | nats-mtls) nats_install ;;
    kafka) kafka_install ;;
    es) ses_install ;;
    esac
}
s_start() {
    case $1 in
    nats)
        nkey_user
        snats_start nats "$S_NATS_PORT" "$S_NATS_MONITOR_PORT"
        ;;
    nats-mtls) snats_start nats-mtls "$S_NATS_MTLS_PORT" "$S_NATS_MTLS_MONITOR_PORT" ;;
    kafka)
        skafka_config
        skafka_format
        skafka_start
        ;;
    es) ses_start ;;
    esac
}

s_services() { # args -> SERVICES
    SERVICES=()
    if [[ $# -eq 0 ]]; then
        SERVICES=(nats nats-mtls kafka)
        [[ ${NEWSFLOW_SECURE_ES:-0} == 1 ]] && SERVICES+=(es)
        return 0
    fi
    local s
    for s in "$@"; do
        case $s in
        nats | nats-mtls | kafka | es) SERVICES+=("$s") ;;
        *) die "unknown service '$s' (expected: nats nats-mtls kafka es)" ;;
        esac
    done
}

secure_up() {
    s_services "$@"
    need curl
    mkdir -p "$CONF" "$DATA" "$LOGS" "$RUN"
    local s p pid rc=0 pending=() still=()
    declare -A T0
    for s in "${SERVICES[@]}"; do
        lock_svc "$s"
        s_install "$s"
        unlock_svc
    done
    certs_make
    for s in "${SERVICES[@]}"; do
        lock_svc "$s"
        if [[ -n $(pid_of "$s") ]]; then
            pending+=("$s")
            T0[$s]=$(now)
            unlock_svc
            continue
        fi
        for p in $(s_ports "$s"); do
            port_open "$p" && die "$s: port $HOST:$p is in use by a process this script did not start; choose other ports (NEWSFLOW_SECURE_*_PORT)"
        done
        s_start "$s"
        T0[$s]=$(now)
        unlock_svc
        pending+=("$s")
    done
    while [[ ${#pending[@]} -gt 0 ]]; do
        still=()
        for s in "${pending[@]}"; do
            pid=$(pid_of "$s")
            if [[ -z $pid ]]; then
                fail_with_log "$s" "$LOGS/$s.log" "process exited during startup"
                rc=1
            elif s_healthy "$s"; then
                echo "secure $s: up in $(($(now) - T0[$s]))s (pid $pid, ports $(s_ports "$s"))"
            elif (($(now) - T0[$s] >= $(s_timeout "$s"))); then
                fail_with_log "$s" "$LOGS/$s.log" "not healthy after $(s_timeout "$s")s; stopping it"
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

secure_down() {
    s_services "$@"
    [[ $# -eq 0 ]] && SERVICES=(nats nats-mtls kafka es)
    local s
    for s in "${SERVICES[@]}"; do
        lock_svc "$s"
        stop_svc "$s" | sed 's/^/secure /'
        unlock_svc
    done
}

secure_status() {
    local s pid
    for s in nats nats-mtls kafka es; do
        pid=$(pid_of "$s")
        if [[ -z $pid ]]; then
            printf '%-9s down\n' "$s"
        elif s_healthy "$s"; then
            printf '%-9s up pid %s ports %s\n' "$s" "$pid" "$(s_ports "$s")"
        else
            printf '%-9s starting/unhealthy pid %s\n' "$s" "$pid"
        fi
    done
}

# secure_env prints the variables of the secured-server tests (secrets as files: *_FILE).
secure_env() {
    local p=NEWSFLOW_TEST_SECURE
    echo "export ${p}_CA_FILE=$CERTS/ca.pem ${p}_OTHER_CA_FILE=$CERTS/other-ca.pem ${p}_CLIENT_CERT_FILE=$CERTS/client.pem ${p}_CLIENT_KEY_FILE=$CERTS/client.key"
    echo "export ${p}_NATS_URL=tls://$HOST:$S_NATS_PORT ${p}_NATS_USER=newsflow ${p}_NATS_PASSWORD_FILE=$SECRETS/nats-password ${p}_NATS_NKEY_SEED_FILE=$SECRETS/nkey.seed"
    echo "export ${p}_NATS_MTLS_URL=tls://$HOST:$S_NATS_MTLS_PORT ${p}_NATS_TOKEN_FILE=$SECRETS/nats-token"
    echo "export ${p}_KAFKA_BROKERS=$HOST:$S_KAFKA_SASL_PORT ${p}_KAFKA_PLAINTEXT_BROKERS=$HOST:$S_KAFKA_PORT"
    echo "export ${p}_KAFKA_PLAIN_USER=newsflow-plain ${p}_KAFKA_PLAIN_PASSWORD_FILE=$SECRETS/kafka-plain-password ${p}_KAFKA_SCRAM_USER=newsflow-scram ${p}_KAFKA_SCRAM_PASSWORD_FILE=$SECRETS/kafka-scram-password"
    if [[ -n $(pid_of es) ]]; then ses_env "$p"; fi
}

secure_usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

secure_main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
    up) secure_up "$@" ;;
    down) secure_down "$@" ;;
    status) secure_status ;;
    env) secure_env ;;
    certs) certs_make force ;;
    -h | --help | help) secure_usage ;;
    *)
        secure_usage >&2
        exit 2
        ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    secure_main "$@"
fi
