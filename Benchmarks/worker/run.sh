#!/usr/bin/env bash
# Deliveries per second of ONE herald-worker process to a fast local receiver (nginx answering
# 200), next to two ceilings measured in the same run: wrk driving the same receiver with the
# same concurrency, and the broker relaying the worker's message flow without HTTP
# (`worker-bench relay`: consume herald.deliver, confirmed publish to herald.attempts, ack).
#
#   Benchmarks/worker/run.sh [jobs=20000] [concurrency=512]
#
# Env: RUNS (3), CONFIG (release), PKG (package dir, default the repo), SCRATCH (build dir), HERALD_TEST_AMQP_URL +
# HERALD_TEST_RABBIT_NODE (reuse a running private node; otherwise one is started and stopped).
# Needs: nginx (Debian nginx-light), wrk, rabbitmq-server. Prints one line per run and the medians.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JOBS=${1:-20000}
CONC=${2:-512}
RUNS=${RUNS:-3}
PKG=${PKG:-$ROOT}
SCRATCH=${SCRATCH:-$ROOT/.build-worker-bench}
CONFIG=${CONFIG:-release}
WORK=$(mktemp -d /tmp/herald-worker-bench.XXXX)

swift build -c "$CONFIG" --package-path "$PKG" --scratch-path "$SCRATCH" --product herald-worker >/dev/null
swift build -c "$CONFIG" --package-path "$PKG" --scratch-path "$SCRATCH" --product worker-bench >/dev/null
BIN=$(swift build -c "$CONFIG" --package-path "$PKG" --scratch-path "$SCRATCH" --show-bin-path)

STARTED_NODE=
if [[ -z "${HERALD_TEST_AMQP_URL:-}" ]]; then
  eval "$("$ROOT/scripts/rabbitmq-node.sh" start "$WORK/node" herald-wbench)"
  STARTED_NODE=1
fi
NGINX_PID=
cleanup() {
  [[ -n "$NGINX_PID" ]] && kill "$NGINX_PID" 2>/dev/null || true
  [[ -n "$STARTED_NODE" ]] && "$ROOT/scripts/rabbitmq-node.sh" stop "$WORK/node" >/dev/null 2>&1 || true
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$PORT; location / { return 200 "ok"; } }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
sleep 0.5
RECEIVER="http://127.0.0.1:$PORT/hook"
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"type":"message.delivered","timestamp":"2026-01-01T00:00:00Z","data":{"messageId":"msg_1","status":"DELIVERED"}}'
wrk.headers["Content-Type"] = "application/json"
LUA

node=$HERALD_TEST_RABBIT_NODE
base=${HERALD_TEST_AMQP_URL%/}
for run in $(seq 1 "$RUNS"); do
  vhost="wbench-$run-$$"
  rabbitmqctl -n "$node" add_vhost "$vhost" >/dev/null
  rabbitmqctl -n "$node" set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
  url="$base/$vhost"
  "$BIN/worker-bench" fill "$url" "$RECEIVER" "$JOBS"
  HERALD_AMQP_URL="$url" HERALD_OPS_PORT=0 HERALD_ALLOW_PRIVATE=127.0.0.1/32 HERALD_LOG_LEVEL=warning \
    HERALD_WORKER_CONCURRENCY="$CONC" HERALD_WORKER_PER_ENDPOINT=64 "$BIN/herald-worker" &
  wpid=$!
  worker_json=$("$BIN/worker-bench" measure "$url" "$JOBS")
  rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$wpid/status)
  # The worker's own CPU per delivery (user + system), steadier than rates on a busy machine.
  cpu_us=$(awk -v hz="$(getconf CLK_TCK)" -v jobs="$JOBS" '{printf "%d", ($14 + $15) / hz * 1e6 / jobs}' /proc/$wpid/stat)
  kill -TERM "$wpid"; wait "$wpid" || true
  # The broker ceiling for the same message flow (consume, confirmed publish, ack; no HTTP).
  rabbitmqctl -n "$node" purge_queue -p "$vhost" herald.attempts >/dev/null
  "$BIN/worker-bench" fill "$url" "$RECEIVER" "$JOBS"
  relay_json=$("$BIN/worker-bench" relay "$url" "$JOBS" "$CONC")
  wrk_out=$(wrk -t2 -c"$CONC" -d10s --latency -s "$WORK/post.lua" "$RECEIVER")
  wrk_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$wrk_out")
  wrk_p50=$(awk '$1=="50%" {print $2}' <<<"$wrk_out")
  wrk_p99=$(awk '$1=="99%" {print $2}' <<<"$wrk_out")
  echo "run $run: worker $worker_json rss_mb=$((rss_kb / 1024)) cpu_us=$cpu_us | relay $relay_json | wrk rps=$wrk_rps p50=$wrk_p50 p99=$wrk_p99" | tee -a "$WORK/results"
done

python3 - "$WORK/results" <<'PY'
import json, re, statistics, sys
rows = open(sys.argv[1]).read().splitlines()
w = [json.loads(re.search(r"worker (\{.*?\})", r).group(1)) for r in rows]
rss = [int(re.search(r"rss_mb=(\d+)", r).group(1)) for r in rows]
cpu = [int(re.search(r"cpu_us=(\d+)", r).group(1)) for r in rows]
wrk = [float(re.search(r"rps=([\d.]+)", r).group(1)) for r in rows]
relay = [json.loads(re.search(r"relay (\{.*?\})", r).group(1))["per_second"] for r in rows]
med = statistics.median
worker = med(x['per_second'] for x in w)
print(f"median of {len(rows)}: worker {worker:.0f} deliveries/s "
      f"(p50 {med(x['p50_ms'] for x in w)} ms, p99 {med(x['p99_ms'] for x in w)} ms, peak RSS {med(rss)} MB, {med(cpu)} µs CPU per delivery); "
      f"broker relay {med(relay):.0f} msg/s; wrk {med(wrk):.0f} req/s; "
      f"ratio to wrk {worker / med(wrk):.2f}, to the broker relay {worker / med(relay):.2f}")
PY
