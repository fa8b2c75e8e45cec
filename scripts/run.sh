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
# Environment:
#   HERALD_WORKERS (2)             workers to start with
#   HERALD_BUILD (release)         `debug` builds a debug build instead (quicker while developing)
#   HERALD_BIN                     use the binaries already in this directory; build nothing
#   HERALD_RUN_STATE (.herald-run) logs, SQLite file, pids and the `env` file of this run; its
#                                  RabbitMQ node (name, ports, data dir) is derived from it, so
#                                  runs with different state directories never meet
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state=$(realpath -m "${HERALD_RUN_STATE:-$root/.herald-run}")
# One node per state directory: its own name and data dir (rabbitmq-node.sh picks free ports).
# The data dir is under /tmp because the rabbitmq user must be able to reach it.
node_key=$(printf %s "$state" | cksum | cut -d' ' -f1)
node_dir=/tmp/herald-run-$node_key
node_name=herald-run-$node_key

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ---------------------------------------------------------------- process bookkeeping
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfiles() { # pidfile…: SIGTERM to all at once (each drains), SIGKILL to any left after 10 s
    local file running
    for file in "$@"; do pid_alive "$file" && kill -TERM "$(cat "$file")" 2>/dev/null || true; done
    for _ in $(seq 1 100); do
        running=false
        for file in "$@"; do pid_alive "$file" && running=true; done
        $running || break
        sleep 0.1
    done
    for file in "$@"; do
        pid_alive "$file" && kill -KILL "$(cat "$file")" 2>/dev/null || true
        rm -f "$file"
    done
}

stop_all() {
    # A second Ctrl-C must not cut the cleanup short and leave half of Herald running.
    trap '' INT TERM
    log "stopping Herald"
    rm -f "$state/pids/run.pid"
    # Consumers first, so nothing they still publish meets a stopped ingest.
    stop_pidfiles "$state/pids/tail.pid" "$state/pids/listen.pid" "$state"/pids/worker-*.pid
    stop_pidfiles "$state/pids/signer.pid" "$state/pids/ingest.pid"
    scripts/rabbitmq-node.sh stop "$node_dir" >/dev/null 2>&1 || true
    rm -rf "$node_dir"
    # The node started epmd if none was running; stop it too, unless another node uses it
    # (`epmd -kill` refuses while any node is registered).
    if [ -e "$state/pids/epmd-ours" ]; then
        epmd -kill >/dev/null 2>&1 || true
        rm -f "$state/pids/epmd-ours"
    fi
    rm -f "$state/env"
    log "stopped; logs are in $state/logs"
}

start_process() { # name, command...
    local name=$1; shift
    "$@" </dev/null >>"$state/logs/$name.log" 2>&1 &
    echo $! >"$state/pids/$name.pid"
}

start_worker() { # index
    HERALD_OPS_PORT=0 start_process "worker-$1" "$bin/herald-worker"
}

worker_indices() { # the indices of the workers that run, in order
    local file
    for file in "$state"/pids/worker-*.pid; do
        [ -e "$file" ] || continue
        if pid_alive "$file"; then file=${file##*/worker-}; echo "${file%.pid}"; else rm -f "$file"; fi
    done | sort -n
}

scale_workers() { # target count
    local target=$1 running index
    [[ "$target" =~ ^[0-9]+$ ]] || { echo "run.sh: workers needs a number, got '$target'" >&2; exit 2; }
    if [ ! -f "$state/env" ] || ! pid_alive "$state/pids/ingest.pid"; then
        echo "run.sh: Herald is not running (from $state); start it with scripts/run.sh" >&2
        exit 1
    fi
    # Workers split a per-endpoint rate limit among HERALD_WORKER_PROCESSES; the new count is
    # what workers started from now on read.
    sed -i "s/^HERALD_WORKER_PROCESSES=.*/HERALD_WORKER_PROCESSES=$target/" "$state/env"
    set -a; source "$state/env"; set +a
    bin=$HERALD_RUN_BIN
    running=$(worker_indices | wc -l)
    # Up: fill the lowest free indices. Down: stop the highest (SIGTERM drains each one).
    index=1
    for _ in $(seq $((running + 1)) "$target"); do
        while [ -e "$state/pids/worker-$index.pid" ]; do index=$((index + 1)); done
        start_worker "$index"
    done
    local surplus=()
    for index in $(worker_indices | sort -rn | head -n $((running > target ? running - target : 0))); do
        surplus+=("$state/pids/worker-$index.pid")
    done
    ((${#surplus[@]})) && stop_pidfiles "${surplus[@]}"
    log "workers: $target running (was $running); logs in $state/logs/worker-*.log"
}

case "${1:-}" in
workers) scale_workers "${2:?usage: run.sh workers N}"; exit 0 ;;
stop)
    # A run.sh still running stops its own run (as on Ctrl-C); what a killed one left is stopped here.
    if pid_alive "$state/pids/run.pid"; then
        run_pid=$(cat "$state/pids/run.pid")
        kill -TERM "$run_pid"
        for _ in $(seq 1 600); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if compgen -G "$state/pids/*" >/dev/null || [ -d "$node_dir" ]; then stop_all; fi
    exit 0 ;;
--demo-only|"") ;;
*) echo "usage: run.sh [--demo-only] | run.sh workers N | run.sh stop" >&2; exit 2 ;;
esac
demo_only=false; [ "${1:-}" = --demo-only ] && demo_only=true

if pid_alive "$state/pids/run.pid"; then
    echo "run.sh: already running from $state (pid $(cat "$state/pids/run.pid")); Ctrl-C it or run scripts/run.sh stop" >&2
    exit 1
fi

# ---------------------------------------------------------------- install, build, broker
source scripts/install-deps.sh
if [ -n "${HERALD_BIN:-}" ]; then
    bin=$(realpath "$HERALD_BIN")
    for program in herald-ingest herald-signer herald-worker heraldctl; do
        [ -x "$bin/$program" ] || { echo "run.sh: HERALD_BIN: no $program in $bin" >&2; exit 2; }
    done
    log "using the binaries in $bin"
else
    build=${HERALD_BUILD:-release}
    log "building $build binaries"
    swift build -c "$build"
    bin="$root/.build/$build"
fi

# A previous run that was killed may have left processes: stop them first (running twice works).
if compgen -G "$state/pids/*.pid" >/dev/null || [ -d "$node_dir" ]; then
    log "a previous run from $state was left behind; stopping it first"
    stop_all
fi
mkdir -p "$state/logs" "$state/pids"
echo $$ >"$state/pids/run.pid"
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

log "starting RabbitMQ (private node $node_name, data in $node_dir)"
rm -rf "$node_dir"
epmd -names >/dev/null 2>&1 || : >"$state/pids/epmd-ours"
node_exports=$(scripts/rabbitmq-node.sh start "$node_dir" "$node_name")
eval "$node_exports"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
ingest_port=$(free_port)
receiver_port=$(free_port)
admin_key="adm_$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
cat >"$state/env" <<ENV
HERALD_AMQP_URL=$HERALD_TEST_AMQP_URL
HERALD_RABBIT_MANAGEMENT_URL=http://guest:guest@127.0.0.1:$HERALD_TEST_RABBIT_MGMT_PORT
HERALD_DATABASE_PATH=$state/herald.sqlite
HERALD_INGEST_PORT=$ingest_port
HERALD_INGEST_URL=http://127.0.0.1:$ingest_port
HERALD_ADMIN_KEY=$admin_key
HERALD_ALLOW_PRIVATE=127.0.0.1/32
HERALD_WORKER_PROCESSES=${HERALD_WORKERS:-2}
HERALD_RUN_BIN=$bin
ENV
set -a; source "$state/env"; set +a
rm -f "$HERALD_DATABASE_PATH"

log "declaring the topology"
"$bin/heraldctl" topology apply

log "starting herald-ingest on :$ingest_port"
start_process ingest "$bin/herald-ingest"
for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$ingest_port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$ingest_port/readyz" >/dev/null || { echo "herald-ingest did not become ready; see $state/logs/ingest.log" >&2; tail -20 "$state/logs/ingest.log" >&2; exit 1; }

# After ingest is ready, so the demo does not wait on the signer's wait for the store ingest creates.
log "starting herald-signer and ${HERALD_WORKERS:-2} workers"
HERALD_OPS_PORT=0 start_process signer "$bin/herald-signer"
for index in $(seq 1 "${HERALD_WORKERS:-2}"); do start_worker "$index"; done

source scripts/demo.sh

if $demo_only; then exit 0; fi
log "Herald is running. Logs: $state/logs. Scale workers: scripts/run.sh workers N. Ctrl-C stops everything."
# Follow every log, including those of workers added later by `run.sh workers N`. The waits are
# on background jobs so that Ctrl-C (or SIGINT/SIGTERM to this script) is handled at once.
while true; do
    logs=$(ls "$state"/logs/*.log)
    tail -n 0 -F $logs &
    echo $! >"$state/pids/tail.pid"
    while [ "$(ls "$state"/logs/*.log)" = "$logs" ]; do sleep 1 & wait $!; done
    stop_pidfiles "$state/pids/tail.pid"
done
