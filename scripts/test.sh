#!/usr/bin/env bash
# Herald's test suite, on a fresh Debian 12 machine as root: installs what is missing, builds,
# starts a private RabbitMQ node (own name, ports and data directory), runs every test against
# it, and stops it again. Nothing is left running.
#
#   scripts/test.sh                 # the suite CI runs (about 15 minutes from a cold build)
#   HERALD_TEST_LONG=1 scripts/test.sh   # heavier variants of the load tests
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install-deps.sh

# Independent verifiers and checkers from PyPI: the Standard Webhooks reference library (signing
# tests), kubernetes-validate with its bundled schemas and PyYAML (deploy/ checks).
python3 -c 'import standardwebhooks, kubernetes_validate, yaml' 2>/dev/null \
    || pip install --quiet standardwebhooks kubernetes-validate pyyaml

echo "==> building (debug, with tests)"
swift build --build-tests

node_dir=""
stop_node() {
    if [ -n "$node_dir" ]; then
        scripts/rabbitmq-node.sh stop "$node_dir" || true
        rm -rf "$node_dir"
        node_dir=""
    fi
}
start_node() {
    node_dir=$(mktemp -d /tmp/herald-test-node.XXXXXX)
    echo "==> starting a private RabbitMQ node in $node_dir"
    eval "$(scripts/rabbitmq-node.sh start "$node_dir" "herald-test-$$-$RANDOM")"
}
cleanup() {
    stop_node
    # Receivers the tests started are stopped by the tests; make sure none outlives a crash.
    pkill -f "Tests/HeraldTestSupport/Fixtures/receiver.py" 2>/dev/null || true
}
trap cleanup EXIT

status=0
results=$(mktemp /tmp/herald-test-results.XXXXXX)
# Formatting: a second, and it says exactly what a contributor must fix.
echo "==> scripts/check-format.sh (swift format lint --strict)"
if scripts/check-format.sh; then
    echo "PASS  swift-format: Sources, Tests and Benchmarks follow .swift-format" | tee -a "$results"
else
    echo "FAIL  swift-format: run 'swift format -i -r -p Sources Tests Benchmarks' and commit" | tee -a "$results"
    status=1
fi

run_tests() { # swift test arguments…; output is kept for the summary at the end
    swift test --skip-build "$@" 2>&1 | tee -a "$results"
}
# Pure logic and real HTTP on 127.0.0.1, no broker: all at once.
echo "==> unit tests, signing proofs (node, python), HTTP engine"
run_tests --filter 'HeraldCoreTests|HeraldSigningTests|HeraldStoreTests|HeraldDeliveryTests|HeraldMessagesTests' || status=1

# Broker suites, one target at a time, each on a fresh private node. Every service test works in
# a vhost of its own with Herald's whole quorum-queue topology; all targets at once made one
# RabbitMQ 3.10 node juggle hundreds of Raft groups and stall.
for target in AMQPTests HeraldTopologyTests HeraldIngestTests HeraldSignerTests HeraldWorkerTests HeraldCtlTests HeraldPipelineTests; do
    start_node
    echo "==> $target"
    run_tests --filter "$target" --skip BrokerOutage || status=1
    stop_node
done

# These stop the broker or raise its alarms, so they run alone.
start_node
echo "==> broker outage tests (alone)"
run_tests --no-parallel --filter BrokerOutage || status=1

# scripts/run.sh end to end with the debug binaries built above, on a node of its own (its own
# state dir, node name and ports), and each service's exit on an invalid setting.
echo "==> scripts/test-run-script.py"
HERALD_BIN=.build/debug scripts/test-run-script.py 2>&1 | tee -a "$results" || status=1

# The whole pipeline under faults (SIGKILLs, broker restart, memory alarm, poison, a hanging
# receiver beside a bystander) on a private node of its own; every accepted event must be
# delivered or dead-lettered. The short form; `scripts/fault-suite.py --long` runs them all.
python3 -c 'import pika, standardwebhooks' 2>/dev/null || pip install --quiet pika standardwebhooks
echo "==> scripts/fault-suite.py (short form)"
HERALD_BIN=.build/debug scripts/fault-suite.py 2>&1 | tee -a "$results" || status=1

# The end-to-end benchmark's harness, smoke-sized (tiny N, one rate, one run, no peers) with the
# debug binaries, on a node of its own: proves Benchmarks/e2e/run.sh still works.
echo "==> Benchmarks/e2e/run.sh --smoke"
e2e_out=$(mktemp -d /tmp/herald-e2e-smoke.XXXXXX)
if e2e_log=$(HERALD_BIN=.build/debug OUT=$e2e_out timeout 900 Benchmarks/e2e/run.sh --smoke 2>&1); then
    echo "PASS  e2e smoke: $(grep -m1 '^E2E-SUMMARY: ' <<<"$e2e_log" | sed 's/^E2E-SUMMARY: //')" | tee -a "$results"
    rm -rf "$e2e_out"
else
    echo "$e2e_log" | tail -30
    echo "FAIL  e2e smoke: $(grep -m1 '^E2E-SUMMARY: ' <<<"$e2e_log" | sed 's/^E2E-SUMMARY: //' || true) (logs in $e2e_out)" | tee -a "$results"
    status=1
fi

for check in scripts/check-deploy.sh scripts/check-openapi.sh; do
    if [ -x "$check" ]; then
        echo "==> $check"
        "$check" || status=1
    fi
done
# One closing line for the whole suite: Swift Testing's per-run totals added up, plus the
# run-script test's PASS/FAIL lines.
python3 - "$results" "$status" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
passed = sum(int(n) for n in re.findall(r"Test run with (\d+) tests? .*passed after", text))
failed = len(re.findall(r"✘ Test (?!run with).* failed after", text))
passed += len(re.findall(r"^PASS  ", text, re.M))
failed += len(re.findall(r"^FAIL  ", text, re.M))
if sys.argv[2] != "0" and failed == 0:
    failed = 1  # a phase failed without a test failing (build, check script, crash)
print(f"{passed} passed, {failed} failed")
PY
rm -f "$results"
exit $status
