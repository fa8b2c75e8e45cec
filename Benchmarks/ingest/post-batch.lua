-- wrk script: a batch of BATCH events per request ({"events":[…]}), server-generated ids.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("HERALD_API_KEY")
local n = tonumber(os.getenv("BATCH") or "100")
local one = '{"type":"message.delivered","data":{"messageId":"m-bench","status":"DELIVERED",' ..
            '"recipient":"+9779818000000","channel":"sms","segments":2}}'
local items = {}
for i = 1, n do items[i] = one end
wrk.body = '{"events":[' .. table.concat(items, ",") .. ']}'

-- Non-2xx answers are counted by wrk itself ("Non-2xx or 3xx responses"): every 202 is a
-- broker-confirmed event.
