import AMQP
import Foundation
import HeraldTestSupport
import Testing

/// Connections cut under load, through a TCP proxy the test controls (the broker itself is
/// untouched, so these run with the other broker tests).
@Suite("AMQP client when its connection is cut mid-flight")
struct SeveredConnectionTests {
    @Test("cut again and again, even while re-sending, every one of 200 publishers gets an answer in time, and close() returns")
    func everyCallerAnswered() async throws {
        let broker = try TestBroker.configuration()
        let proxy = try TestTCPProxy(targetPort: broker.port)
        defer { proxy.stop() }
        var configuration = broker
        configuration.host = "127.0.0.1"
        configuration.port = proxy.port
        configuration.publishTimeout = .seconds(3)
        configuration.reconnectInitialDelay = .milliseconds(20)
        configuration.reconnectMaxDelay = .milliseconds(200)
        let connection = try await AMQPConnection.connect(configuration)
        let queue = TestBroker.uniqueName("severed")
        try await connection.declare(AMQPTopology(queues: [.classic(queue)]))

        // Every connection now dies once it sent 40 kB: past the handshake and the re-declare,
        // in the middle of the burst that re-sends what the previous connection left unconfirmed.
        proxy.severAfter(bytes: 40_000)
        let answers = Answers()
        let publishers = 200, perPublisher = 5
        let body = Data(repeating: UInt8(ascii: "x"), count: 512)
        // Unstructured tasks: a caller that is never resumed must not hang the test itself.
        for publisher in 0..<publishers {
            Task.detached {
                for n in 0..<perPublisher {
                    let started = ContinuousClock.now
                    do {
                        try await connection.publish(
                            AMQPPublication(
                                exchange: "", routingKey: queue, body: body,
                                properties: AMQPProperties(messageId: "\(publisher)-\(n)")))
                        await answers.add(nil, after: started.duration(to: .now))
                    } catch {
                        await answers.add(error, after: started.duration(to: .now))
                    }
                }
            }
        }
        for _ in 0..<10 {
            try await Task.sleep(for: .milliseconds(150))
            proxy.sever()
        }

        // Each publish is bounded by publishTimeout (3 s), five in a row per publisher.
        let total = publishers * perPublisher
        let allAnswered = await eventually(timeout: .seconds(40)) { await answers.count == total }
        let (count, failures, slowest) = (await answers.count, await answers.failures, await answers.slowest)
        #expect(
            allAnswered, "expected \(total) answers, got \(count) (\(failures) failures): the other callers were never resumed")
        #expect(slowest < .seconds(4), "expected every publish answered within publishTimeout (3 s), the slowest took \(slowest)")
        let kinds = await answers.kinds
        #expect(
            kinds.isSubset(of: [.unconfirmed, .timeout]),
            "expected failures as unconfirmed (sent) or timeout (never sent) only, got \(kinds.map(\.rawValue).sorted())")
        #expect(connection.reconnectCount >= 5, "expected the proxy to force many reconnects, got \(connection.reconnectCount)")
        print(
            "severed connection: \(connection.reconnectCount) reconnects, \(count - failures) of \(total) publishes confirmed, \(failures) failed"
        )

        proxy.severAfter(bytes: nil)
        let closed = Answers()
        Task.detached {
            await connection.close()
            await closed.add(nil, after: .zero)
        }
        let didClose = await eventually(timeout: .seconds(10)) { await closed.count == 1 }
        #expect(didClose, "expected close() to return within 10 s, it did not")

        let cleanup = try await TestBroker.connect(name: "severed-cleanup")
        try await cleanup.delete(queue: queue)
        await cleanup.close()
    }

    @Test("close() while the broker is unreachable returns promptly, and every publisher still waiting is answered with closed")
    func closeWhileUnreachable() async throws {
        let broker = try TestBroker.configuration()
        let proxy = try TestTCPProxy(targetPort: broker.port)
        var configuration = broker
        configuration.host = "127.0.0.1"
        configuration.port = proxy.port
        let connection = try await AMQPConnection.connect(configuration)
        proxy.stop()  // cuts the connection and refuses every reconnect
        #expect(await eventually { !connection.isConnected }, "expected the connection to notice the cut")

        let answers = Answers()
        for n in 0..<200 {
            Task.detached {
                let started = ContinuousClock.now
                do {
                    try await connection.publish(AMQPPublication(exchange: "", routingKey: "nowhere", body: Data("\(n)".utf8)))
                    await answers.add(nil, after: started.duration(to: .now))
                } catch {
                    await answers.add(error, after: started.duration(to: .now))
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let closed = Answers()
        Task.detached {
            await connection.close()
            await closed.add(nil, after: .zero)
        }
        let didClose = await eventually(timeout: .seconds(5)) { await closed.count == 1 }
        #expect(didClose, "expected close() to return within 5 s, it did not")
        let allAnswered = await eventually(timeout: .seconds(5)) { await answers.count == 200 }
        let answered = await answers.count
        #expect(allAnswered, "expected 200 answers, got \(answered)")
        let kinds = await answers.kinds
        #expect(kinds == [.closed], "expected every waiting publish to fail as closed, got \(kinds.map(\.rawValue).sorted())")
    }
}

/// Counts the answers callers got, across tasks.
actor Answers {
    private(set) var count = 0
    private(set) var failures = 0
    private(set) var slowest: Duration = .zero
    private(set) var kinds = Set<AMQPError.Kind>()
    func add(_ error: Error?, after elapsed: Duration) {
        count += 1
        if let error {
            failures += 1
            kinds.insert((error as? AMQPError)?.kind ?? .protocolError)
        }
        slowest = max(slowest, elapsed)
    }
}
