#!/usr/bin/env bash
# Conformance check of openapi/herald.yaml against a live herald-ingest: schemathesis generates
# requests from the document (examples, coverage and fuzzing phases, a bounded number of cases
# per operation) and checks that the server never answers 5xx and that every status code,
# content type, header and body conforms to the document. Only 127.0.0.1 is contacted.
#
#   scripts/check-openapi.sh            # uses the test node of scripts/test.sh if exported, else starts one
#   MAX_EXAMPLES=30 scripts/check-openapi.sh
#
# Settings (environment): MAX_EXAMPLES (10 per operation), HERALD_INGEST_BIN (a built
# herald-ingest; by default .build/debug/herald-ingest, built if missing).
# Finishes in well under 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_EXAMPLES=${MAX_EXAMPLES:-10}
command -v schemathesis >/dev/null || pip install --quiet schemathesis

bin=${HERALD_INGEST_BIN:-.build/debug/herald-ingest}
if [ ! -x "$bin" ]; then
    swift build --product herald-ingest >&2
fi

work=$(mktemp -d /tmp/herald-openapi.XXXXXX)
own_node=
vhost=
ingest_pid=
cleanup() {
    [ -n "$ingest_pid" ] && kill "$ingest_pid" 2>/dev/null && wait "$ingest_pid" 2>/dev/null || true
    [ -n "$vhost" ] && rabbitmqctl -n "$HERALD_TEST_RABBIT_NODE" delete_vhost "$vhost" >/dev/null 2>&1 || true
    [ -n "$own_node" ] && scripts/rabbitmq-node.sh stop "$work/node" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${HERALD_TEST_AMQP_URL:-}" ]; then
    own_node=1
    eval "$(scripts/rabbitmq-node.sh start "$work/node" "herald-openapi-$$")"
fi
# A vhost of its own, so the fuzzer's events never reach another test's queues.
vhost=openapi-$$
rabbitmqctl -n "$HERALD_TEST_RABBIT_NODE" add_vhost "$vhost" >/dev/null
rabbitmqctl -n "$HERALD_TEST_RABBIT_NODE" set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
amqp_url="${HERALD_TEST_AMQP_URL%/}/$vhost"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
admin=openapi-admin-$RANDOM-$RANDOM-$RANDOM
HERALD_AMQP_URL=$amqp_url HERALD_DATABASE_PATH=$work/herald.sqlite HERALD_INGEST_PORT=$port \
HERALD_ADMIN_KEY=$admin HERALD_LOG_LEVEL=warning "$bin" 2>"$work/ingest.log" &
ingest_pid=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "herald-ingest did not become ready" >&2; cat "$work/ingest.log" >&2; exit 1; }

key=$(curl -fs -X POST "http://127.0.0.1:$port/v1/accounts" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d '{"id":"openapi","name":"OpenAPI check"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["apiKey"])')
# An endpoint and an event, so operations on existing resources are exercised too.
curl -fs -X POST "http://127.0.0.1:$port/v1/endpoints" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"id":"ep_openapi","url":"https://example.com/hook"}' >/dev/null

status=0
timeout 170 schemathesis run openapi/herald.yaml --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing --max-examples "$MAX_EXAMPLES" --seed 1 --workers 2 \
    --generation-database none --request-timeout 10 --suppress-health-check all --no-color || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- herald-ingest log (last 40 lines) ---" >&2
    tail -n 40 "$work/ingest.log" >&2
fi
exit $status
