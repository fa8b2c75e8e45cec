import Testing
import Foundation
import HeraldTestSupport
@testable import AMQP

/// The rules that make `basic.ack(multiple)` safe: only in-order runs are deferred.
@Suite("Ack coalescing")
struct AckCoalescerTests {
    @Test("an in-order run of acks becomes one multiple ack for its highest tag")
    func inOrderRun() {
        var acks = AckCoalescer()
        for tag in UInt64(1)...5 {
            let deferred393 = acks.settle(tag: tag, isAck: true, channel: 3, incarnation: 7)
            #expect(deferred393, "ack \(tag) should be deferred")
        }
        let sent562 = acks.takeDeferred()
        #expect(sent562 == [.init(channel: 3, incarnation: 7, tag: 5, multiple: true)])
        let sent662 = acks.takeDeferred()
        #expect(sent662 == [], "deferred acks are handed out once")
    }

    @Test("a single deferred ack is sent without multiple")
    func singleAck() {
        var acks = AckCoalescer()
        let deferred824 = acks.settle(tag: 1, isAck: true, channel: 3, incarnation: 1)
        #expect(deferred824)
        let sent982 = acks.takeDeferred()
        #expect(sent982 == [.init(channel: 3, incarnation: 1, tag: 1, multiple: false)])
    }

    @Test("an ack past an unsettled delivery is sent on its own, and the run resumes once the gap is settled")
    func gap() {
        var acks = AckCoalescer()
        let deferred1172 = acks.settle(tag: 1, isAck: true, channel: 3, incarnation: 1)
        #expect(deferred1172)
        let sent1370 = acks.takeDeferred()
        #expect(sent1370 == [.init(channel: 3, incarnation: 1, tag: 1, multiple: false)])
        // Tag 2 is still in the application's hands: 3 and 4 must not be acked with multiple.
        let deferred1446 = acks.settle(tag: 3, isAck: true, channel: 3, incarnation: 1)
        #expect(!deferred1446)
        let deferred1525 = acks.settle(tag: 4, isAck: true, channel: 3, incarnation: 1)
        #expect(!deferred1525)
        let sent1804 = acks.takeDeferred()
        #expect(sent1804 == [])
        // 2 is acked: it closes the gap; 5 continues the run.
        let deferred1710 = acks.settle(tag: 2, isAck: true, channel: 3, incarnation: 1)
        #expect(deferred1710)
        let deferred1788 = acks.settle(tag: 5, isAck: true, channel: 3, incarnation: 1)
        #expect(deferred1788)
        let sent2146 = acks.takeDeferred()
        #expect(sent2146 == [.init(channel: 3, incarnation: 1, tag: 5, multiple: true)])
    }

    @Test("nacks and rejects are sent at once but let later acks coalesce over them")
    func nacks() {
        var acks = AckCoalescer()
        let deferred2112 = acks.settle(tag: 1, isAck: true, channel: 4, incarnation: 1)
        #expect(deferred2112)
        let deferred2190 = acks.settle(tag: 2, isAck: false, channel: 4, incarnation: 1)
        #expect(!deferred2190)
        let deferred2270 = acks.settle(tag: 3, isAck: true, channel: 4, incarnation: 1)
        #expect(deferred2270)
        let sent2748 = acks.takeDeferred()
        #expect(sent2748 == [.init(channel: 4, incarnation: 1, tag: 3, multiple: true)])
        // A nack as the last settlement of a pass leaves nothing to send.
        let deferred2523 = acks.settle(tag: 4, isAck: false, channel: 4, incarnation: 1)
        #expect(!deferred2523)
        let sent3043 = acks.takeDeferred()
        #expect(sent3043 == [])
    }

    @Test("a new channel incarnation starts counting tags from 1 again")
    func incarnation() {
        var acks = AckCoalescer()
        let deferred2785 = acks.settle(tag: 1, isAck: true, channel: 3, incarnation: 1)
        #expect(deferred2785)
        let deferred2863 = acks.settle(tag: 2, isAck: true, channel: 3, incarnation: 1)
        #expect(deferred2863)
        _ = acks.takeDeferred()
        let deferred2973 = acks.settle(tag: 1, isAck: true, channel: 3, incarnation: 2)
        #expect(deferred2973)
        let sent3611 = acks.takeDeferred()
        #expect(sent3611 == [.init(channel: 3, incarnation: 2, tag: 1, multiple: false)])
    }

    @Test("channels are tracked apart")
    func channels() {
        var acks = AckCoalescer()
        let deferred3255 = acks.settle(tag: 1, isAck: true, channel: 3, incarnation: 1)
        #expect(deferred3255)
        let deferred3333 = acks.settle(tag: 1, isAck: true, channel: 4, incarnation: 2)
        #expect(deferred3333)
        let deferred3411 = acks.settle(tag: 2, isAck: true, channel: 4, incarnation: 2)
        #expect(deferred3411)
        let sent = acks.takeDeferred().sorted { $0.channel < $1.channel }
        #expect(sent == [.init(channel: 3, incarnation: 1, tag: 1, multiple: false),
                         .init(channel: 4, incarnation: 2, tag: 2, multiple: true)])
    }

    @Test("a delivery left unsettled for long turns coalescing off instead of growing memory")
    func boundedMemory() {
        var acks = AckCoalescer()
        // Tag 1 is never settled.
        for tag in UInt64(2)...UInt64(AckCoalescer.maxAhead + 2) {
            let deferred3998 = acks.settle(tag: tag, isAck: true, channel: 3, incarnation: 1)
            #expect(!deferred3998)
        }
        let deferred4093 = acks.settle(tag: 1, isAck: true, channel: 3, incarnation: 1)
        #expect(!deferred4093, "after the cap every ack goes out alone")
        let sent4978 = acks.takeDeferred()
        #expect(sent4978 == [])
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
        try await connection.publish((0..<count).map {
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
        let status = { try await TestBroker.rabbitmqctl("list_queues", "name", "messages_unacknowledged", "--no-table-headers")
            .split(separator: "\n").first { $0.hasPrefix(queue + "\t") } ?? "" }
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
