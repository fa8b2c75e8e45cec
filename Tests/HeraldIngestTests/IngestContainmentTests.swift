import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import HeraldTopology
import Testing

/// Containment in herald-ingest (issue 12): duplicates, announcements, bad records.
@Suite("Ingest containment (real broker, real SQLite store)")
struct IngestContainmentTests {
    @Test("the same event id sent 20 times at once is accepted 20 times and published once")
    func concurrentDuplicatesPublishOnce() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_dup")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await h.call("POST", "/v1/events", key: key, json: #"{"id":"evt_race","type":"message.sent"}"#).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 202 }, "answers: \(statuses)")
            let amqp = try await h.connect()
            try await Task.sleep(for: .milliseconds(500))
            let published = try await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)
            #expect(published.count == 1, "copies published: expected 1, got \(published.count)")
            await amqp.close()
        }
    }

    @Test("announcements are not lost when publishing them fails after the attempts were stored")
    func announcementsSurviveAFailedPublish() async throws {
        try await withIngest { h in
            let (_, key) = try await h.account("acct_outbox")
            _ = try await h.call("POST", "/v1/endpoints", key: key, json: #"{"id":"ep_gone","url":"https://gone.example/"}"#)
            let amqp = try await h.connect()
            // Without herald.sign, a mandatory publish to herald.events is unroutable: the
            // announcement cannot be published until the queue is back.
            try await amqp.delete(queue: HeraldNames.signQueue)
            let record = AttemptRecord(
                eventId: "evt_o", endpointId: EndpointKey.key(account: "acct_outbox", id: "ep_gone"), attempt: 1, at: .now(),
                outcome: .dead,
                statusCode: 410, latencyMs: 5, error: "gone", url: "https://gone.example/")
            try await amqp.publish(
                AMQPPublication(
                    exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey,
                    body: Data(record.wireEncoded()), properties: AMQPProperties(contentType: "application/json")))
            let stored = await eventually(timeout: .seconds(10)) {
                (try? await h.call("GET", "/v1/endpoints/ep_gone", key: key))?["enabled"] == false
            }
            #expect(stored, "the 410 was recorded and disabled the endpoint")
            try await Task.sleep(for: .seconds(1))
            try await amqp.declare(HeraldTopology.events)

            var types: [String] = []
            _ = await eventually(timeout: .seconds(20)) {
                let got = (try? await IngestHarness.drain(amqp, queue: HeraldNames.signQueue)) ?? []
                types += got.compactMap { try? Event.wireDecoded(Array($0.body)).type }
                return types.count >= 2
            }
            #expect(types.sorted() == ["attempt.exhausted", "endpoint.disabled"], "announced: \(types)")
            await amqp.close()
        }
    }

    @Test("an unreadable attempt record is dead-lettered with a reason, not dropped")
    func unreadableAttemptRecordIsDeadLettered() async throws {
        try await withIngest { h in
            let amqp = try await h.connect()
            try await amqp.publish(
                AMQPPublication(
                    exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey,
                    body: Data("{\"kind\":\"herald.attempt\"".utf8),
                    properties: AMQPProperties(contentType: "application/json", messageId: "bad-record-1")))
            let letters = try await amqp.take(1, from: HeraldNames.deadQueue, timeout: .seconds(10))
            #expect(letters.count == 1, "dead letters: expected 1, got \(letters.count)")
            #expect(letters.first?.properties.headers[DeadLetterHeaders.reason]?.stringValue == "invalid-attempt-record")
            #expect(letters.first?.properties.messageId == "bad-record-1")
            #expect(letters.first?.body == Data("{\"kind\":\"herald.attempt\"".utf8))
            await amqp.close()
        }
    }
}
