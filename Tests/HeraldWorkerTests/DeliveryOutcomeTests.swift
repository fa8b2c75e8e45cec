import AMQP
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldSigning
import HeraldTestSupport
import HeraldWorker
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The worker against a real broker (an isolated vhost) and real receivers on 127.0.0.1.
@Suite("A worker delivering jobs")
struct DeliveryOutcomeTests {
    @Test("delivers a job and publishes a delivered attempt record")
    func success() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start()
        let job = Jobs.job(for: Jobs.endpoint(receiver.url("/status/200")))
        try await h.publish([job])
        let records = try await h.attempts(count: 1)
        await h.stop()
        #expect(records.count == 1, "expected one attempt record, got \(records.count)")
        let r = try #require(records.first)
        #expect(r.outcome == .delivered, "outcome: got \(r.outcome)")
        #expect(r.statusCode == 200, "status: got \(String(describing: r.statusCode))")
        #expect(r.eventId == job.event.id && r.endpointId == job.endpointId && r.attempt == 1)
        #expect(r.responseSnippet == "status 200", "snippet: got \(String(describing: r.responseSnippet))")
    }

    @Test("retries a 500 through the 1s tier and delivers on the second attempt")
    func retryThenDeliver() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start()
        let endpoint = Jobs.endpoint(receiver.url("/flaky/\(UUID().uuidString.prefix(8))/1"))
        try await h.publish([Jobs.job(for: endpoint)])
        let first = try await h.attempts(count: 1)
        #expect(first.first?.outcome == .retrying, "first attempt: got \(String(describing: first.first?.outcome))")
        #expect(first.first?.statusCode == 500)
        // Act as the signer: the tier expires the job into herald.resign; re-sign it, attempt kept.
        let resigned = try await h.take(HeraldNames.resignQueue, count: 1, timeout: .seconds(10))
        let parked = try DeliveryJob.wireDecoded(Array(try #require(resigned.first).body))
        #expect(parked.attempt == 2, "job back from the tier: attempt \(parked.attempt), expected 2")
        let again = try Signer.sign(parked.event, for: endpoint, retrying: parked, now: .now())
        try await h.publish([again])
        let second = try await h.attempts(count: 1)
        await h.stop()
        let r = try #require(second.first)
        #expect(
            r.outcome == .delivered && r.attempt == 2 && r.statusCode == 200,
            "second attempt: got \(r.outcome) attempt \(r.attempt) status \(String(describing: r.statusCode))")
    }

    @Test("dead-letters a 410 as gone, and the attempt record says the endpoint is gone")
    func gone() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start()
        let job = Jobs.job(for: Jobs.endpoint(receiver.url("/status/410")))
        try await h.publish([job])
        let records = try await h.attempts(count: 1)
        let dead = try await h.take(HeraldNames.deadQueue, count: 1)
        await h.stop()
        let r = try #require(records.first)
        #expect(r.outcome == .dead && r.statusCode == 410, "got \(r.outcome) \(String(describing: r.statusCode))")
        #expect(r.error?.contains("410 Gone") == true, "error: \(String(describing: r.error))")
        let d = try #require(dead.first)
        let headers = d.properties.headers
        #expect(
            headers[DeadLetterHeaders.reason]?.stringValue == "gone",
            "reason: \(String(describing: headers[DeadLetterHeaders.reason]))")
        #expect(headers[DeadLetterHeaders.lastStatus]?.intValue == 410)
        #expect(headers[DeadLetterHeaders.eventId]?.stringValue == job.event.id)
        #expect(try DeliveryJob.wireDecoded(Array(d.body)) == job, "the dead letter's body is the job as it was")
    }

    @Test("parks a 429 in a tier no shorter than its Retry-After")
    func retryAfter() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start()
        try await h.publish([Jobs.job(for: Jobs.endpoint(receiver.url("/retry-after/3")))])
        let records = try await h.attempts(count: 1)
        let inTier = try await h.take("herald.retry.5s", count: 1, timeout: .seconds(4))
        await h.stop()
        let r = try #require(records.first)
        #expect(r.outcome == .retrying && r.statusCode == 429)
        let wait = (r.nextAttemptAt?.millisecondsSinceEpoch ?? 0) - r.at.millisecondsSinceEpoch
        #expect(wait >= 3000, "next attempt \(wait) ms after the attempt; Retry-After asked 3000")
        #expect(inTier.count == 1, "expected the job in herald.retry.5s, found \(inTier.count)")
    }

    @Test("enforces the policy's timeout on a receiver that hangs")
    func hangingReceiver() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start()
        try await h.publish([Jobs.job(for: Jobs.endpoint(receiver.url("/hang")))])
        let records = try await h.attempts(count: 1)
        await h.stop()
        let r = try #require(records.first)
        #expect(r.outcome == .retrying && r.statusCode == nil)
        #expect(r.error?.contains("timed out") == true, "error: \(String(describing: r.error))")
        #expect((900...2500).contains(r.latencyMs), "latency \(r.latencyMs) ms for a 1000 ms timeout")
    }

    @Test("retries a refused connection")
    func connectionRefused() async throws {
        let h = try await WorkerHarness.start()
        let port = try closedPort()
        try await h.publish([Jobs.job(for: Jobs.endpoint("http://127.0.0.1:\(port)/hook"))])
        let records = try await h.attempts(count: 1)
        await h.stop()
        let r = try #require(records.first)
        #expect(r.outcome == .retrying && r.statusCode == nil)
        #expect(r.error?.contains("could not connect") == true, "error: \(String(describing: r.error))")
    }

    @Test("dead-letters a job out of attempts with the reasons in its headers")
    func exhausted() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start()
        let job = Jobs.job(for: Jobs.endpoint(receiver.url("/status/503")), attempt: 4)
        try await h.publish([job])
        let records = try await h.attempts(count: 1)
        let dead = try await h.take(HeraldNames.deadQueue, count: 1)
        await h.stop()
        #expect(records.first?.outcome == .dead)
        let headers = try #require(dead.first).properties.headers
        #expect(headers[DeadLetterHeaders.reason]?.stringValue == "retries-exhausted", "\(headers)")
        #expect(headers[DeadLetterHeaders.attempts]?.intValue == 4)
        #expect(headers[DeadLetterHeaders.lastStatus]?.intValue == 503)
        #expect(headers[DeadLetterHeaders.error]?.stringValue?.contains("gave up after 4 attempts") == true, "\(headers)")
        #expect(headers[DeadLetterHeaders.endpointId]?.stringValue == job.endpointId)
        #expect(headers[DeadLetterHeaders.account]?.stringValue == job.event.account)
        #expect(headers[DeadLetterHeaders.eventType]?.stringValue == job.event.type)
        #expect(headers[DeadLetterHeaders.source]?.stringValue == "herald-worker")
        #expect(headers[DeadLetterHeaders.deadAt]?.stringValue != nil)
    }

    @Test("dead-letters an undecodable message as invalid-job, byte for byte")
    func invalidJob() async throws {
        let h = try await WorkerHarness.start()
        let junk = Data("{\"kind\":\"nope\"}".utf8)
        try await h.connection.publish(
            AMQPPublication(
                exchange: HeraldNames.deliveriesExchange, routingKey: HeraldNames.deliverRoutingKey, body: junk))
        let dead = try await h.take(HeraldNames.deadQueue, count: 1)
        await h.stop()
        let d = try #require(dead.first)
        #expect(d.body == junk)
        #expect(d.properties.headers[DeadLetterHeaders.reason]?.stringValue == "invalid-job")
    }

    @Test("refuses 127.0.0.1 and localhost when they are not allowlisted")
    func ssrf() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start { $0.destinationGuard = DestinationGuard() }
        try await h.publish([
            Jobs.job(for: Jobs.endpoint(receiver.url("/status/200"))),
            Jobs.job(for: Jobs.endpoint(receiver.url("/status/200", host: "localhost"))),
        ])
        let dead = try await h.take(HeraldNames.deadQueue, count: 2)
        let records = try await h.attempts(count: 2)
        await h.stop()
        #expect(dead.count == 2, "expected both dead-lettered, got \(dead.count)")
        for d in dead {
            #expect(
                d.properties.headers[DeadLetterHeaders.reason]?.stringValue == "destination-refused",
                "\(d.properties.headers)")
        }
        for r in records { #expect(r.error?.contains("loopback") == true, "error: \(String(describing: r.error))") }
        let stats = try await receiverStats(receiver)
        #expect(stats.requests == 0, "the receiver got \(stats.requests) requests; expected none")
    }

    @Test("parks jobs whose notBefore is in the future without spending an attempt")
    func notBefore() async throws {
        let h = try await WorkerHarness.start()
        var job = Jobs.job(for: Jobs.endpoint("http://127.0.0.1:9/never"), attempt: 2)
        job.notBefore = Timestamp.now().adding(seconds: 20)
        try await h.publish([job])
        let parked = try await h.take("herald.retry.30s", count: 1, timeout: .seconds(5))
        await h.stop()
        let back = try DeliveryJob.wireDecoded(Array(try #require(parked.first).body))
        #expect(back.attempt == 2, "attempt \(back.attempt), expected 2 (unchanged)")
    }
}

func receiverStats(_ receiver: TestReceiver) async throws -> ReceiverStats {
    let (data, _) = try await URLSession.shared.data(from: URL(string: receiver.url("/stats"))!)
    return try JSONDecoder().decode(ReceiverStats.self, from: data)
}
