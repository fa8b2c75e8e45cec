import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Deliveries to an event's callbackUrl are part of the event's story")
struct CallbackAttemptTests {
    @Test("GET /v1/events/{id} and its attempts list show the callback delivery, with its URL")
    func callbackAttemptsAreShown() async throws {
        try await withIngest { h in
            let (account, key) = try await h.account("acct_cb")
            let posted = try await h.call(
                "POST", "/v1/events", key: key,
                json: #"{"id":"evt_cb","type":"message.delivered","callbackUrl":"https://cb.example/hook"}"#)
            #expect(posted.status == 202, "\(posted)")
            // Before any attempt the callback is pending, like an endpoint.
            let before = try await h.call("GET", "/v1/events/evt_cb", key: key)
            let pending = before["deliveries"]?.arrayValue ?? []
            #expect(
                pending.count == 1 && pending.first?["endpointId"] == .string("callback:\(account)")
                    && pending.first?["state"] == "pending" && pending.first?["url"] == "https://cb.example/hook",
                "expected one pending callback delivery, got \(before)")

            let amqp = try await h.connect()
            _ = try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)
            let now = Timestamp.now()
            let record = AttemptRecord(
                eventId: "evt_cb", endpointId: "callback:\(account)", attempt: 1, at: now,
                outcome: .delivered, statusCode: 200, latencyMs: 7, url: "https://cb.example/hook")
            try await amqp.publish([
                AMQPPublication(
                    exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey,
                    body: Data(record.wireEncoded()), properties: AMQPProperties(contentType: "application/json"))
            ])
            var last = ""
            let listed = await eventually(timeout: .seconds(10)) {
                let reply = try? await h.call("GET", "/v1/events/evt_cb/attempts", key: key)
                last = reply?.description ?? "none"
                return reply?["data"]?.arrayValue?.count == 1
            }
            #expect(listed, "expected the callback attempt in the event's attempts, got \(last)")
            let attempts = try await h.call("GET", "/v1/events/evt_cb/attempts", key: key)
            #expect(attempts["data"]?.arrayValue?.first?["endpointId"] == .string("callback:\(account)"), "\(attempts)")
            #expect(attempts["data"]?.arrayValue?.first?["url"] == "https://cb.example/hook", "\(attempts)")

            let event = try await h.call("GET", "/v1/events/evt_cb", key: key)
            let deliveries = event["deliveries"]?.arrayValue ?? []
            #expect(deliveries.count == 1, "expected one delivery, got \(event)")
            #expect(deliveries.first?["endpointId"] == .string("callback:\(account)"), "\(event)")
            #expect(deliveries.first?["state"] == "delivered", "\(event)")
            #expect(deliveries.first?["url"] == "https://cb.example/hook", "\(event)")
            #expect(deliveries.first?["callback"] == true, "\(event)")

            // Another account's event with the same id does not see this callback's attempts.
            let (_, otherKey) = try await h.account("acct_cb_other")
            _ = try await h.call("POST", "/v1/events", key: otherKey, json: #"{"id":"evt_cb","type":"message.delivered"}"#)
            let other = try await h.call("GET", "/v1/events/evt_cb/attempts", key: otherKey)
            #expect(other["data"] == .array([]), "\(other)")
            await amqp.close()
        }
    }

    @Test("an account cannot name an endpoint after another account's callback deliveries")
    func callbackIdsAreReserved() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_cb_thief")
            _ = try await h.account("acct_cb_victim")
            let reply = try await h.call(
                "POST", "/v1/endpoints", key: key,
                json: #"{"id":"callback:acct_cb_victim","url":"https://thief.example/"}"#)
            #expect(reply.status == 422, "expected the reserved id refused, got \(reply)")
            #expect(reply["field"] == "id", "\(reply)")
        }
    }
}
