#!/usr/bin/env bash
# End to end: Herald (ingest → signer → workers) against two Python peers (Celery prefork ×2,
# Dramatiq -p 2 -t 8) doing the same Standard Webhooks HMAC-SHA256 + POST per event, on one
# private RabbitMQ node and one nginx receiver, interleaved in the same run; with the broker's
# and the receiver's own ceilings measured in the same run. See BENCHMARKS.md ("End to end").
#
#   Benchmarks/e2e/run.sh                    # full: RUNS=3, N=20000, RATES="200 500 1000 2000"
#   Benchmarks/e2e/run.sh --smoke            # a few seconds: N=200, one rate, one run, no peers
#   HERALD_BIN=.build/debug Benchmarks/e2e/run.sh --smoke
#
# Environment: RUNS (3), N (20000 events per drain), PEER_N (N), RATES ("200 500 1000 2000"
# offered events/s), DURATION (10 s per rate), WORKERS ("1 2": Herald worker counts for the
# drain), LATENCY_WORKERS (2), PEERS (1; 0 = Herald only), WRK_SECONDS (5), OUT (result dir,
# default Benchmarks/e2e/out/<UTC time>), HERALD_BIN (use these herald-* binaries; otherwise
# `swift build -c release --scratch-path .build-e2e`).
# Needs: rabbitmq-server, nginx, wrk, gcc + librabbitmq-dev (for the C ceiling; skipped if
# missing), python3 with venv. PyPI packages go into Benchmarks/e2e/.venv.
# Writes OUT/results.json, OUT/report.md, OUT/latency.png (if matplotlib), and the logs of
# every process. Exit status 0 only if every event of every phase arrived exactly once.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/../.." && pwd)
cd "$root"

smoke=0
case "${1:-}" in
--smoke) smoke=1 ;;
"") ;;
*) echo "usage: Benchmarks/e2e/run.sh [--smoke]" >&2; exit 2 ;;
esac
export E2E_SMOKE=$smoke
suffix=; [ $smoke = 1 ] && suffix=-smoke
OUT=${OUT:-$bench/out/$(date -u +%Y%m%dT%H%M%SZ)$suffix}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
log() { printf '==> %s\n' "$*" >&2; }

# ---------------------------------------------------------------- Python peers (PyPI, in a venv)
venv=$bench/.venv
if [ $smoke = 1 ] && [ "${PEERS:-0}" != 1 ]; then packages=(pika); else packages=(pika celery dramatiq matplotlib); fi
if ! [ -x "$venv/bin/python" ]; then
    log "creating $venv"
    python3 -m venv "$venv"
fi
missing=()
for p in "${packages[@]}"; do "$venv/bin/python" -c "import $p" 2>/dev/null || missing+=("$p"); done
if ((${#missing[@]})); then
    log "pip install ${missing[*]} (into $venv)"
    if ! timeout 600 "$venv/bin/pip" install -q "${missing[@]}" >&2; then
        # The smoke test still checks Herald without PyPI (no pika: the HTTP path only).
        [ $smoke = 1 ] && [ "${PEERS:-0}" != 1 ] || { echo "e2e: pip install failed" >&2; exit 1; }
        log "pip install failed; the smoke run goes on without ${missing[*]}"
    fi
fi

# ---------------------------------------------------------------- binaries
if [ -n "${HERALD_BIN:-}" ]; then
    bin=$(cd "$HERALD_BIN" && pwd)
else
    log "building release binaries (--scratch-path .build-e2e)"
    for product in herald-ingest herald-signer herald-worker heraldctl; do
        swift build -c release --scratch-path .build-e2e --product "$product" >&2
    done
    bin=$root/.build-e2e/release
fi
for program in herald-ingest herald-signer herald-worker heraldctl; do
    [ -x "$bin/$program" ] || { echo "e2e: no $program in $bin" >&2; exit 2; }
done
reference=
if gcc -O2 -o "$OUT/amqp-reference" Benchmarks/amqp-reference/reference.c -lrabbitmq 2>"$OUT/gcc.log"; then
    reference=$OUT/amqp-reference
else
    log "C reference did not build (see $OUT/gcc.log): no broker ceiling"
fi

# ---------------------------------------------------------------- everything started is stopped
node_dir=/tmp/herald-e2e-node-$$
nginx_pid= ingest_pid=
cleanup() {
    trap '' INT TERM
    [ -n "$ingest_pid" ] && kill -TERM "$ingest_pid" 2>/dev/null && { timeout 20 tail --pid="$ingest_pid" -f /dev/null || kill -KILL "$ingest_pid" 2>/dev/null; } || true
    [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && { timeout 10 tail --pid="$nginx_pid" -f /dev/null || kill -KILL "$nginx_pid" 2>/dev/null; } || true
    scripts/rabbitmq-node.sh stop "$node_dir" >/dev/null 2>&1 || true
    rm -rf "$node_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting a private RabbitMQ node in $node_dir"
eval "$(scripts/rabbitmq-node.sh start "$node_dir" "herald-e2e-$$")"
amqp_port=$(sed -E 's#.*:([0-9]+)/.*#\1#' <<<"$HERALD_TEST_AMQP_URL")
HERALD_AMQP_URL=$HERALD_TEST_AMQP_URL HERALD_LOG_LEVEL=warning "$bin/heraldctl" topology apply >"$OUT/topology.log" 2>&1

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# ---------------------------------------------------------------- receiver: nginx, one worker
rx_port=$(free_port)
mkdir -p "$OUT/nginx"
cat >"$OUT/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 8192; }
http {
  client_body_temp_path $OUT/nginx;
  proxy_temp_path $OUT/nginx; fastcgi_temp_path $OUT/nginx; uwsgi_temp_path $OUT/nginx; scgi_temp_path $OUT/nginx;
  keepalive_requests 1000000;
  log_format e2e '\$msec \$http_webhook_id \$status \$request_time';
  server {
    listen 127.0.0.1:$rx_port;
    location /hook { access_log $OUT/access.log e2e buffer=64k flush=100ms; return 200 "ok"; }
    location /wrk { access_log off; return 200 "ok"; }
  }
}
CONF
: >"$OUT/access.log"
nginx -c "$OUT/nginx/nginx.conf" -p "$OUT/nginx" &
nginx_pid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$rx_port/wrk" >/dev/null 2>&1 && break; sleep 0.1; done
nginx_pids="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"

# ---------------------------------------------------------------- herald-ingest
ingest_port=$(free_port)
admin_key="adm_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
db=$OUT/herald.sqlite
HERALD_AMQP_URL=$HERALD_TEST_AMQP_URL HERALD_DATABASE_PATH=$db HERALD_INGEST_PORT=$ingest_port \
HERALD_ADMIN_KEY=$admin_key HERALD_LOG_LEVEL=warning "$bin/herald-ingest" </dev/null >"$OUT/herald-ingest.log" 2>&1 &
ingest_pid=$!
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$ingest_port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$ingest_port/readyz" >/dev/null || { echo "e2e: herald-ingest not ready" >&2; tail -20 "$OUT/herald-ingest.log" >&2; exit 1; }

log "harness: results in $OUT"
E2E_OUT=$OUT E2E_BIN=$bin E2E_AMQP_PORT=$amqp_port E2E_NODE=$HERALD_TEST_RABBIT_NODE \
E2E_BROKER_PID=$(cat "$node_dir/node.pid") E2E_INGEST_URL=http://127.0.0.1:$ingest_port E2E_INGEST_PID=$ingest_pid \
E2E_ADMIN_KEY=$admin_key E2E_DB=$db E2E_RECEIVER_URL=http://127.0.0.1:$rx_port/hook \
E2E_WRK_URL=http://127.0.0.1:$rx_port/wrk E2E_ACCESS_LOG=$OUT/access.log E2E_NGINX_PIDS="$nginx_pids" \
E2E_REFERENCE=$reference \
    "$venv/bin/python" "$bench/harness.py"
