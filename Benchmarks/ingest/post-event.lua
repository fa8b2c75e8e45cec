-- wrk script: one event per request (server-generated id, so every request is a new event).
-- HERALD_API_KEY comes from the environment (Benchmarks/ingest/run.sh sets it).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("HERALD_API_KEY")
wrk.body = '{"type":"message.delivered","data":{"messageId":"m-bench","status":"DELIVERED",' ..
           '"recipient":"+9779818000000","channel":"sms","segments":2}}'

-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses"): every 202 is a
-- broker-confirmed event.
