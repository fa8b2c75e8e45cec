import AMQP
import Foundation
import HeraldCore
import Testing

@Suite("POST /v1/events and /v1/messages/{id}/status")
struct EventRouteTests {
    @Test("a single event is answered 202 only once it is on herald.sign, routed by its type")
    func singleEvent() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_single")
            let reply = try await h.call(
                "POST", "/v1/events", key: key,
                json: """
                    {"id":"evt_one","type":"message.delivered","occurredAt":"2026-06-20T05:51:00Z","data":{"messageId":"m1"}}
                    """)
            #expect(reply.status == 202, "\(reply)")
            #expect(reply.json == ["id": "evt_one"])
            let amqp = try await h.connect()
            let got = try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)
            #expect(got.count == 1)
            let event = try Event.wireDecoded(Array(try #require(got.first).body))
            #expect(event.id == "evt_one")
            #expect(event.account == "acct_single")
            #expect(event.type == "message.delivered")
            #expect(got.first?.routingKey == "message.delivered")
            #expect(event.occurredAt == Timestamp(iso8601: "2026-06-20T05:51:00Z"))
            #expect(event.data == ["messageId": "m1"])
            await amqp.close()
        }
    }

    @Test(
        "a batch is accepted whole; repeated event ids and Idempotency-Keys are answered with the original result and published once"
    )
    func batchAndIdempotency() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_batch")
            let events = (1...250).map { #"{"id":"evt_b\#($0)","type":"sms.received","data":{"n":\#($0)}}"# }
            let reply = try await h.call("POST", "/v1/events", key: key, json: #"{"events":[\#(events.joined(separator: ","))]}"#)
            #expect(reply.status == 202, "\(reply)")
            #expect(reply["ids"]?.arrayValue?.count == 250)
            #expect(reply["ids"]?.arrayValue?.first == "evt_b1")

            // Same ids again, plus one new: only the new one is published.
            let again = try await h.call(
                "POST", "/v1/events", key: key,
                json: #"[{"id":"evt_b1","type":"sms.received"},{"id":"evt_new","type":"sms.received"}]"#)
            #expect(again.status == 202, "\(again)")
            #expect(again["ids"] == ["evt_b1", "evt_new"])
            let single = try await h.call("POST", "/v1/events", key: key, json: #"{"id":"evt_b2","type":"sms.received"}"#)
            #expect(single.json == ["id": "evt_b2"])

            // Idempotency-Key without event ids: the second answer is the first one, replayed.
            let first = try await h.call(
                "POST", "/v1/events", key: key, json: #"{"type":"call.completed"}"#,
                headers: ["Idempotency-Key": "order-77"])
            let second = try await h.call(
                "POST", "/v1/events", key: key, json: #"{"type":"call.completed"}"#,
                headers: ["Idempotency-Key": "order-77"])
            #expect(first.status == 202)
            #expect(second.status == 202)
            #expect(second.body == first.body, "expected \(first.text), got \(second.text)")
            #expect(second.header("Idempotent-Replayed") == "true")

            let amqp = try await h.connect()
            let got = try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)
            #expect(got.count == 250 + 1 + 1, "published \(got.count) messages")
            await amqp.close()

            let tooMany = (0...1000).map { _ in #"{"type":"a.b"}"# }.joined(separator: ",")
            let big = try await h.call("POST", "/v1/events", key: key, json: "[\(tooMany)]")
            #expect(big.status == 422, "\(big.status)")
            #expect(big["rule"] == "max 1000 items")
            let empty = try await h.call("POST", "/v1/events", key: key, json: "[]")
            #expect(empty.status == 422)
        }
    }

    @Test("malformed events are refused naming the field, and nothing reaches the broker")
    func validation() async throws {
        try await withIngest(maxBodyBytes: 4_096) { h in
            let (_, key) = try await h.account("acct_bad")
            let cases: [(String, Int, String)] = [
                (#"[{"type":"a.b"},{"type":"Message.Sent"}]"#, 422, "events[1].type"),
                (#"{"type":"message..sent"}"#, 422, "type"),
                (#"{"data":{}}"#, 422, "type"),
                (#"{"type":"a.b","data":[1]}"#, 422, "data"),
                (#"{"type":"a.b","occurredAt":"yesterday"}"#, 422, "occurredAt"),
                (#"{"type":"a.b","callbackUrl":"ftp://x.example/"}"#, 422, "callbackUrl"),
                (#"{"type":"a.b","callbackUrl":"https://user:pw@x.example/"}"#, 422, "callbackUrl"),
                (#"{"type":"a.b","id":"has space"}"#, 422, "id"),
                (#"{"type":"attempt.exhausted"}"#, 422, "type"),
                (#"[{"type":"a.b"},{"type":"endpoint.disabled"}]"#, 422, "events[1].type"),
                (#"{"type":"a.b","account":"someone_else"}"#, 403, "Authorization"),
                (#"{"type":"a.b""#, 400, "body"),
                (#""just a string""#, 422, "body"),
            ]
            for (body, status, field) in cases {
                let reply = try await h.call("POST", "/v1/events", key: key, json: body)
                #expect(reply.status == status, "\(body) → \(reply)")
                #expect(reply["field"]?.stringValue == field, "\(body) → \(reply)")
                #expect(reply.header("Content-Type") == "application/problem+json")
            }
            let huge = #"{"type":"a.b","data":{"x":""# + String(repeating: "x", count: 5_000) + #""}}"#
            let tooLarge = try await h.call("POST", "/v1/events", key: key, json: huge)
            #expect(tooLarge.status == 413, "\(tooLarge)")
            #expect(tooLarge["field"] == "body")

            let amqp = try await h.connect()
            #expect(try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue).isEmpty)
            await amqp.close()
        }
    }

    @Test("a status change becomes a message.<status> event with the standard data fields")
    func statusChange() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_status")
            let reply = try await h.call(
                "POST", "/v1/messages/msg_42/status", key: key,
                json: """
                    {"status":"delivered","recipient":"+9779818000000","channel":"sms","occurredAt":"2026-06-20T05:51:00.000Z",
                     "eventId":"evt_status_1","data":{"segments":2},"callbackUrl":"https://cb.example/hook"}
                    """)
            #expect(reply.status == 202, "\(reply)")
            #expect(reply.json == ["id": "evt_status_1", "type": "message.delivered"])
            let amqp = try await h.connect()
            let got = try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)
            let event = try Event.wireDecoded(Array(try #require(got.first).body))
            #expect(event.type == "message.delivered")
            #expect(event.callbackUrl == "https://cb.example/hook")
            #expect(
                event.data == [
                    "messageId": "msg_42", "status": "DELIVERED", "recipient": "+9779818000000", "channel": "sms", "segments": 2,
                ])
            await amqp.close()

            let badStatus = try await h.call(
                "POST", "/v1/messages/m1/status", key: key, json: #"{"status":"de-livered","recipient":"1"}"#)
            #expect(badStatus.status == 422)
            #expect(badStatus["field"] == "status")
            let noRecipient = try await h.call("POST", "/v1/messages/m1/status", key: key, json: #"{"status":"SENT"}"#)
            #expect(noRecipient.status == 422)
            #expect(noRecipient["field"] == "recipient")
            #expect(noRecipient["rule"] == "required")

            let fetched = try await h.call("GET", "/v1/events/evt_status_1", key: key)
            #expect(fetched.status == 200, "\(fetched)")
            #expect(fetched["type"] == "message.delivered")
            // It goes to its callbackUrl alone: one pending delivery under the callback's pseudo endpoint id.
            let deliveries = fetched["deliveries"]?.arrayValue ?? []
            #expect(
                deliveries.count == 1 && deliveries.first?["endpointId"] == "callback:acct_status"
                    && deliveries.first?["state"] == "pending" && deliveries.first?["url"] == "https://cb.example/hook",
                "expected one pending callback delivery, got \(fetched)")
        }
    }
}
