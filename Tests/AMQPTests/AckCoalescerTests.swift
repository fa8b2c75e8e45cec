import Foundation
import HeraldTestSupport
import Testing

@testable import AMQP

/// One coalescer and the channel it settles on, as the fixture of every case below. A class, so
/// `#expect(acks.ack(1))` works: `#expect` cannot call a mutating method on a struct.
private final class Settlements {
    private var coalescer = AckCoalescer()
    var channel: UInt16
    var incarnation: UInt64

    init(channel: UInt16 = 3, incarnation: UInt64 = 1) {
        self.channel = channel
        self.incarnation = incarnation
    }

    /// Settles `tag` with an ack; true if the ack was deferred for coalescing.
    func ack(_ tag: UInt64) -> Bool {
        coalescer.settle(tag: tag, isAck: true, channel: channel, incarnation: incarnation)
    }

    /// Settles `tag` with a nack or reject; true if it was deferred (it never should be).
    func nack(_ tag: UInt64) -> Bool {
        coalescer.settle(tag: tag, isAck: false, channel: channel, incarnation: incarnation)
    }

    /// The acks to send now.
    func takeDeferred() -> [AckCoalescer.Ack] {
        coalescer.takeDeferred()
    }
}

/// The rules that make `basic.ack(multiple)` safe: only in-order runs are deferred.
@Suite("Ack coalescing")
struct AckCoalescerTests {
    @Test("an in-order run of acks becomes one multiple ack for its highest tag")
    func inOrderRun() {
        let acks = Settlements(channel: 3, incarnation: 7)
        for tag in UInt64(1)...5 {
            #expect(acks.ack(tag), "ack \(tag) should be deferred")
        }
        #expect(acks.takeDeferred() == [.init(channel: 3, incarnation: 7, tag: 5, multiple: true)])
        #expect(acks.takeDeferred() == [], "deferred acks are handed out once")
    }

    @Test("a single deferred ack is sent without multiple")
    func singleAck() {
        let acks = Settlements()
        #expect(acks.ack(1))
        #expect(acks.takeDeferred() == [.init(channel: 3, incarnation: 1, tag: 1, multiple: false)])
    }

    @Test("an ack past an unsettled delivery is sent on its own, and the run resumes once the gap is settled")
    func gap() {
        let acks = Settlements()
        #expect(acks.ack(1))
        #expect(acks.takeDeferred() == [.init(channel: 3, incarnation: 1, tag: 1, multiple: false)])
        // Tag 2 is still in the application's hands: 3 and 4 must not be acked with multiple.
        #expect(!acks.ack(3))
        #expect(!acks.ack(4))
        #expect(acks.takeDeferred() == [])
        // 2 is acked: it closes the gap; 5 continues the run.
        #expect(acks.ack(2))
        #expect(acks.ack(5))
        #expect(acks.takeDeferred() == [.init(channel: 3, incarnation: 1, tag: 5, multiple: true)])
    }

    @Test("nacks and rejects are sent at once but let later acks coalesce over them")
    func nacks() {
        let acks = Settlements(channel: 4)
        #expect(acks.ack(1))
        #expect(!acks.nack(2))
        #expect(acks.ack(3))
        #expect(acks.takeDeferred() == [.init(channel: 4, incarnation: 1, tag: 3, multiple: true)])
        // A nack as the last settlement of a pass leaves nothing to send.
        #expect(!acks.nack(4))
        #expect(acks.takeDeferred() == [])
    }

    @Test("a new channel incarnation starts counting tags from 1 again")
    func incarnation() {
        let acks = Settlements()
        #expect(acks.ack(1))
        #expect(acks.ack(2))
        _ = acks.takeDeferred()
        acks.incarnation = 2
        #expect(acks.ack(1))
        #expect(acks.takeDeferred() == [.init(channel: 3, incarnation: 2, tag: 1, multiple: false)])
    }

    @Test("channels are tracked apart")
    func channels() {
        let acks = Settlements()
        #expect(acks.ack(1))
        acks.channel = 4
        acks.incarnation = 2
        #expect(acks.ack(1))
        #expect(acks.ack(2))
        let sent = acks.takeDeferred().sorted { $0.channel < $1.channel }
        #expect(
            sent == [
                .init(channel: 3, incarnation: 1, tag: 1, multiple: false),
                .init(channel: 4, incarnation: 2, tag: 2, multiple: true),
            ])
    }

    @Test("a delivery left unsettled for long turns coalescing off instead of growing memory")
    func boundedMemory() {
        let acks = Settlements()
        // Tag 1 is never settled.
        for tag in UInt64(2)...UInt64(AckCoalescer.maxAhead + 2) {
            #expect(!acks.ack(tag))
        }
        #expect(!acks.ack(1), "after the cap every ack goes out alone")
        #expect(acks.takeDeferred() == [])
    }
}

/// Coalesced acks against a real broker: a delivery the application still holds is never
/// acknowledged by a `multiple` ack sent for later ones.
@Suite("Ack coalescing against a real broker")
struct AckCoalescingBrokerTests {
    @Test("acking every delivery but one leaves exactly that one on the queue when the connection closes")
    func heldDeliverySurvives() async throws {
        let connection = try await TestBroker.connect()
        let queue = TestBroker.uniqueName("ack-coalesce")
        try await connection.declare(AMQPTopology(queues: [.quorum(queue)]))
        let count = 200
        try await connection.publish(
            (0..<count).map {
                AMQPPublication(exchange: "", routingKey: queue, body: Data("\($0)".utf8))
            })
        let consumer = try await connection.consume(queue: queue, prefetch: 50)
        var held: AMQPDelivery?
        var received = 0
        for try await delivery in consumer {
            received += 1
            if String(decoding: delivery.body, as: UTF8.self) == "7" { held = delivery } else { delivery.ack() }
            if received == count { break }
        }
        #expect(held != nil, "message 7 should have been delivered")
        // Every other ack reached the broker once the queue shows no more unacked messages than the held one.
        let status = {
            try await TestBroker.rabbitmqctl("list_queues", "name", "messages_unacknowledged", "--no-table-headers")
                .split(separator: "\n").first { $0.hasPrefix(queue + "\t") } ?? ""
        }
        let settled = try await eventually { try await status().hasSuffix("\t1") }
        let seen = try await status()
        #expect(settled, "expected 1 unacked message on \(queue), got: \(seen)")
        await connection.close()

        let check = try await TestBroker.connect()
        let remaining = try await eventually { try await check.inspect(queue: queue).messageCount == 1 }
        let left = try await check.inspect(queue: queue).messageCount
        #expect(remaining, "expected only the held message back on the queue, got \(left)")
        let back = try #require(try await check.get(queue: queue))
        #expect(String(decoding: back.body, as: UTF8.self) == "7")
        back.ack()
        try await check.delete(queue: queue)
        await check.close()
    }
}
