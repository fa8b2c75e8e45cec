import AMQP
import Foundation
import HeraldTestSupport
import Testing

/// Publications AMQP cannot carry (a short string over 255 bytes…) against the real broker:
/// they must fail alone, leaving the connection, its consumers and other publishes alone.
@Suite("AMQP client with publications AMQP cannot encode")
struct UnencodablePublishTests {
    @Test(
        "a 300-byte message id fails that publish alone as unencodable; the consumer's unacked deliveries stay put and the next publish works"
    )
    func longMessageId() async throws {
        var configuration = try TestBroker.configuration()
        configuration.publishTimeout = .seconds(3)
        let connection = try await AMQPConnection.connect(configuration)
        defer { Task { await connection.close() } }
        let queue = TestBroker.uniqueName("unencodable")
        try await connection.declare(AMQPTopology(queues: [.classic(queue)]))
        try await connection.publish(
            (0..<3).map { AMQPPublication(exchange: "", routingKey: queue, body: Data("held-\($0)".utf8)) })
        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        var iterator = consumer.makeAsyncIterator()
        var held: [AMQPDelivery] = []
        while held.count < 3 { held.append(try #require(try await iterator.next())) }

        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(
                AMQPPublication(
                    exchange: "", routingKey: queue, body: Data("bad".utf8),
                    properties: AMQPProperties(messageId: String(repeating: "m", count: 300))))
        }
        #expect(
            error?.kind == .unencodable,
            "expected kind unencodable, got \(String(describing: error?.kind)): \(String(describing: error))")
        let message = error?.message ?? ""
        #expect(
            message.contains("message id") && message.contains("300 bytes") && message.contains("255"),
            "expected a message naming the field, its length and the limit, got: \(message)")

        #expect(connection.reconnectCount == 0, "expected no reconnect, got \(connection.reconnectCount)")

        // Had the connection dropped, the three held deliveries would come back (redelivered)
        // before anything else; instead the next delivery is the next message published.
        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("after".utf8)))
        let next = try #require(try await iterator.next())
        #expect(
            String(decoding: next.body, as: UTF8.self) == "after" && !next.redelivered,
            "expected the fresh message 'after', got '\(String(decoding: next.body, as: UTF8.self))' (redelivered: \(next.redelivered))"
        )
        for delivery in held + [next] { delivery.ack() }
        consumer.cancel()
        #expect(connection.isConnected)
        try await connection.delete(queue: queue)
    }

    @Test(
        "a batch holding a 300-byte routing key fails as unencodable without sending any of it, while a batch published alongside goes through"
    )
    func mixedBatch() async throws {
        var configuration = try TestBroker.configuration()
        configuration.publishTimeout = .seconds(3)
        let connection = try await AMQPConnection.connect(configuration)
        defer { Task { await connection.close() } }
        let queue = TestBroker.uniqueName("unencodable-batch")
        try await connection.declare(AMQPTopology(queues: [.classic(queue)]))

        let mixed = [
            AMQPPublication(exchange: "", routingKey: queue, body: Data("mixed-0".utf8)),
            AMQPPublication(exchange: "", routingKey: String(repeating: "k", count: 300), body: Data("mixed-1".utf8)),
            AMQPPublication(exchange: "", routingKey: queue, body: Data("mixed-2".utf8)),
        ]
        let other = (0..<5).map { AMQPPublication(exchange: "", routingKey: queue, body: Data("other-\($0)".utf8)) }
        async let otherResult: Void = connection.publish(other)
        let error = await #expect(throws: AMQPError.self) { try await connection.publish(mixed) }
        #expect(
            error?.kind == .unencodable,
            "expected kind unencodable, got \(String(describing: error?.kind)): \(String(describing: error))")
        #expect(
            error?.message.contains("routing key") == true && error?.message.contains("300 bytes") == true,
            "expected a message naming the routing key and its length, got: \(String(describing: error))")
        try await otherResult

        try await connection.publish(AMQPPublication(exchange: "", routingKey: queue, body: Data("after".utf8)))
        #expect(connection.reconnectCount == 0, "expected no reconnect, got \(connection.reconnectCount)")
        let arrived = try await connection.take(7, from: queue, timeout: .seconds(2))
        let bodies = arrived.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(
            bodies.sorted() == ["after", "other-0", "other-1", "other-2", "other-3", "other-4"],
            "expected the other batch and 'after' only, got \(bodies)")
        try await connection.delete(queue: queue)
    }

    @Test("headers that fill the content-header frame exactly are sent; one byte more is refused before reaching rabbitmq-c")
    func frameBoundary() async throws {
        let connection = try await TestBroker.connect()
        defer { Task { await connection.close() } }
        let queue = TestBroker.uniqueName("frame-boundary")
        try await connection.declare(AMQPTopology(queues: [.classic(queue)]))
        // Properties: flags and delivery mode (3), one string header "k" (4 + 1 + 1 + 1 + 4 + n);
        // frame: header 7, class/weight/body size 12, end 1. 131,072 is the frame size Herald asks for.
        let fits = 131_072 - 20 - 3 - 11
        func publication(_ n: Int) -> AMQPPublication {
            AMQPPublication(
                exchange: "", routingKey: queue, body: Data("\(n)".utf8),
                properties: AMQPProperties(headers: ["k": .string(String(repeating: "x", count: n))]), mandatory: false)
        }
        try await connection.publish(publication(fits))
        let error = await #expect(throws: AMQPError.self) { try await connection.publish(publication(fits + 1)) }
        #expect(error?.kind == .unencodable, "expected unencodable, got \(String(describing: error))")
        #expect(
            error?.message.contains("more than the 131072-byte frame") == true,
            "expected the Swift check's message, got: \(String(describing: error))")
        let arrived = try await connection.take(1, from: queue, timeout: .seconds(5))
        #expect(
            arrived.first?.properties.headers["k"] == .string(String(repeating: "x", count: fits)),
            "expected the message with the frame-filling header to arrive intact")
        #expect(connection.reconnectCount == 0, "expected no reconnect, got \(connection.reconnectCount)")
        try await connection.delete(queue: queue)
    }
}
