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

    @Test("while a memory alarm blocks publishing, a publish times out with a reason, and succeeds once it lifts")
    func blockedByAlarm() async throws {
        var configuration = try TestBroker.configuration()
        configuration.publishTimeout = .seconds(2)
        let connection = try await AMQPConnection.connect(configuration)
        defer { Task { await connection.close() } }
        let queue = TestBroker.uniqueName("blocked")
        try await connection.declare(AMQPTopology(queues: [.classic(queue)]))
        try TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.0000001")
        defer { _ = try? TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.4") }

        // The broker blocks the connection when it next publishes.
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("1".utf8)))
            try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("2".utf8)))
        }
        #expect(error?.kind == .timeout)
        #expect(connection.isBlocked)
        #expect(error?.message.contains("blocked") == true, "got: \(String(describing: error))")

        try TestBroker.rabbitmqctl("set_vm_memory_high_watermark", "0.4")
        #expect(await eventually { !connection.isBlocked })
        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("3".utf8)))
        #expect(try await eventually { try await connection.inspect(queue: queue).messageCount >= 1 })
        try await connection.delete(queue: queue)
    }
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
