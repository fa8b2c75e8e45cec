#!/usr/bin/env bash
# Runs Herald on this machine (Debian 12, as root): installs what is missing, starts a local
# RabbitMQ node with the management and Prometheus plugins, builds release binaries, starts
# herald-ingest, herald-signer and HERALD_WORKERS workers (default 2), starts a verifying demo
# receiver (`heraldctl listen`), creates a demo endpoint, sends a status change, and shows it
# delivered and verified. Then it keeps running, showing the logs, until Ctrl-C stops
# everything it started.
#
#   scripts/run.sh                 # run Herald and the demo; Ctrl-C stops it all
#   scripts/run.sh --demo-only     # the same, but stop after the demo event is verified
#   scripts/run.sh workers N       # while it runs (in another shell): scale to N workers
#   scripts/run.sh stop            # stop a run left behind (e.g. after kill -9)
#
# HERALD_WORKERS (2) sets the number of workers; HERALD_BUILD=debug uses a debug build instead
# of release (quicker to build while developing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="$root/.herald-run"
node_dir=/tmp/herald-run-rabbitmq

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ---------------------------------------------------------------- process bookkeeping
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() {
    local file=$1
    if pid_alive "$file"; then
        kill -TERM "$(cat "$file")" 2>/dev/null || true
        for _ in $(seq 1 100); do pid_alive "$file" || break; sleep 0.1; done
        pid_alive "$file" && kill -KILL "$(cat "$file")" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop_all() {
    log "stopping Herald"
    for file in "$state"/pids/worker-*.pid; do [ -e "$file" ] && stop_pidfile "$file"; done
    for name in listen signer ingest; do stop_pidfile "$state/pids/$name.pid"; done
    scripts/rabbitmq-node.sh stop "$node_dir" >/dev/null 2>&1 || true
    log "stopped; logs are in $state/logs"
}

start_process() { # name, command...
    local name=$1; shift
    "$@" >>"$state/logs/$name.log" 2>&1 &
    echo $! >"$state/pids/$name.pid"
}

start_worker() { # index
    HERALD_OPS_PORT=0 start_process "worker-$1" "$bin/herald-worker"
}

scale_workers() { # target count
    local target=$1 running
    [[ "$target" =~ ^[0-9]+$ ]] || { echo "run.sh: workers needs a number, got '$target'" >&2; exit 2; }
    [ -f "$state/env" ] || { echo "run.sh: Herald is not running (no $state/env); start it with scripts/run.sh" >&2; exit 1; }
    set -a; source "$state/env"; set +a
    bin="$root/.build/${HERALD_BUILD:-release}"
    running=$(ls "$state"/pids/worker-*.pid 2>/dev/null | wc -l)
    local index=$running
    while [ "$index" -lt "$target" ]; do index=$((index + 1)); start_worker "$index"; done
    while [ "$index" -gt "$target" ]; do stop_pidfile "$state/pids/worker-$index.pid"; index=$((index - 1)); done
    log "workers: $target running (was $running)"
}

case "${1:-}" in
workers) scale_workers "${2:?usage: run.sh workers N}"; exit 0 ;;
stop) stop_all; exit 0 ;;
--demo-only|"") ;;
*) echo "usage: run.sh [--demo-only] | run.sh workers N | run.sh stop" >&2; exit 2 ;;
esac
demo_only=false; [ "${1:-}" = --demo-only ] && demo_only=true

# ---------------------------------------------------------------- install, build, broker
source scripts/install-deps.sh
build=${HERALD_BUILD:-release}
log "building $build binaries"
swift build -c "$build"
bin="$root/.build/$build"

# A previous run that was killed may have left processes: stop them first (running twice works).
[ -d "$state/pids" ] && stop_all
mkdir -p "$state/logs" "$state/pids"
: >"$state/env"

log "starting RabbitMQ (private node, data in $node_dir)"
rm -rf "$node_dir"
eval "$(scripts/rabbitmq-node.sh start "$node_dir" herald-run)"
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ingest_port=$(free_port)
receiver_port=$(free_port)
admin_key="adm_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
cat >"$state/env" <<ENV
HERALD_AMQP_URL=$HERALD_TEST_AMQP_URL
HERALD_DATABASE_PATH=$state/herald.sqlite
HERALD_INGEST_PORT=$ingest_port
HERALD_INGEST_URL=http://127.0.0.1:$ingest_port
HERALD_ADMIN_KEY=$admin_key
HERALD_ALLOW_PRIVATE=127.0.0.1/32
HERALD_WORKER_PROCESSES=${HERALD_WORKERS:-2}
HERALD_BUILD=$build
ENV
set -a; source "$state/env"; set +a
rm -f "$HERALD_DATABASE_PATH"

log "declaring the topology"
"$bin/heraldctl" topology apply

log "starting herald-ingest on :$ingest_port, herald-signer, ${HERALD_WORKERS:-2} workers"
start_process ingest "$bin/herald-ingest"
HERALD_OPS_PORT=0 start_process signer "$bin/herald-signer"
for index in $(seq 1 "${HERALD_WORKERS:-2}"); do start_worker "$index"; done

for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$ingest_port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$ingest_port/readyz" >/dev/null || { echo "herald-ingest did not become ready; see $state/logs/ingest.log" >&2; tail -20 "$state/logs/ingest.log" >&2; exit 1; }

source scripts/demo.sh

if $demo_only; then exit 0; fi
log "Herald is running. Logs: $state/logs. Scale workers: scripts/run.sh workers N. Ctrl-C stops everything."
tail -n 0 -F "$state"/logs/*.log &
tail_pid=$!
wait "$tail_pid"
