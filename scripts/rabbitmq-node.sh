#!/usr/bin/env bash
# Starts or stops a private RabbitMQ node: its own node name, ports and data directory, so it
# never touches a broker already running on this machine.
#
#   eval "$(scripts/rabbitmq-node.sh start DIR [NAME])"   # prints export lines for HERALD_TEST_*
#   scripts/rabbitmq-node.sh stop DIR
#
# DIR holds the node's data, logs and config; it is created (and must be writable by the
# rabbitmq user, since Debian's wrapper drops to it).
set -euo pipefail

command=${1:?usage: rabbitmq-node.sh start|stop DIR [NAME]}
dir=${2:?usage: rabbitmq-node.sh start|stop DIR [NAME]}
name=${3:-herald-test-$$}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

node_env() {
    export RABBITMQ_NODENAME="$(cat "$dir/nodename")"
    export RABBITMQ_NODE_PORT="$(cat "$dir/amqp_port")"
    export RABBITMQ_DIST_PORT="$(cat "$dir/dist_port")"
    export RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log"
    export RABBITMQ_CONFIG_FILE="$dir/etc/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/etc/enabled_plugins"
    export RABBITMQ_PID_FILE="$dir/node.pid"
}

case "$command" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    mkdir -p "$dir"/{mnesia,log,etc}
    echo "$name@localhost" >"$dir/nodename"
    amqp_port=$(free_port); dist_port=$(free_port); mgmt_port=$(free_port); prom_port=$(free_port)
    echo "$amqp_port" >"$dir/amqp_port"; echo "$dist_port" >"$dir/dist_port"; echo "$mgmt_port" >"$dir/mgmt_port"
    cat >"$dir/etc/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp_port
management.tcp.port = $mgmt_port
management.tcp.ip = 127.0.0.1
prometheus.tcp.port = $prom_port
prometheus.tcp.ip = 127.0.0.1
# A small Raft WAL keeps quorum queues' memory modest on test and dev machines.
raft.wal_max_size_bytes = 64000000
loopback_users.guest = true
CONF
    echo '[rabbitmq_management,rabbitmq_prometheus].' >"$dir/etc/enabled_plugins"
    chown -R rabbitmq:rabbitmq "$dir"
    # The wrapper scripts switch to the rabbitmq user, who must be able to reach DIR.
    parent=$dir; while parent=$(dirname "$parent") && [ "$parent" != / ]; do chmod o+x "$parent" 2>/dev/null || true; done
    node_env
    # Every vhost, connection and quorum queue holds files; Debian's default of 1024 runs out
    # when the test suite works in many vhosts at once, and the node then stops accepting.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    rabbitmq-server -detached >"$dir/log/start.out" 2>&1
    rabbitmqctl -n "$RABBITMQ_NODENAME" wait "$RABBITMQ_PID_FILE" --timeout 90 >/dev/null 2>&1 \
        || { echo "rabbitmq-node: node $RABBITMQ_NODENAME did not start; logs in $dir/log" >&2; exit 1; }
    for _ in $(seq 1 30); do
        rabbitmqctl -n "$RABBITMQ_NODENAME" await_startup --timeout 60 >/dev/null 2>&1 && break
        sleep 1
    done
    echo "export HERALD_TEST_AMQP_URL='amqp://guest:guest@127.0.0.1:$amqp_port/'"
    echo "export HERALD_TEST_RABBIT_NODE='$RABBITMQ_NODENAME'"
    echo "export HERALD_TEST_RABBIT_DIR='$dir'"
    echo "export HERALD_TEST_RABBIT_MGMT_PORT='$mgmt_port'"
    ;;
stop)
    [ -f "$dir/nodename" ] || exit 0
    node_env
    # A polite stop first; a node that no longer answers is killed (epmd stays: it is shared).
    timeout 30 rabbitmqctl -n "$RABBITMQ_NODENAME" stop >/dev/null 2>&1 || true
    pid=$(cat "$RABBITMQ_PID_FILE" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    pkill -KILL -f -- "-sname $RABBITMQ_NODENAME" 2>/dev/null || true
    pkill -KILL -f -- "rabbitmqctl.*-n.*$RABBITMQ_NODENAME" 2>/dev/null || true
    ;;
*)
    echo "usage: rabbitmq-node.sh start|stop DIR [NAME]" >&2
    exit 2
    ;;
esac
