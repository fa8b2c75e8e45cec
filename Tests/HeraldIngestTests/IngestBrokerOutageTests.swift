import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// The broker's memory alarm as herald-ingest's clients see it. Raises the node's alarm, so it
/// runs in scripts/test.sh's outage phase, alone.
@Suite("Ingest through BrokerOutage: a resource alarm", .serialized)
struct IngestBrokerOutageTests {
    @Test("while the broker blocks publishing, an event is answered 503 within 2 s, and the retry with the same id goes out once")
    func alarmAnswersQuicklyAndRetryIsSafe() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_alarm")
            try TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.0000001")
            var cleared = false
            defer { if !cleared { _ = try? TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.4") } }

            let start = ContinuousClock.now
            let first = try await h.call("POST", "/v1/events", key: key, json: #"{"id":"evt_alarm","type":"message.sent"}"#)
            let elapsed = ContinuousClock.now - start
            #expect(first.status == 503, "\(first)")
            #expect(elapsed < .seconds(2), "answered after \(elapsed)")
            let detail = first["detail"]?.stringValue ?? ""
            // The publish was on the wire when the broker blocked it: it may still be delivered,
            // so the answer must not claim that nothing was accepted.
            #expect(!detail.contains("nothing was accepted") || !detail.contains("may have been"), "detail: \(detail)")

            try TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.4")
            cleared = true
            var retry: IngestHarness.Reply?
            _ = await eventually(timeout: .seconds(15)) {
                retry = try? await h.call("POST", "/v1/events", key: key, json: #"{"id":"evt_alarm","type":"message.sent"}"#)
                return retry?.status == 202
            }
            #expect(retry?.status == 202, "retry: \(String(describing: retry))")

            let amqp = try await h.connect()
            var copies = 0
            _ = await eventually(timeout: .seconds(10)) {
                copies += ((try? await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)) ?? []).count
                return copies >= 1
            }
            try await Task.sleep(for: .seconds(3))
            copies += try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue).count
            #expect(copies == 1, "copies of evt_alarm published: expected 1, got \(copies)")
            await amqp.close()
        }
    }
}
