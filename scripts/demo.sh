# Sourced by scripts/run.sh once Herald is up: creates a demo account and endpoint, starts a
# verifying receiver (`heraldctl listen`), sends a status change, and shows it delivered and
# verified. Expects $bin, $state, $receiver_port, HERALD_INGEST_URL and HERALD_ADMIN_KEY.

all_delivered() { # reads GET /v1/events/{id}: true when every endpoint's state is delivered
    python3 -c 'import json,sys; d=json.load(sys.stdin)["deliveries"]; sys.exit(0 if d and all(x["state"] == "delivered" for x in d) else 1)'
}
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

api() { # method path key [json body]
    local method=$1 path=$2 key=$3 body=${4:-}
    curl -fsS -X "$method" "$HERALD_INGEST_URL$path" -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' ${body:+--data "$body"}
}

log "demo: creating an account and an EK SMS endpoint that points at a local verifying receiver"
account=$(api POST /v1/accounts "$HERALD_ADMIN_KEY" '{"name":"demo"}')
api_key=$(json_field apiKey <<<"$account")
endpoint=$(api POST /v1/endpoints "$api_key" \
    "{\"url\":\"http://127.0.0.1:$receiver_port/webhooks/sms\",\"profile\":\"eksms\",\"eventTypes\":[\"message.*\"],\"description\":\"demo receiver\"}")
endpoint_id=$(json_field id <<<"$endpoint")
secret=$(json_field secret <<<"$endpoint")
echo "HERALD_API_KEY=$api_key" >>"$state/env"

start_process listen "$bin/heraldctl" listen --port "$receiver_port" --profile eksms --secret "$secret" --json
for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$receiver_port") 2>/dev/null && break
    sleep 0.1
done

message_id="msg_demo_$(date +%s)"
log "demo: POST /v1/messages/$message_id/status  {\"status\":\"DELIVERED\", …}"
accepted=$(api POST "/v1/messages/$message_id/status" "$api_key" \
    '{"status":"DELIVERED","recipient":"9818000000","channel":"sms","reason":"delivered to handset"}')
event_id=$(json_field id <<<"$accepted")
echo "    accepted as event $event_id"

verified=""
for _ in $(seq 1 150); do
    # The EK SMS body names the message, not the event.
    verified=$(grep -m1 "$message_id" "$state/logs/listen.log" 2>/dev/null || true)
    [ -n "$verified" ] && break
    sleep 0.2
done
if [ -z "$verified" ]; then
    echo "demo: the receiver did not get the webhook for $message_id within 30 s; logs in $state/logs" >&2
    tail -n 5 "$state"/logs/*.log >&2
    exit 1
fi
python3 - "$verified" <<'PY'
import json, sys
line = json.loads(sys.argv[1])
print("    receiver got:", line.get("headers", {}).get("x-eksms-event") or line.get("event"))
print("    body:", line.get("body"))
print("    signature verified:", line.get("valid"))
if not line.get("valid"):
    print("    error:", line.get("error"))
    sys.exit(1)
PY
# The worker's attempt record reaches the delivery log a moment after the receiver got the POST.
log "demo: GET /v1/events/$event_id"
for _ in $(seq 1 50); do
    api GET "/v1/events/$event_id" "$api_key" >"$state/demo-event.json"
    all_delivered <"$state/demo-event.json" && break
    sleep 0.2
done
python3 -m json.tool "$state/demo-event.json"
if ! all_delivered <"$state/demo-event.json"; then
    echo "demo: event $event_id is not marked delivered in the delivery log; logs in $state/logs" >&2
    exit 1
fi
log "demo: event $event_id delivered to $endpoint_id and verified by the receiver"
