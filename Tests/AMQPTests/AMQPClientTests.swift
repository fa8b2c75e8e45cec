import AMQP
import Foundation
import HeraldTestSupport
import Testing

/// Integration tests against the private RabbitMQ node started by scripts/test.sh.
@Suite("AMQP client against a real broker")
struct AMQPClientTests {
    /// Declares a fresh quorum queue bound to the default exchange by its own name.
    func freshQueue(_ connection: AMQPConnection, _ prefix: String, quorum: Bool = true) async throws -> String {
        let name = TestBroker.uniqueName(prefix)
        try await connection.declare(AMQPTopology(queues: [quorum ? .quorum(name) : .classic(name)]))
        return name
    }

    @Test("a published message arrives with its body, headers and properties, and is gone once acked")
    func roundTrip() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = try await freshQueue(connection, "roundtrip")
        let body = Data("{\"hello\":\"नमस्ते 👋\"}".utf8)
        let properties = AMQPProperties(
            contentType: "application/json",
            headers: [
                "attempt": .int32(3), "endpoint": "ep_1", "nested": .table(["a": .bool(true)]),
                "list": .array([.int64(1), .string("two")]),
            ],
            messageId: "evt_123", timestamp: 1_700_000_000)
        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: body, properties: properties))

        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        var iterator = consumer.makeAsyncIterator()
        let delivery = try #require(try await iterator.next())
        #expect(delivery.body == body)
        #expect(delivery.properties.contentType == "application/json")
        #expect(delivery.properties.messageId == "evt_123")
        #expect(delivery.properties.timestamp == 1_700_000_000)
        #expect(delivery.properties.persistent)
        #expect(delivery.properties.headers["attempt"] == .int32(3))
        #expect(delivery.properties.headers["endpoint"] == "ep_1")
        #expect(delivery.properties.headers["nested"] == .table(["a": .bool(true)]))
        #expect(delivery.properties.headers["list"] == .array([.int64(1), .string("two")]))
        #expect(delivery.routingKey == queue)
        #expect(!delivery.redelivered)
        delivery.ack()
        consumer.cancel()
        #expect(try await eventually { try await connection.inspect(queue: queue).messageCount == 0 })
        try await connection.delete(queue: queue)
    }

    @Test("10,000 messages go through pipelined confirms with none lost and none duplicated")
    func tenThousand() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = try await freshQueue(connection, "tenk")
        let total = 10_000
        // Publish from 4 tasks at once, in batches of 250, so many confirms are in flight.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for batchStart in stride(from: worker * 2_500, to: (worker + 1) * 2_500, by: 250) {
                        let batch = (batchStart..<batchStart + 250).map { index in
                            AMQPPublication(
                                exchange: "", routingKey: queue, body: Data("\(index)".utf8),
                                properties: AMQPProperties(messageId: "\(index)"))
                        }
                        try await connection.publish(batch)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await eventually { try await connection.inspect(queue: queue).messageCount == total })

        var seen = Set<Int>()
        var duplicates = 0
        let consumer = try await connection.consume(queue: queue, prefetch: 500)
        for try await delivery in consumer {
            let index = Int(String(decoding: delivery.body, as: UTF8.self))!
            if !seen.insert(index).inserted { duplicates += 1 }
            delivery.ack()
            if seen.count == total { break }
        }
        #expect(seen.count == total)
        #expect(duplicates == 0)
        #expect(try await eventually { try await connection.inspect(queue: queue).messageCount == 0 })
        try await connection.delete(queue: queue)
    }

    @Test("a mandatory message that no queue receives fails as unroutable, and the next publish works")
    func unroutable() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let exchange = TestBroker.uniqueName("noroute")
        try await connection.declare(AMQPTopology(exchanges: [.init(name: exchange, kind: .direct, autoDelete: true)]))
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPPublication(exchange: exchange, routingKey: "nowhere", body: Data("x".utf8)))
        }
        #expect(error?.kind == .unroutable)
        #expect(error?.replyCode == 312)
        #expect(error?.message.contains("routing key 'nowhere'") == true, "got: \(String(describing: error))")

        // Not mandatory: the broker drops it and confirms; no error.
        try await connection.publish(AMQPPublication(exchange: exchange, routingKey: "nowhere", body: Data(), mandatory: false))

        let queue = try await freshQueue(connection, "afterreturn", quorum: false)
        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("ok".utf8)))
        #expect(try await eventually { try await connection.inspect(queue: queue).messageCount == 1 })
        try await connection.delete(queue: queue)
    }

    @Test("publishing to a missing exchange names it, and the connection keeps working")
    func missingExchange() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPPublication(exchange: "herald.nope", routingKey: "k", body: Data()))
        }
        #expect(error?.kind == .notFound)
        #expect(error?.message.contains("no exchange 'herald.nope'") == true, "got: \(String(describing: error))")
        let queue = try await freshQueue(connection, "afterclose", quorum: false)
        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("ok".utf8)))
        #expect(try await connection.inspect(queue: queue).messageCount == 1)
        try await connection.delete(queue: queue)
    }

    @Test(
        "a publish to a missing exchange fails alone: the publications in flight beside it on the channel are sent again, not failed"
    )
    func missingExchangeAmongOthers() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = try await freshQueue(connection, "beside", quorum: false)
        func batch(_ numbers: Range<Int>) -> [AMQPPublication] {
            numbers.map { AMQPPublication(exchange: "", routingKey: queue, body: Data("\($0)".utf8)) }
        }
        let missing = TestBroker.uniqueName("nope")
        // Good batches on both sides of each bad publish, so some are in flight when the broker
        // closes the publish channel over it.
        let goodFailures = try await withThrowingTaskGroup(of: [String].self) { group in
            for round in 0..<5 {
                group.addTask {
                    do { try await connection.publish(batch(round * 200..<round * 200 + 100)); return [] } catch {
                        return ["\(error)"]
                    }
                }
                group.addTask {
                    let error = await #expect(throws: AMQPError.self) {
                        try await connection.publish(AMQPPublication(exchange: missing, routingKey: "k", body: Data("bad".utf8)))
                    }
                    #expect(
                        error?.kind == .notFound, "expected notFound for the missing exchange, got \(String(describing: error))")
                    return []
                }
                group.addTask {
                    do { try await connection.publish(batch(round * 200 + 100..<round * 200 + 200)); return [] } catch {
                        return ["\(error)"]
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(
            goodFailures.isEmpty, "expected every good batch confirmed, \(goodFailures.count) failed: \(goodFailures.prefix(3))")

        // Re-sent publications may arrive twice (at-least-once); none may be missing.
        let count = try await connection.inspect(queue: queue).messageCount
        let arrived = Set(try await connection.take(count, from: queue).map { String(decoding: $0.body, as: UTF8.self) })
        #expect(arrived.count == 1_000, "expected all 1000 distinct messages, got \(arrived.count)")
        try await connection.delete(queue: queue)
    }

    @Test("consuming a missing queue says NOT_FOUND and names the queue")
    func missingQueue() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let error = await #expect(throws: AMQPError.self) {
            _ = try await connection.consume(queue: "herald.missing", prefetch: 1)
        }
        #expect(error?.kind == .notFound)
        #expect(error?.message.hasPrefix("NOT_FOUND: no queue 'herald.missing'") == true, "got: \(String(describing: error))")
        let inspectError = await #expect(throws: AMQPError.self) { _ = try await connection.inspect(queue: "herald.missing") }
        #expect(inspectError?.kind == .notFound)
    }

    @Test("redeclaring a queue with other arguments is PRECONDITION_FAILED, and the connection recovers")
    func inequivalentArguments() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let name = TestBroker.uniqueName("args")
        try await connection.declare(AMQPTopology(queues: [.quorum(name, arguments: ["x-message-ttl": 1000])]))
        try await connection.declare(AMQPTopology(queues: [.quorum(name, arguments: ["x-message-ttl": 1000])]))
        let error = await #expect(throws: AMQPError.self) {
            try await connection.declare(AMQPTopology(queues: [.quorum(name, arguments: ["x-message-ttl": 2000])]))
        }
        #expect(error?.kind == .preconditionFailed)
        #expect(error?.message.contains("x-message-ttl") == true, "got: \(String(describing: error))")
        #expect(try await connection.inspect(queue: name).messageCount == 0)
        try await connection.delete(queue: name)
    }

    @Test("wrong credentials give ACCESS_REFUSED naming the user and vhost")
    func wrongCredentials() async throws {
        var config = try TestBroker.configuration()
        config.user = "herald-nobody"
        config.password = "wrong"
        let error = await #expect(throws: AMQPError.self) { _ = try await AMQPConnection.connect(config) }
        #expect(error?.kind == .accessRefused)
        #expect(
            error?.message.contains("ACCESS_REFUSED for user 'herald-nobody' on vhost '/'") == true,
            "got: \(String(describing: error))")
    }

    @Test("a missing vhost gives NOT_ALLOWED naming the vhost")
    func missingVhost() async throws {
        var config = try TestBroker.configuration()
        config.vhost = "herald-no-such-vhost"
        let error = await #expect(throws: AMQPError.self) { _ = try await AMQPConnection.connect(config) }
        #expect(error?.kind == .notAllowed)
        #expect(error?.message.contains("vhost 'herald-no-such-vhost'") == true, "got: \(String(describing: error))")
    }

    @Test("nothing listening gives a connection error naming the address")
    func nothingListening() async throws {
        var config = try TestBroker.configuration()
        config.port = 1
        let error = await #expect(throws: AMQPError.self) { _ = try await AMQPConnection.connect(config) }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains(":1") == true, "got: \(String(describing: error))")
    }

    @Test("prefetch bounds unacknowledged deliveries; nack requeues and the message comes back redelivered")
    func prefetchAndNack() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = try await freshQueue(connection, "prefetch")
        try await connection.publish((0..<20).map { AMQPPublication(exchange: "", routingKey: queue, body: Data("\($0)".utf8)) })

        let consumer = try await connection.consume(queue: queue, prefetch: 5)
        var held: [AMQPDelivery] = []
        for try await delivery in consumer {
            held.append(delivery)
            if held.count == 5 { break }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await connection.inspect(queue: queue).messageCount == 15, "only the prefetch window is out")

        // Stop the first consumer (its held deliveries stay settleable) so the requeued message
        // goes to the second one instead of back into the first one's window.
        consumer.cancel()
        held[0].nack(requeue: true)
        for delivery in held.dropFirst() { delivery.ack() }
        var redelivered = false
        var received = 0
        let second = try await connection.consume(queue: queue, prefetch: 50)
        for try await delivery in second {
            received += 1
            if delivery.redelivered { redelivered = true }
            delivery.ack()
            if received == 16 { break }
        }
        #expect(redelivered)
        #expect(try await eventually { try await connection.inspect(queue: queue).messageCount == 0 })
        try await connection.delete(queue: queue)
    }

    @Test("reject without requeue drops the message; get returns nil on an empty queue")
    func rejectAndGet() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = try await freshQueue(connection, "reject", quorum: false)
        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("a".utf8)))
        let message = try #require(try await connection.get(queue: queue))
        #expect(message.body == Data("a".utf8))
        message.reject(requeue: false)
        #expect(try await eventually { try await connection.get(queue: queue) == nil })
        try await connection.delete(queue: queue)
    }

    @Test("deleting a queue under a consumer ends its deliveries with consumerCancelled")
    func brokerCancelsConsumer() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = try await freshQueue(connection, "cancel", quorum: false)
        let consumer = try await connection.consume(queue: queue, prefetch: 1)
        let other = try await TestBroker.connect(name: "deleter")
        try await other.delete(queue: queue)
        await other.close()
        let error = await #expect(throws: AMQPError.self) {
            for try await _ in consumer {}
        }
        #expect(error?.kind == .consumerCancelled)
        #expect(error?.message.contains(queue) == true)
    }

    @Test("the connection name shows in the broker's connection list")
    func connectionName() async throws {
        var config = try TestBroker.configuration()
        config.connectionName = "herald-test-visible-name"
        let connection = try await AMQPConnection.connect(config)
        defer { Task { await connection.close() } }
        let listing = try TestBroker.rabbitmqctl("list_connections", "client_properties")
        #expect(listing.contains("herald-test-visible-name"))
    }
}
