import AMQP
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldSigning
import HeraldTestSupport
import Testing

/// The worker's circuit breaker against a real broker (an isolated vhost) and real receivers on
/// 127.0.0.1, with a threshold of 3 and a 3 s cool-down so it opens and closes in seconds.
@Suite("A worker's circuit breaker")
struct CircuitBreakerTests {
    @Test(
        "after 3 failures an endpoint's jobs are parked without spending an attempt, other endpoints flow, and a successful probe closes the breaker"
    )
    func parksThenProbes() async throws {
        let ailingReceiver = try await TestReceiver.start()
        let healthyReceiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start { $0.breaker = .init(failureThreshold: 3, coolDown: .seconds(3)) }
        // 500 for the first three requests, 200 after: the receiver recovers while the breaker is open.
        let ailing = Jobs.endpoint(ailingReceiver.url("/flaky/\(UUID().uuidString.prefix(8))/3"))
        let healthy = Jobs.endpoint(healthyReceiver.url("/status/200"))

        // Three failures open the breaker; each spends an attempt (retried through the 1s tier).
        let opening = (0..<3).map { _ in Jobs.job(for: ailing) }
        try await h.publish(opening)
        let failures = try await h.attempts(count: 3)
        #expect(failures.count == 3, "attempt records for the opening jobs: \(failures.count), expected 3")
        for r in failures {
            #expect(
                r.outcome == .retrying && r.statusCode == 500 && r.attempt == 1,
                "opening job: \(r.outcome), status \(String(describing: r.statusCode)), attempt \(r.attempt)")
        }

        // Open: the ailing endpoint's next jobs are parked, the healthy endpoint's are delivered.
        let parked = (0..<5).map { _ in Jobs.job(for: ailing) }
        let others = (0..<5).map { _ in Jobs.job(for: healthy) }
        try await h.publish(parked + others)
        let meanwhile = try await h.attempts(count: 6, timeout: .seconds(3))
        #expect(meanwhile.count == 5, "attempt records while open: \(meanwhile.count), expected 5 (the healthy endpoint's only)")
        #expect(
            Set(meanwhile.map(\.eventId)) == Set(others.map(\.event.id)),
            "records while open are for \(meanwhile.map(\.endpointId)), expected only \(healthy.id)")
        for r in meanwhile {
            #expect(r.outcome == .delivered && r.attempt == 1, "healthy job: \(r.outcome), attempt \(r.attempt)")
        }

        // Every ailing job comes back from a delay tier for re-signing: the failed ones with
        // their next attempt, the parked ones with their attempt unspent.
        let back = try await h.take(HeraldNames.resignQueue, count: 8, timeout: .seconds(15))
        #expect(back.count == 8, "jobs back from the delay tiers: \(back.count), expected 8")
        var returned: [String: DeliveryJob] = [:]
        for d in back {
            let job = try DeliveryJob.wireDecoded(Array(d.body))
            returned[job.event.id] = job
            let tier = Self.tierQueue(d)
            #expect(
                tier?.hasPrefix("herald.retry.") == true,
                "job \(job.event.id) came back from \(String(describing: tier)), not a delay tier")
            // Parked jobs say why; retried ones (after a real attempt) carry no such header.
            let parkedBecause = d.properties.headers["herald-parked"]
            let expected: AMQPFieldValue? = parked.contains { $0.event.id == job.event.id } ? "circuit_open" : nil
            #expect(parkedBecause == expected, "job \(job.event.id): herald-parked is \(String(describing: parkedBecause))")
        }
        for job in opening {
            #expect(
                returned[job.event.id]?.attempt == 2,
                "failed job back with attempt \(String(describing: returned[job.event.id]?.attempt)), expected 2")
        }
        for job in parked {
            #expect(
                returned[job.event.id]?.attempt == 1,
                "parked job back with attempt \(String(describing: returned[job.event.id]?.attempt)), expected 1 (unspent)")
        }
        let whileOpen = try await receiverStats(ailingReceiver)
        #expect(
            whileOpen.requests == 3,
            "the ailing receiver got \(whileOpen.requests) requests while the breaker was open, expected 3")

        // The cool-down is over (the parked jobs waited at least that long in their tier): acting
        // as the signer, send one job back alone. It is the probe; it succeeds and closes the breaker.
        let resigned = try back.map { d in
            let job = try DeliveryJob.wireDecoded(Array(d.body))
            return try Signer.sign(job.event, for: ailing, retrying: job, now: .now())
        }
        let probe = try #require(resigned.first { parked.map(\.event.id).contains($0.event.id) })
        try await h.publish([probe])
        let probed = try await h.attempts(count: 1, timeout: .seconds(10))
        #expect(
            probed.first?.eventId == probe.event.id && probed.first?.outcome == .delivered && probed.first?.attempt == 1,
            "probe: \(String(describing: probed.first))")

        // Closed: the other seven are delivered at once, none parked again.
        let rest = resigned.filter { $0.event.id != probe.event.id }
        try await h.publish(rest)
        let delivered = try await h.attempts(count: rest.count, timeout: .seconds(10))
        let parkedAgain = try await h.depth(HeraldNames.resignQueue) + Self.tierDepths(h)
        let stats = try await receiverStats(ailingReceiver)
        let healthyStats = try await receiverStats(healthyReceiver)
        await h.stop()
        #expect(delivered.count == 7, "delivered after the probe: \(delivered.count) of 7")
        #expect(Set(delivered.map(\.eventId)) == Set(rest.map(\.event.id)))
        for r in delivered {
            let expected = returned[r.eventId]?.attempt
            #expect(
                r.outcome == .delivered && r.attempt == expected,
                "\(r.eventId): \(r.outcome), attempt \(r.attempt), expected \(String(describing: expected))")
        }
        #expect(parkedAgain == 0, "\(parkedAgain) jobs parked again after the breaker closed")
        // 3 failures + 8 deliveries: parking never reached the receiver.
        #expect(stats.requests == 11, "the ailing receiver got \(stats.requests) requests, expected 11")
        #expect(healthyStats.requests == 5, "the healthy receiver got \(healthyStats.requests) requests, expected 5")
    }

    /// The delay-tier queue a message was dead-lettered from (its newest `x-death` entry).
    private static func tierQueue(_ delivery: AMQPDelivery) -> String? {
        guard case .array(let deaths)? = delivery.properties.headers["x-death"],
            case .table(let newest)? = deaths.first
        else { return nil }
        return newest["queue"]?.stringValue
    }

    /// Messages waiting in any delay tier.
    private static func tierDepths(_ h: WorkerHarness) async throws -> Int {
        var total = 0
        for tier in DelayTier.all { total += try await h.depth(tier.queueName) }
        return total
    }
}
