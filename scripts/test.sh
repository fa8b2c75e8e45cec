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

node_dir=$(mktemp -d /tmp/herald-test-node.XXXXXX)
cleanup() {
    scripts/rabbitmq-node.sh stop "$node_dir" || true
    rm -rf "$node_dir"
    # Receivers the tests started are stopped by the tests; make sure none outlives a crash.
    pkill -f "Tests/Herald[A-Za-z]*Tests/Fixtures/receiver.py" 2>/dev/null || true
}
trap cleanup EXIT
echo "==> starting a private RabbitMQ node in $node_dir"
eval "$(scripts/rabbitmq-node.sh start "$node_dir" "herald-test-$$")"

status=0
echo "==> tests (in parallel)"
swift test --skip-build --skip 'BrokerOutage|HeraldDeliveryTests' || status=1
# The HTTP engine's tests assert timeouts to within a second or two: they run on their own, not
# while fifty other tests start processes and brokers' vhosts.
echo "==> HTTP delivery engine tests"
swift test --skip-build --filter HeraldDeliveryTests || status=1
# These stop the broker or raise its alarms, so they run alone.
echo "==> broker outage tests (alone)"
swift test --skip-build --filter BrokerOutage || status=1

for check in scripts/check-deploy.sh scripts/check-openapi.sh; do
    if [ -x "$check" ]; then
        echo "==> $check"
        "$check" || status=1
    fi
done
exit $status
