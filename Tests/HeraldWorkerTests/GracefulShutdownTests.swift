import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// The real `herald-worker` executable against a real broker (an isolated vhost) and a real
/// receiver on 127.0.0.1, stopped with SIGTERM while transfers are in flight.
@Suite("A worker shutting down on SIGTERM")
struct GracefulShutdownTests {
    @Test("SIGTERM settles transfers that finish within the grace period, hands back the rest unacked, and loses nothing")
    func sigtermWithTransfersPastGrace() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await WorkerHarness.start(startWorker: false)
        // Quick transfers end about 1 s after SIGTERM, inside the 3 s grace; slow ones run 6 s,
        // past it. The policy's own timeout (15 s) never cuts either short.
        let grace = Duration.seconds(3)
        var patient = Jobs.quickPolicy
        patient.timeoutMs = 15_000
        let quick = Jobs.endpoint(receiver.url("/slow/1000"), policy: patient)
        let slow = Jobs.endpoint(receiver.url("/slow/6000"), policy: patient)
        let quickJobs = (0..<6).map { _ in Jobs.job(for: quick) }
        let slowJobs = (0..<4).map { _ in Jobs.job(for: slow) }
        let quickIds = Set(quickJobs.map(\.event.id)), slowIds = Set(slowJobs.map(\.event.id))
        try await h.publish(quickJobs + slowJobs)

        // Concurrency 10: all ten jobs in flight at once, then SIGTERM.
        let first = try spawnWorker(h.url, ["HERALD_SHUTDOWN_GRACE": "3s", "HERALD_WORKER_CONCURRENCY": "10"])
        var seen = 0
        let allInFlight = await eventually(timeout: .seconds(30)) {
            seen = (try? await receiverStats(receiver).requests) ?? seen
            return seen == 10
        }
        #expect(allInFlight, "the receiver got \(seen) of 10 requests before SIGTERM")
        let signalled = ContinuousClock.now
        kill(first.processIdentifier, SIGTERM)
        await first.waitForExit(timeout: .seconds(30))
        let exitTook = (ContinuousClock.now - signalled).inSeconds
        let firstRunning = first.isRunning
        if firstRunning { kill(first.processIdentifier, SIGKILL) }
        #expect(!firstRunning, "the worker was still running 30 s after SIGTERM")
        #expect(first.terminationStatus == 0, "the worker exited with \(first.terminationStatus) on SIGTERM")
        print("sigterm: the worker exited \(exitTook) s after SIGTERM (grace \(grace.inSeconds) s)")
        // It waited for the grace period (the slow transfers could not end sooner), and not much longer.
        #expect(
            exitTook >= grace.inSeconds - 0.2 && exitTook <= grace.inSeconds + 2.5,
            "the worker exited \(exitTook) s after SIGTERM; grace \(grace.inSeconds) s (+ 2.5 s margin)")

        // Settled: one delivered attempt record per quick job, none for the slow ones.
        let settled = try await h.attempts(count: 10, timeout: .seconds(2))
        #expect(settled.count == 6, "attempt records after SIGTERM: \(settled.count), expected 6 (the quick jobs)")
        #expect(Set(settled.map(\.eventId)) == quickIds, "records for \(settled.map(\.eventId)), expected the quick jobs")
        for r in settled {
            #expect(r.outcome == .delivered && r.attempt == 1, "quick job \(r.eventId): \(r.outcome), attempt \(r.attempt)")
        }
        // Handed back: exactly the slow jobs wait in herald.deliver again, marked redelivered.
        let waiting = try await h.depth(HeraldNames.deliverQueue)
        #expect(waiting == 4, "\(waiting) jobs in herald.deliver after the shutdown, expected the 4 slow ones")
        var handedBack: [AMQPDelivery] = []
        for _ in 0..<waiting {
            if let d = try await h.connection.get(queue: HeraldNames.deliverQueue) { handedBack.append(d) }
        }
        let handedBackIds = try Set(handedBack.map { try DeliveryJob.wireDecoded(Array($0.body)).event.id })
        #expect(handedBackIds == slowIds, "handed back \(handedBackIds), expected the slow jobs")
        let notMarked = handedBack.filter { !$0.redelivered }.count
        #expect(notMarked == 0, "\(notMarked) handed-back jobs not marked redelivered")
        for d in handedBack { d.nack(requeue: true) }
        let dead = try await h.depth(HeraldNames.deadQueue)
        #expect(dead == 0, "\(dead) jobs dead-lettered by the shutdown")

        // The restarted worker delivers the slow jobs, each still on its first attempt.
        let second = try spawnWorker(h.url, ["HERALD_SHUTDOWN_GRACE": "3s"])
        var redelivered: [AttemptRecord] = []
        _ = try await eventually(timeout: .seconds(30)) {
            redelivered += try await h.attempts(count: 4 - redelivered.count, timeout: .milliseconds(200))
            return redelivered.count >= 4
        }
        kill(second.processIdentifier, SIGTERM)
        await second.waitForExit(timeout: .seconds(30))
        if second.isRunning { kill(second.processIdentifier, SIGKILL) }
        let extra = try await h.attempts(count: 10, timeout: .milliseconds(500))
        let left = try await h.depth(HeraldNames.deliverQueue)
        let stats = try await receiverStats(receiver)
        await h.stop()

        #expect(
            redelivered.count == 4 && extra.isEmpty,
            "the restarted worker made \(redelivered.count + extra.count) attempts, expected 4")
        #expect(Set(redelivered.map(\.eventId)) == slowIds, "redelivered \(redelivered.map(\.eventId)), expected the slow jobs")
        for r in redelivered {
            #expect(r.outcome == .delivered && r.attempt == 1, "slow job \(r.eventId): \(r.outcome), attempt \(r.attempt)")
        }
        #expect(left == 0, "\(left) jobs left in herald.deliver")
        #expect(second.terminationStatus == 0, "the restarted worker exited with \(second.terminationStatus) on SIGTERM")
        // 6 quick + 4 slow cut off at the grace + the same 4 again: every job reached the receiver.
        #expect(stats.requests == 14, "the receiver got \(stats.requests) requests, expected 14")
    }
}
