#!/usr/bin/env bash
# Signer benchmark: broker ceiling, then one signer with fan-out 1 and 10, in one run.
#   Benchmarks/signer/run.sh [EVENTS]
# Uses HERALD_TEST_AMQP_URL / HERALD_TEST_RABBIT_NODE when set (a private node from
# scripts/rabbitmq-node.sh), otherwise starts one; works in a fresh vhost it deletes afterwards.
# SCRATCH sets the build directory (.build-signer-bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
events=${1:-20000}
started=""
if [[ -z "${HERALD_TEST_AMQP_URL:-}" ]]; then
    eval "$(scripts/rabbitmq-node.sh start /tmp/herald-node-signer-bench herald-signer-bench)"
    started=yes
fi
vhost="signer-bench-$$"
rabbitmqctl -n "$HERALD_TEST_RABBIT_NODE" add_vhost "$vhost" >/dev/null
rabbitmqctl -n "$HERALD_TEST_RABBIT_NODE" set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
cleanup() {
    rabbitmqctl -n "$HERALD_TEST_RABBIT_NODE" delete_vhost "$vhost" >/dev/null || true
    if [[ -n "$started" ]]; then scripts/rabbitmq-node.sh stop /tmp/herald-node-signer-bench; fi
}
trap cleanup EXIT
scratch=${SCRATCH:-.build-signer-bench}
swift build -c release --scratch-path "$scratch" --product signer-bench >&2
"$scratch/release/signer-bench" --url "${HERALD_TEST_AMQP_URL%/}/$vhost" --events "$events"
