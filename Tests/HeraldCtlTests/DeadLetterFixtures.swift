import AMQP
import Foundation
import HeraldCore
import HeraldCtl
import HeraldSigning
import HeraldTestSupport
import HeraldTopology

/// Dead letters as herald-worker writes them, in a vhost of their own.
struct DeadLetterFixture {
    let vhost: String
    let url: String
    let connection: AMQPConnection

    static func make(_ prefix: String) async throws -> DeadLetterFixture {
        let (vhost, url) = try TestBroker.isolatedVhost(prefix)
        var configuration = try AMQPConfiguration(url: url, connectionName: "test-\(prefix)")
        configuration.reconnectMaxDelay = .seconds(1)
        let connection = try await AMQPConnection.connect(configuration)
        try await connection.declare(HeraldTopology.all)
        return DeadLetterFixture(vhost: vhost, url: url, connection: connection)
    }

    func tearDown() async {
        await connection.close()
        TestBroker.deleteVhost(vhost)
    }

    static let template: DeliveryJob = {
        let secret = try! Signer.generateSecret(profile: "standard").stored
        let endpoint = Endpoint(
            id: "ep_t", account: "acme", url: "https://example.com/hook", profile: "standard",
            secrets: [EndpointSecret(value: secret, createdAt: Timestamp(secondsSinceEpoch: 1_700_000_000))])
        let event = Event(
            id: "evt_t", type: "message.delivered", account: "acme", occurredAt: Timestamp(secondsSinceEpoch: 1_700_000_000),
            data: ["messageId": "m1", "recipient": "+9779800000000", "status": "delivered"])
        var job = try! Signer.sign(event, for: endpoint, now: Timestamp(secondsSinceEpoch: 1_700_000_000))
        job.attempt = 8
        return job
    }()

    /// The dead letter for index `i`: endpoint `ep_<i % endpoints>`, reason alternating.
    static func letter(_ i: Int, endpoints: Int = 3, account: String = "acme") -> AMQPPublication {
        var job = template
        job.event.id = "evt_\(String(format: "%06d", i))"
        job.event.account = account
        job.endpointId = "ep_\(i % endpoints)"
        let reason = i % 2 == 0 ? "retries-exhausted" : "permanent-failure"
        let status: Int64 = i % 2 == 0 ? 503 : 400
        return AMQPPublication(
            exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey, body: Data(job.wireEncoded()),
            properties: AMQPProperties(
                contentType: "application/json",
                headers: [
                    DeadLetterHeaders.reason: .string(reason),
                    DeadLetterHeaders.error: .string("the receiver answered \(status)"),
                    DeadLetterHeaders.lastStatus: .int64(status),
                    DeadLetterHeaders.attempts: .int64(8),
                    DeadLetterHeaders.endpointId: .string(job.endpointId),
                    DeadLetterHeaders.eventId: .string(job.event.id),
                    DeadLetterHeaders.eventType: .string(job.event.type),
                    DeadLetterHeaders.account: .string(account),
                    DeadLetterHeaders.deadAt: .string(Timestamp.now().iso8601Milliseconds),
                    DeadLetterHeaders.source: "herald-worker",
                    "herald-attempt": .int32(8),
                    "x-test-table": .table(["a": .int16(1), "b": .array([.string("x"), .bool(true)])]),
                ],
                persistent: true, messageId: "\(job.event.id):\(job.endpointId)"))
    }

    /// Publishes `count` dead letters (confirmed) and returns their ids in order.
    @discardableResult
    func fill(_ count: Int, endpoints: Int = 3) async throws -> [String] {
        var ids: [String] = []
        var batch: [AMQPPublication] = []
        for i in 0..<count {
            let p = Self.letter(i, endpoints: endpoints)
            ids.append(p.properties.messageId!)
            batch.append(p)
            if batch.count == 1000 {
                try await connection.publish(batch)
                batch.removeAll()
            }
        }
        if !batch.isEmpty { try await connection.publish(batch) }
        return ids
    }

    /// Takes every ready message of `queue` (acking), in order.
    func drain(_ queue: String) async throws -> [AMQPDelivery] {
        let count = try await depth(queue)
        guard count > 0 else { return [] }
        let consumer = try await connection.consume(queue: queue, prefetch: 2_000)
        var all: [AMQPDelivery] = []
        for try await d in consumer {
            all.append(d)
            d.ack()
            if all.count == count { break }
        }
        consumer.cancel()
        return all
    }

    /// Reads every message of `queue` in order, on a connection of its own whose close puts them
    /// all back (in order).
    func peek(_ queue: String) async throws -> [AMQPDelivery] {
        let reader = try await AMQPConnection.connect(try AMQPConfiguration(url: url, connectionName: "test-peek"))
        let (letters, _) = try await DeadLetterQueue(connection: reader, queue: queue).list(
            filter: DeadLetterFilter(), limit: 1_000_000)
        await reader.close()
        return letters.map(\.delivery)
    }

    func depth(_ queue: String) async throws -> Int {
        try await connection.inspect(queue: queue).messageCount
    }
}
