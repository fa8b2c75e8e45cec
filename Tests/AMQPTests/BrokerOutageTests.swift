import AMQP
import Foundation
import HeraldTestSupport
import Testing

/// Tests that stop the broker or raise its alarms. scripts/test.sh runs them alone, after the
/// others, since every connection to the node feels them.
@Suite("AMQP client through BrokerOutage", .serialized)
struct BrokerOutageTests {
    @Test("the broker restarted mid-stream: the client reconnects, resumes consuming, and nothing is lost")
    func restartMidStream() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = TestBroker.uniqueName("restart")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))

        let total = 4_000
        let received = Received()
        let consumer = try await connection.consume(queue: queue, prefetch: 100)
        let consuming = Task {
            for try await delivery in consumer {
                await received.add(Int(String(decoding: delivery.body, as: UTF8.self))!)
                delivery.ack()
                if await received.unique == total { break }
            }
        }

        // Publish in batches; restart the broker a third of the way through. A batch that fails
        // (its confirm was lost with the connection) is published again: at-least-once.
        var republished = 0
        for start in stride(from: 0, to: total, by: 100) {
            if start == 1_300 {
                try TestBroker.rabbitmqctl("stop_app")
                Task.detached {
                    try await Task.sleep(for: .seconds(2))
                    try TestBroker.rabbitmqctl("start_app")
                }
            }
            let batch = (start..<start + 100).map {
                AMQPPublication(exchange: "", routingKey: queue, body: Data("\($0)".utf8))
            }
            while true {
                do {
                    try await connection.publish(batch)
                    break
                } catch let error as AMQPError where error.isTransient || error.kind == .notFound {
                    republished += 1
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        let finished = await eventually(timeout: .seconds(60)) { await received.unique == total }
        consuming.cancel()
        let unique = await received.unique
        let duplicates = await received.duplicates
        #expect(finished, "received \(unique) of \(total) distinct messages")
        #expect(connection.isConnected)
        print("broker restart: \(total) messages, \(duplicates) duplicates, \(republished) batches published again")
        try await connection.delete(queue: queue)
    }

    @Test(
        "under a memory alarm every publish fails within about a second: blocked ones were never sent and never arrive, unconfirmed ones may arrive once it lifts"
    )
    func blockedByAlarm() async throws {
        var configuration = try TestBroker.configuration()
        configuration.publishTimeout = .seconds(5)  // what the services use
        let connection = try await AMQPConnection.connect(configuration)
        defer { Task { await connection.close() } }
        let queue = TestBroker.uniqueName("blocked")
        try await connection.declare(AMQPTopology(queues: [.classic(queue)]))

        // Publishers run before, while and after the alarm goes up, so some publishes are on the
        // wire when the broker blocks the connection and others start while it is blocked.
        let outcomes = Outcomes()
        let publishers = (0..<8).map { worker in
            Task.detached {
                var n = 0
                while await !outcomes.stopped {
                    let id = "p\(worker)-\(n)"
                    n += 1
                    let started = ContinuousClock.now
                    do {
                        try await connection.publish(
                            AMQPPublication(
                                exchange: "", routingKey: queue, body: Data(id.utf8), properties: AMQPProperties(messageId: id)))
                        await outcomes.record(id, nil, after: started.duration(to: .now))
                    } catch {
                        await outcomes.record(id, error as? AMQPError, after: started.duration(to: .now))
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        try TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.0000001")
        defer { _ = try? TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.4") }
        try #require(await eventually(timeout: .seconds(20)) { connection.isBlocked }, "the broker never blocked the connection")

        // (a) A publish started while blocked is not sent, and says so within the second.
        let started = ContinuousClock.now
        let probeError = await #expect(throws: AMQPError.self) {
            try await connection.publish(
                AMQPPublication(
                    exchange: "", routingKey: queue, body: Data("probe".utf8), properties: AMQPProperties(messageId: "probe")))
        }
        let probeTime = started.duration(to: .now)
        #expect(
            probeError?.kind == .blocked,
            "expected kind blocked, got \(String(describing: probeError?.kind)) after \(probeTime): \(String(describing: probeError))"
        )
        #expect(probeTime < .milliseconds(1_500), "expected the blocked publish to fail within 1.5 s, it took \(probeTime)")
        #expect(probeError?.mayHaveBeenAccepted == false)

        try await Task.sleep(for: .milliseconds(500))
        await outcomes.stop()
        for publisher in publishers { await publisher.value }
        try TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.4")
        #expect(await eventually { !connection.isBlocked }, "the connection stayed blocked after the alarm cleared")

        // What sat in the socket buffer reaches the queue once the broker reads again.
        var arrived: [String] = []
        var emptySince = ContinuousClock.now
        while emptySince.duration(to: .now) < .seconds(2) {
            if let delivery = try await connection.get(queue: queue) {
                delivery.ack()
                arrived.append(delivery.properties.messageId ?? "?")
                emptySince = .now
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        // (b) Every publish the alarm caught failed within the second, as blocked (never sent)
        // or unconfirmed (sent, may arrive); only confirmed or unconfirmed ones ever arrive.
        let results = await outcomes.results
        let failed = results.filter { $0.value.error != nil }
        #expect(!failed.isEmpty, "expected some publishes to fail under the alarm, none did")
        for (id, outcome) in failed.sorted(by: { $0.key < $1.key }) {
            let kind = outcome.error?.kind
            #expect(
                kind == .blocked || kind == .unconfirmed,
                "publish \(id): expected blocked or unconfirmed, got \(String(describing: kind)) after \(outcome.elapsed)")
            #expect(
                outcome.elapsed < .milliseconds(1_500),
                "publish \(id): expected to fail within 1.5 s, took \(outcome.elapsed) (\(String(describing: kind)))")
        }
        for id in arrived {
            let kind = results[id]?.error?.kind
            #expect(
                id != "probe" && (kind == nil || kind == .unconfirmed),
                "message \(id) arrived although its publish failed as \(String(describing: kind)): the caller was told nothing was accepted"
            )
        }
        let blocked = failed.values.filter { $0.error?.kind == .blocked }.count
        print(
            "memory alarm: \(results.count) publishes, \(failed.count) failed (\(blocked) blocked), \(arrived.count) messages arrived"
        )

        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("after".utf8)))
        try await connection.delete(queue: queue)
    }
}

/// What each publish of a test ended with, and how long it took.
actor Outcomes {
    struct Outcome {
        let error: AMQPError?
        let elapsed: Duration
    }
    private(set) var results: [String: Outcome] = [:]
    private(set) var stopped = false
    func record(_ id: String, _ error: AMQPError?, after elapsed: Duration) {
        results[id] = Outcome(error: error, elapsed: elapsed)
    }
    func stop() { stopped = true }
}

/// Counts distinct and duplicate message numbers across tasks.
actor Received {
    private var seen = Set<Int>()
    private(set) var duplicates = 0
    func add(_ number: Int) {
        if !seen.insert(number).inserted { duplicates += 1 }
    }
    var unique: Int { seen.count }
}
