import AMQP
import HeraldCore

/// Herald's RabbitMQ topology: every exchange, queue, binding, argument and delay tier, in one place.
///
/// Services declare the part they need at startup (`AMQPConnection.declare` is idempotent and
/// repeated after every reconnect); `topology/definitions.json` is generated from `all` and a test
/// proves the two agree.
///
/// ```
/// herald.events (topic, key = event type) ──#──▶ herald.sign            (signer: new events)
/// herald.deliveries (direct) ──deliver──▶ herald.deliver                 (workers)
/// herald.retry (direct, key = tier) ──30s──▶ herald.retry.30s ──TTL──▶ herald.resign (exchange)
/// herald.resign (direct) ──resign──▶ herald.resign                       (signer: retries, replays)
/// herald.dead (direct) ──dead──▶ herald.dead                             (the DLQ)
/// herald.attempts (direct) ──attempt──▶ herald.attempts                  (delivery log)
/// herald.control (fanout) ──▶ one exclusive queue per signer             (cache invalidation)
/// ```
public enum HeraldTopology {
    /// Redeliveries after which a message that keeps failing (crashing its consumer) is
    /// dead-lettered instead of looping. An operator can lower these with a `delivery-limit` policy.
    public static let signDeliveryLimit: Int64 = 10
    public static let deliverDeliveryLimit: Int64 = 20

    /// Arguments shared by the work queues: quorum, poison messages to the DLQ.
    private static func workQueue(_ name: String, deliveryLimit: Int64) -> AMQPTopology.Queue {
        .quorum(
            name,
            arguments: [
                "x-delivery-limit": .int64(deliveryLimit),
                "x-dead-letter-exchange": .string(HeraldNames.deadExchange),
                "x-dead-letter-routing-key": .string(HeraldNames.deadRoutingKey),
            ])
    }

    /// A delay tier: a fixed TTL, then dead-lettered at-least-once into `herald.resign`.
    /// `reject-publish` is what at-least-once dead-lettering requires: a full tier refuses new
    /// messages (the publisher gets a nack and keeps its input) rather than dropping old ones.
    public static func tierQueue(_ tier: DelayTier) -> AMQPTopology.Queue {
        .quorum(
            tier.queueName,
            arguments: [
                "x-message-ttl": .int64(Int64(tier.milliseconds)),
                "x-dead-letter-exchange": .string(HeraldNames.resignExchange),
                "x-dead-letter-routing-key": .string(HeraldNames.resignRoutingKey),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            ])
    }

    /// New events: what herald-ingest publishes to and the signer consumes.
    public static let events = AMQPTopology(
        exchanges: [.init(name: HeraldNames.eventsExchange, kind: .topic)],
        queues: [workQueue(HeraldNames.signQueue, deliveryLimit: signDeliveryLimit)],
        bindings: [.init(exchange: HeraldNames.eventsExchange, queue: HeraldNames.signQueue, routingKey: "#")])

    /// Signed jobs: what the signer publishes to and the workers consume.
    public static let deliveries = AMQPTopology(
        exchanges: [.init(name: HeraldNames.deliveriesExchange, kind: .direct)],
        queues: [workQueue(HeraldNames.deliverQueue, deliveryLimit: deliverDeliveryLimit)],
        bindings: [
            .init(
                exchange: HeraldNames.deliveriesExchange, queue: HeraldNames.deliverQueue,
                routingKey: HeraldNames.deliverRoutingKey)
        ])

    /// Jobs to re-sign: retries back from the tiers, and replays from the DLQ.
    public static let resign = AMQPTopology(
        exchanges: [.init(name: HeraldNames.resignExchange, kind: .direct)],
        queues: [workQueue(HeraldNames.resignQueue, deliveryLimit: signDeliveryLimit)],
        bindings: [
            .init(
                exchange: HeraldNames.resignExchange, queue: HeraldNames.resignQueue,
                routingKey: HeraldNames.resignRoutingKey)
        ])

    /// The delay tiers. Declared after `resign`, their dead-letter target.
    public static let retry = AMQPTopology(
        exchanges: [.init(name: HeraldNames.retryExchange, kind: .direct)],
        queues: DelayTier.all.map(tierQueue),
        bindings: DelayTier.all.map { .init(exchange: HeraldNames.retryExchange, queue: $0.queueName, routingKey: $0.name) })

    /// The dead-letter queue.
    public static let dead = AMQPTopology(
        exchanges: [.init(name: HeraldNames.deadExchange, kind: .direct)],
        queues: [.quorum(HeraldNames.deadQueue)],
        bindings: [
            .init(exchange: HeraldNames.deadExchange, queue: HeraldNames.deadQueue, routingKey: HeraldNames.deadRoutingKey)
        ])

    /// The delivery log feed.
    public static let attempts = AMQPTopology(
        exchanges: [.init(name: HeraldNames.attemptsExchange, kind: .direct)],
        queues: [.quorum(HeraldNames.attemptsQueue)],
        bindings: [
            .init(
                exchange: HeraldNames.attemptsExchange, queue: HeraldNames.attemptsQueue,
                routingKey: HeraldNames.attemptsRoutingKey)
        ])

    /// Control notices (endpoint changed). Each signer binds an exclusive queue of its own.
    public static let control = AMQPTopology(exchanges: [.init(name: HeraldNames.controlExchange, kind: .fanout)])

    /// Everything, in an order where every dead-letter target exists before its source.
    public static let all: AMQPTopology =
        dead
        .merging(attempts)
        .merging(control)
        .merging(resign)
        .merging(retry)
        .merging(deliveries)
        .merging(events)

    /// Policies that only an operator's import applies (a client cannot declare policies): limits
    /// that may be tuned without redeclaring queues.
    public static let policies: [Policy] = [
        Policy(
            name: "herald-dead", pattern: "^herald\\.dead$", priority: 10,
            definition: ["max-length": .int64(1_000_000), "overflow": "reject-publish"])
    ]

    /// A RabbitMQ policy as it appears in a definitions file.
    public struct Policy: Sendable, Hashable {
        public var name: String
        public var pattern: String
        public var priority: Int
        public var definition: AMQPTable
    }
}
