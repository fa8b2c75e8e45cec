import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import HeraldTopology
import Testing

@Suite("Herald's topology as code")
struct HeraldTopologyTests {
    static let definitionsFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("topology/definitions.json")

    @Test("topology/definitions.json is exactly what the code generates")
    func fileMatchesCode() throws {
        let generated = try HeraldTopology.definitionsJSON()
        let committed = try Data(contentsOf: Self.definitionsFile)
        #expect(
            committed == generated,
            "topology/definitions.json is stale: regenerate it with `swift run heraldctl topology export > topology/definitions.json`"
        )
    }

    @Test("every delay tier has a queue named by its TTL, dead-lettering into herald.resign at least once")
    func tiers() throws {
        #expect(HeraldTopology.retry.queues.count == DelayTier.all.count)
        for tier in DelayTier.all {
            let queue = try #require(HeraldTopology.all.queues.first { $0.name == "herald.retry.\(tier.name)" })
            #expect(queue.arguments["x-message-ttl"]?.intValue == tier.seconds * 1000)
            #expect(queue.arguments["x-dead-letter-exchange"] == .string(HeraldNames.resignExchange))
            #expect(queue.arguments["x-dead-letter-strategy"] == "at-least-once")
            #expect(queue.arguments["x-queue-type"] == "quorum")
            #expect(
                HeraldTopology.all.bindings.contains(.init(exchange: "herald.retry", queue: queue.name, routingKey: tier.name)))
        }
    }

    @Test("every dead-letter target is declared before the queue that uses it")
    func declarationOrder() {
        let all = HeraldTopology.all
        for (index, queue) in all.queues.enumerated() {
            guard case .string(let target)? = queue.arguments["x-dead-letter-exchange"] else { continue }
            let exchangeIndex = all.exchanges.firstIndex { $0.name == target }
            #expect(exchangeIndex != nil, "\(queue.name) dead-letters into undeclared \(target)")
            // The target exchange's own queue must exist too, or dead letters are dropped.
            let bound = all.bindings.filter { $0.exchange == target }.map(\.queue)
            #expect(
                bound.allSatisfy { name in
                    all.queues.firstIndex { $0.name == name }.map { $0 < index || name != queue.name } ?? false
                })
        }
    }

    @Test("the definitions file imports with rabbitmqctl, and declaring from code afterwards changes nothing")
    func importThenDeclare() async throws {
        let (vhost, url) = try TestBroker.isolatedVhost("topo")
        defer { TestBroker.deleteVhost(vhost) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-defs-\(vhost).json")
        try HeraldTopology.definitionsJSON(vhost: vhost).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // The broker reads the file as the rabbitmq user.
        _ = try? TestBroker.run("chmod", ["a+r", file.path])
        try TestBroker.rabbitmqctl("import_definitions", file.path)

        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url, connectionName: "topology-test"))
        defer { Task { await connection.close() } }
        #expect(
            try await eventually { (try? await connection.inspect(queue: HeraldNames.deliverQueue)) != nil },
            "the import created herald.deliver")
        // Same names, same arguments: a 406 here would mean file and code disagree.
        try await connection.declare(HeraldTopology.all)
        try await connection.declare(HeraldTopology.all)
        let policies = try TestBroker.rabbitmqctl("list_policies", "-p", vhost)
        #expect(policies.contains("herald-dead"))
    }

    @Test("a job published to the 1s tier comes back on herald.resign after its TTL")
    func tierExpiresIntoResign() async throws {
        let (vhost, url) = try TestBroker.isolatedVhost("tier")
        defer { TestBroker.deleteVhost(vhost) }
        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url, connectionName: "tier-test"))
        defer { Task { await connection.close() } }
        try await connection.declare(HeraldTopology.all)
        let started = ContinuousClock.now
        try await connection.publish(
            AMQPPublication(
                exchange: HeraldNames.retryExchange, routingKey: "1s", body: Data("job".utf8),
                properties: AMQPProperties(headers: ["herald-attempt": .int32(2)], messageId: "evt_1:ep_1")))
        let consumer = try await connection.consume(queue: HeraldNames.resignQueue, prefetch: 1)
        var iterator = consumer.makeAsyncIterator()
        let delivery = try #require(try await iterator.next())
        let waited = ContinuousClock.now - started
        #expect(delivery.body == Data("job".utf8))
        #expect(delivery.properties.messageId == "evt_1:ep_1")
        #expect(delivery.properties.headers["herald-attempt"] == .int32(2), "our attempt header survives dead-lettering")
        #expect(waited >= .milliseconds(900), "waited \(waited), expected about 1 s")
        delivery.ack()
    }
}
