import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Delivery log from herald.attempts")
struct DeliveryLogTests {
    func publish(_ records: [AttemptRecord], via amqp: AMQPConnection) async throws {
        try await amqp.publish(
            records.map {
                AMQPPublication(
                    exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey,
                    body: Data($0.wireEncoded()), properties: AMQPProperties(contentType: "application/json"))
            })
    }

    @Test(
        "attempts are recorded and listed per event and endpoint; the event shows where it stands; 410 disables the endpoint and announces it"
    )
    func recordsAndHealth() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_log")
            _ = try await h.call(
                "POST", "/v1/endpoints", key: key, json: #"{"id":"ep_ok","url":"https://ok.example/","eventTypes":["message.*"]}"#
            )
            _ = try await h.call("POST", "/v1/endpoints", key: key, json: #"{"id":"ep_gone","url":"https://gone.example/"}"#)
            _ = try await h.call("POST", "/v1/endpoints", key: key, json: #"{"id":"ep_wait","url":"https://wait.example/"}"#)
            #expect(
                try await h.call("POST", "/v1/events", key: key, json: #"{"id":"evt_log","type":"message.failed"}"#).status == 202
            )
            let amqp = try await h.connect()
            _ = try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)

            let now = Timestamp.now()
            // Jobs, and so attempt records, carry the store key `<account>/<id>` (EndpointKey).
            let records = [
                AttemptRecord(
                    eventId: "evt_log", endpointId: "acct_log/ep_ok", attempt: 1, at: now, outcome: .retrying, statusCode: 503,
                    latencyMs: 40, responseSnippet: "busy", url: "https://ok.example/", nextAttemptAt: now.adding(seconds: 30)),
                AttemptRecord(
                    eventId: "evt_log", endpointId: "acct_log/ep_ok", attempt: 2, at: now.adding(seconds: 30),
                    outcome: .delivered,
                    statusCode: 200, latencyMs: 12, url: "https://ok.example/"),
                AttemptRecord(
                    eventId: "evt_log", endpointId: "acct_log/ep_gone", attempt: 1, at: now, outcome: .dead, statusCode: 410,
                    latencyMs: 9, error: "gone", url: "https://gone.example/"),
            ]
            try await publish(records, via: amqp)

            var listed: HeraldIngestTestsReply?
            let arrived = await eventually(timeout: .seconds(10)) {
                let reply = try? await h.call("GET", "/v1/events/evt_log/attempts", key: key)
                listed = reply.map(HeraldIngestTestsReply.init)
                return reply?["data"]?.arrayValue?.count == 3
            }
            #expect(arrived, "attempts listed: \(listed?.text ?? "none")")

            let event = try await h.call("GET", "/v1/events/evt_log", key: key)
            let states = Dictionary(
                uniqueKeysWithValues: (event["deliveries"]?.arrayValue ?? []).compactMap { d in
                    d["endpointId"]?.stringValue.map { ($0, d["state"]?.stringValue ?? "?") }
                })
            #expect(states == ["ep_ok": "delivered", "ep_gone": "dead", "ep_wait": "pending"], "\(event)")

            let page = try await h.call("GET", "/v1/endpoints/ep_ok/attempts?limit=1", key: key)
            #expect(page["data"]?.arrayValue?.first?["attempt"] == 2, "newest first: \(page)")
            let cursor = try #require(page["nextCursor"]?.stringValue)
            let older = try await h.call("GET", "/v1/endpoints/ep_ok/attempts?limit=1&cursor=\(cursor)", key: key)
            #expect(older["data"]?.arrayValue?.first?["attempt"] == 1)
            #expect(older["data"]?.arrayValue?.first?["responseSnippet"] == "busy")
            #expect(try await h.call("GET", "/v1/endpoints/ep_ok/attempts?cursor=abc", key: key).status == 422)

            let gone = try await h.call("GET", "/v1/endpoints/ep_gone", key: key)
            #expect(gone["enabled"] == false, "\(gone)")
            #expect(gone["disabledReason"] == "410 Gone")
            let ok = try await h.call("GET", "/v1/endpoints/ep_ok", key: key)
            #expect(ok["health"]?["consecutiveFailures"] == 0)

            // endpoint.disabled and attempt.exhausted are published like any other event.
            var types: [String] = []
            _ = await eventually(timeout: .seconds(5)) {
                let got = (try? await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)) ?? []
                types += got.compactMap { try? Event.wireDecoded(Array($0.body)).type }
                return types.count >= 2
            }
            #expect(types.sorted() == ["attempt.exhausted", "endpoint.disabled"])
            await amqp.close()
        }
    }
}

/// A printable copy of a reply for failure messages.
struct HeraldIngestTestsReply {
    let text: String
    init(_ reply: IngestHarness.Reply) { text = reply.description }
}
