#!/usr/bin/env bash
# herald-ingest throughput: accepted events per second over HTTP keep-alive (wrk + Lua POST
# scripts), single events and batches, next to the broker's own confirmed publish rate
# (amqp-bench) on the same private node in the same run.
#
#   Benchmarks/ingest/run.sh
#   DURATION=30s CONNECTIONS=128 BATCH=100 Benchmarks/ingest/run.sh
#
# Settings (environment): DURATION (15s per wrk run), CONNECTIONS (64), THREADS (2),
# BATCH (100 events per batch request), COUNT (50000 messages for amqp-bench),
# NODE_DIR (/tmp/herald-bench-ingest-node), SCRATCH (.build-bench), PACKAGE_PATH (.),
# BIN_DIR (skip the build and use these binaries).
# Every 202 means the broker confirmed the event(s) (publisher confirms, persistent messages,
# quorum queue herald.sign); the queue is purged between phases so it never grows without bound.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
DURATION=${DURATION:-15s} CONNECTIONS=${CONNECTIONS:-64} THREADS=${THREADS:-2} BATCH=${BATCH:-100}
COUNT=${COUNT:-50000} NODE_DIR=${NODE_DIR:-/tmp/herald-bench-ingest-node} SCRATCH=${SCRATCH:-.build-bench}
PACKAGE_PATH=${PACKAGE_PATH:-.}
command -v wrk >/dev/null || apt-get install -y wrk >&2

if [ -n "${BIN_DIR:-}" ]; then
    bin=$BIN_DIR   # prebuilt herald-ingest and amqp-bench (e.g. a debug build, to compare)
else
    echo "building herald-ingest and amqp-bench (release)..." >&2
    swift build -c release --package-path "$PACKAGE_PATH" --scratch-path "$SCRATCH" --product herald-ingest >&2
    swift build -c release --package-path "$PACKAGE_PATH" --scratch-path "$SCRATCH" --product amqp-bench >&2
    bin=$SCRATCH/release
fi

echo "starting a private broker node in $NODE_DIR..." >&2
eval "$(scripts/rabbitmq-node.sh start "$NODE_DIR" herald-bench-ingest)"
work=$(mktemp -d /tmp/herald-bench-ingest.XXXXXX)
ingest_pid=
cleanup() {
    [ -n "$ingest_pid" ] && kill "$ingest_pid" 2>/dev/null && wait "$ingest_pid" 2>/dev/null || true
    scripts/rabbitmq-node.sh stop "$NODE_DIR" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
ctl() { rabbitmqctl -n "$HERALD_TEST_RABBIT_NODE" "$@"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
admin=bench-admin-$RANDOM-$RANDOM-$RANDOM
HERALD_AMQP_URL=$HERALD_TEST_AMQP_URL HERALD_DATABASE_PATH=$work/herald.sqlite HERALD_INGEST_PORT=$port \
HERALD_ADMIN_KEY=$admin HERALD_LOG_LEVEL=warning HERALD_MAX_BODY_BYTES=1048576 \
    "$bin/herald-ingest" 2>"$work/ingest.log" &
ingest_pid=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/ingest.log" >&2; exit 1; }
export HERALD_API_KEY=$(curl -fs -X POST "http://127.0.0.1:$port/v1/accounts" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d '{"id":"bench","name":"Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
export BATCH

run_wrk() { # $1 = lua script
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -s "Benchmarks/ingest/$1" "http://127.0.0.1:$port/v1/events"
}
field() { awk -v k="$1" '$1 == k {print $2}'; }

echo "warming up..." >&2
DURATION=3s run_wrk post-event.lua >/dev/null
ctl purge_queue herald.sign >/dev/null

echo "wrk: single events..." >&2
single=$(run_wrk post-event.lua)
echo "$single" >&2
ctl purge_queue herald.sign >/dev/null
echo "wrk: batches of $BATCH..." >&2
batch=$(run_wrk post-batch.lua)
echo "$batch" >&2
ctl purge_queue herald.sign >/dev/null

echo "amqp-bench: confirmed publishes on the same node..." >&2
amqp=$(HERALD_LOG_LEVEL=warning "$bin/amqp-bench" --url "$HERALD_TEST_AMQP_URL" --queue "bench.ingest.$$" --count "$COUNT")
echo "$amqp" >&2

rps() { awk '/^Requests\/sec:/ {print $2}'; }
p50() { awk '$1 == "50%" {print $2}'; }
p99() { awk '$1 == "99%" {print $2}'; }
reqs() { awk '/requests in/ {print $1}'; }
bad() { awk '/Non-2xx or 3xx responses:/ {n = $NF} /Socket errors:/ {t = $NF} END {printf "%d non-2xx, %d timeouts", n, t}'; }
single_rps=$(rps <<<"$single"); batch_rps=$(rps <<<"$batch")
batch_events=$(python3 -c "print(round($batch_rps * $BATCH))")
publish_rate=$(sed -nE 's/.*phase=publish .*rate=([0-9]+).*/\1/p' <<<"$amqp")

cat <<TABLE

| what | rate | p50 | p99 | requests | failures |
|---|---|---|---|---|---|
| HTTP single events (1 per request, $CONNECTIONS connections) | $(printf '%.0f' "$single_rps") events/s | $(p50 <<<"$single") | $(p99 <<<"$single") | $(reqs <<<"$single") | $(bad <<<"$single") |
| HTTP batches ($BATCH per request) | $batch_events events/s ($(printf '%.0f' "$batch_rps") req/s) | $(p50 <<<"$batch") | $(p99 <<<"$batch") | $(reqs <<<"$batch") | $(bad <<<"$batch") |
| broker alone: amqp-bench confirmed publishes | $publish_rate msgs/s | | | | |
TABLE
