import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import HeraldWorker
import Testing

@Suite("A worker under a hanging receiver and a crash")
struct FairnessAndCrashTests {
    /// Seconds from publishing `count` healthy jobs until all are delivered.
    private func deliverHealthy(_ h: WorkerHarness, to receiver: TestReceiver, count: Int) async throws -> (
        seconds: Double, records: [AttemptRecord]
    ) {
        // Several healthy endpoints (as real traffic has), so the per-endpoint cap does not bind.
        let endpoints = (0..<6).map { _ in Jobs.endpoint(receiver.url("/slow/20")) }
        let jobs = (0..<count).map { i in Jobs.job(for: endpoints[i % endpoints.count]) }
        let ids = Set(jobs.map(\.event.id))
        let start = ContinuousClock.now
        try await h.publish(jobs)
        var delivered: [AttemptRecord] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while delivered.count < count, ContinuousClock.now < deadline {
            for r in try await h.attempts(count: count - delivered.count, timeout: .milliseconds(100))
            where ids.contains(r.eventId) && r.outcome == .delivered {
                delivered.append(r)
            }
        }
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, delivered)
    }

    @Test("a receiver hanging for the full timeout does not slow deliveries to a healthy one")
    func fairness() async throws {
        let healthy = try await TestReceiver.start()
        let hanging = try await TestReceiver.start()
        let h = try await WorkerHarness.start {
            $0.perEndpoint = 8; $0.concurrency = 64
        }
        _ = try await deliverHealthy(h, to: healthy, count: 12)  // warm up: connections, caches
        let baseline = try await deliverHealthy(h, to: healthy, count: 60)
        #expect(baseline.records.count == 60, "baseline delivered \(baseline.records.count) of 60")
        // 40 jobs to an endpoint that hangs for the whole 2 s timeout, then the same healthy load.
        var slowPolicy = Jobs.quickPolicy
        slowPolicy.timeoutMs = 2000
        let stuck = Jobs.endpoint(hanging.url("/hang"), policy: slowPolicy)
        try await h.publish((0..<40).map { _ in Jobs.job(for: stuck) })
        try await Task.sleep(for: .milliseconds(200))
        let contended = try await deliverHealthy(h, to: healthy, count: 60)
        await h.stop()
        #expect(contended.records.count == 60, "with a hanging endpoint delivered \(contended.records.count) of 60")
        let p50 = { (rs: [AttemptRecord]) in rs.map(\.latencyMs).sorted()[rs.count / 2] }
        print(
            "fairness: healthy alone \(baseline.seconds) s (p50 \(p50(baseline.records)) ms); next to a hanging endpoint \(contended.seconds) s (p50 \(p50(contended.records)) ms)"
        )
        #expect(
            contended.seconds <= max(3 * baseline.seconds, baseline.seconds + 1.5),
            "healthy deliveries took \(contended.seconds) s next to a hanging receiver vs \(baseline.seconds) s alone")
        #expect(
            p50(contended.records) <= 3 * p50(baseline.records) + 50,
            "healthy p50 \(p50(contended.records)) ms vs \(p50(baseline.records)) ms alone")
    }

    @Test("a worker killed with SIGKILL mid-delivery loses nothing")
    func sigkill() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start(startWorker: false)
        let endpoint = Jobs.endpoint(receiver.url("/slow/300"))
        let jobs = (0..<40).map { _ in Jobs.job(for: endpoint) }
        try await h.publish(jobs)
        let first = try spawnWorker(h.url)
        var seen = Set<String>()
        let started = await eventually(timeout: .seconds(20)) {
            for r in (try? await h.attempts(count: 1, timeout: .milliseconds(100))) ?? [] where r.outcome == .delivered {
                seen.insert(r.eventId)
            }
            return seen.count >= 5
        }
        #expect(started, "the first worker delivered \(seen.count) jobs before the kill")
        kill(first.processIdentifier, SIGKILL)
        await first.waitForExit()
        let second = try spawnWorker(h.url)
        let all = await eventually(timeout: .seconds(30)) {
            for r in (try? await h.attempts(count: 10, timeout: .milliseconds(100))) ?? [] where r.outcome == .delivered {
                seen.insert(r.eventId)
            }
            return seen.count == jobs.count
        }
        second.terminate()  // SIGTERM: graceful
        await second.waitForExit()
        let left = try await h.depth(HeraldNames.deliverQueue)
        await h.stop()
        #expect(all, "delivered \(seen.count) of \(jobs.count) distinct jobs after the kill")
        #expect(Set(jobs.map(\.event.id)).subtracting(seen).isEmpty)
        #expect(left == 0, "\(left) jobs left in herald.deliver")
        #expect(second.terminationStatus == 0, "the second worker exited with \(second.terminationStatus) on SIGTERM")
    }
}
