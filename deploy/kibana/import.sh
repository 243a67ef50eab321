#!/usr/bin/env bash
# Import newsflow's Kibana saved objects (data views, saved searches, Lens charts, the map and
# the overview dashboard) into Kibana 8 through the Saved Objects import API.
#
#   KIBANA_URL=http://localhost:5601 deploy/kibana/import.sh [saved_objects.ndjson]
#
# Waits until Kibana reports itself available (GET /api/status), then POSTs the file with
# overwrite=true, so running it again updates the objects in place (it is the one-shot
# `kibana-import` job of docker-compose.yml, and safe to re-run). Exits non-zero when Kibana
# does not come up within KIBANA_WAIT_SECONDS or when any object fails to import.
#
# Environment:
#   KIBANA_URL           Kibana base URL (default http://localhost:5601)
#   KIBANA_SPACE         import into this space instead of the default one
#   KIBANA_USER/KIBANA_PASSWORD  basic auth when security is enabled (off in docker-compose)
#   KIBANA_WAIT_SECONDS  how long to wait for Kibana (default 300)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
file=${1:-$here/saved_objects.ndjson}
url=${KIBANA_URL:-http://localhost:5601}
url=${url%/}
wait_s=${KIBANA_WAIT_SECONDS:-300}
base=$url
if [ -n "${KIBANA_SPACE:-}" ]; then
    base=$url/s/$KIBANA_SPACE
fi
auth=()
if [ -n "${KIBANA_USER:-}" ]; then
    auth=(-u "$KIBANA_USER:${KIBANA_PASSWORD:-}")
fi

log() { printf 'kibana-import: %s\n' "$*" >&2; }

[ -r "$file" ] || { log "cannot read $file"; exit 2; }

log "waiting for Kibana at $url (up to ${wait_s}s)"
deadline=$(($(date +%s) + wait_s))
until status=$(curl -fsS "${auth[@]}" "$url/api/status" 2>/dev/null) &&
    printf '%s' "$status" | grep -q '"level":"available"'; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "Kibana at $url not available after ${wait_s}s"
        exit 1
    fi
    sleep 3
done

log "importing $(grep -c . "$file") saved objects from $file"
resp=$(curl -sS "${auth[@]}" -X POST "$base/api/saved_objects/_import?overwrite=true" \
    -H 'kbn-xsrf: true' --form "file=@$file" -w '\n%{http_code}')
code=${resp##*$'\n'}
body=${resp%$'\n'*}
if [ "$code" != 200 ] || ! printf '%s' "$body" | grep -q '"success":true'; then
    log "import failed (HTTP $code): $body"
    exit 1
fi
count=$(printf '%s' "$body" | grep -o '"successCount":[0-9]*' | cut -d: -f2)
log "imported ${count:-?} objects; open $url/app/dashboards#/view/newsflow-overview"
