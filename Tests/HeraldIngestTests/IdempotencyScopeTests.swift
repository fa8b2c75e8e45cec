import AMQP
import Foundation
import HeraldCore
import Testing

@Suite("Idempotency-Key is scoped by the acting account and checked after authorisation and validation")
struct IdempotencyScopeTests {
    static func accounts(of deliveries: [AMQPDelivery]) -> [String] {
        deliveries.compactMap { try? Event.wireDecoded(Array($0.body)).account }.sorted()
    }

    @Test("the admin reusing an Idempotency-Key for another account gets a new answer and the event is published")
    func adminKeyIsPerAccount() async throws {
        try await withIngest { h in
            _ = try await h.account("idem_a")
            _ = try await h.account("idem_b")
            let admin = IngestHarness.adminKey
            let first = try await h.call(
                "POST", "/v1/events", key: admin, json: #"{"type":"call.completed","account":"idem_a"}"#,
                headers: ["Idempotency-Key": "shared-1"])
            let second = try await h.call(
                "POST", "/v1/events", key: admin, json: #"{"type":"call.completed","account":"idem_b"}"#,
                headers: ["Idempotency-Key": "shared-1"])
            #expect(first.status == 202, "\(first)")
            #expect(second.status == 202, "\(second)")
            #expect(second.header("Idempotent-Replayed") == nil, "expected a fresh answer for idem_b, got a replay: \(second)")
            #expect(second["id"] != first["id"], "expected a new event id for idem_b, got idem_a's \(first.text)")
            // The same key for the same account, by the admin or by the account's key, is a replay.
            let again = try await h.call(
                "POST", "/v1/events", key: admin, json: #"{"type":"call.completed","account":"idem_a"}"#,
                headers: ["Idempotency-Key": "shared-1"])
            #expect(again.header("Idempotent-Replayed") == "true", "\(again)")
            #expect(again.body == first.body, "expected \(first.text), got \(again.text)")

            let status1 = try await h.call(
                "POST", "/v1/messages/m-1/status", key: admin,
                json: #"{"status":"DELIVERED","recipient":"+15550001","account":"idem_a"}"#,
                headers: ["Idempotency-Key": "shared-2"])
            let status2 = try await h.call(
                "POST", "/v1/messages/m-1/status", key: admin,
                json: #"{"status":"DELIVERED","recipient":"+15550001","account":"idem_b"}"#,
                headers: ["Idempotency-Key": "shared-2"])
            #expect(status1.status == 202, "\(status1)")
            #expect(status2.status == 202, "\(status2)")
            #expect(status2.header("Idempotent-Replayed") == nil, "expected a fresh answer for idem_b, got \(status2)")

            let amqp = try await h.connect()
            let got = try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)
            #expect(
                Self.accounts(of: got) == ["idem_a", "idem_a", "idem_b", "idem_b"],
                "expected two events per account on herald.sign, got \(Self.accounts(of: got))")
            await amqp.close()
        }
    }

    @Test("a repeated key is answered only after the caller is authorised for the account and the body is valid")
    func replayAfterChecks() async throws {
        try await withIngest { h in
            let (_, keyA) = try await h.account("idem_c")
            _ = try await h.account("idem_d")
            let first = try await h.call(
                "POST", "/v1/events", key: keyA, json: #"{"type":"call.completed"}"#,
                headers: ["Idempotency-Key": "order-9"])
            #expect(first.status == 202, "\(first)")
            let foreign = try await h.call(
                "POST", "/v1/events?account=idem_d", key: keyA, json: #"{"type":"call.completed"}"#,
                headers: ["Idempotency-Key": "order-9"])
            #expect(foreign.status == 403, "expected 403 for another account's events, got \(foreign)")
            let invalid = try await h.call(
                "POST", "/v1/events", key: keyA, json: #"{"type":"Not An Event Type"}"#,
                headers: ["Idempotency-Key": "order-9"])
            #expect(invalid.status == 422, "expected 422 for an invalid body, got \(invalid)")
            let statusForeign = try await h.call(
                "POST", "/v1/messages/m-2/status?account=idem_d", key: keyA,
                json: #"{"status":"SENT","recipient":"+15550002"}"#,
                headers: ["Idempotency-Key": "order-10"])
            #expect(statusForeign.status == 403, "\(statusForeign)")
            let replay = try await h.call(
                "POST", "/v1/events", key: keyA, json: #"{"type":"call.completed"}"#,
                headers: ["Idempotency-Key": "order-9"])
            #expect(replay.status == 202)
            #expect(replay.header("Idempotent-Replayed") == "true", "\(replay)")
            #expect(replay.body == first.body)
        }
    }

    @Test("an Idempotency-Key on an admin batch that spans several accounts is refused with 422")
    func multiAccountBatch() async throws {
        try await withIngest { h in
            _ = try await h.account("idem_e")
            _ = try await h.account("idem_f")
            let batch = #"[{"type":"a.b","account":"idem_e"},{"type":"a.b","account":"idem_f"}]"#
            let refused = try await h.call(
                "POST", "/v1/events", key: IngestHarness.adminKey, json: batch,
                headers: ["Idempotency-Key": "batch-1"])
            #expect(refused.status == 422, "\(refused)")
            #expect(refused["field"] == "Idempotency-Key", "\(refused)")
            let amqp = try await h.connect()
            #expect(try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue).isEmpty)
            // One account per keyed batch is fine; without a key, any mix is.
            let one = #"[{"type":"a.b","account":"idem_e"},{"type":"a.c","account":"idem_e"}]"#
            #expect(
                try await h.call(
                    "POST", "/v1/events", key: IngestHarness.adminKey, json: one,
                    headers: ["Idempotency-Key": "batch-1"]
                ).status == 202)
            #expect(try await h.call("POST", "/v1/events", key: IngestHarness.adminKey, json: batch).status == 202)
            #expect(try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue).count == 4)
            await amqp.close()
        }
    }
}
