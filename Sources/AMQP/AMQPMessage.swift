import Foundation

/// The properties of a message (the AMQP `basic` content header).
public struct AMQPProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable
    /// Persistent messages (the default) survive a broker restart when their queue is durable.
    public var persistent: Bool
    public var priority: UInt8?
    public var correlationId: String?
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a string (AMQP's form).
    public var expiration: String?
    public var messageId: String?
    /// Seconds since the Unix epoch.
    public var timestamp: UInt64?
    public var type: String?
    public var userId: String?
    public var appId: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: AMQPTable = [:],
        persistent: Bool = true, priority: UInt8? = nil, correlationId: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageId: String? = nil,
        timestamp: UInt64? = nil, type: String? = nil, userId: String? = nil, appId: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.persistent = persistent
        self.priority = priority
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageId = messageId
        self.timestamp = timestamp
        self.type = type
        self.userId = userId
        self.appId = appId
    }
}

/// A message to publish: where it goes, its body and its properties.
///
/// ```swift
/// let job = AMQPPublication(exchange: "herald.deliveries", routingKey: "deliver",
///                           body: Data(json), properties: .init(contentType: "application/json"))
/// try await connection.publish(job)
/// ```
public struct AMQPPublication: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    public var properties: AMQPProperties
    /// When true (the default), a message that no queue receives fails with `.unroutable`
    /// instead of silently vanishing.
    public var mandatory: Bool

    public init(
        exchange: String, routingKey: String, body: Data,
        properties: AMQPProperties = AMQPProperties(), mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

/// A message delivered to a consumer. Settle it exactly once with `ack()`, `nack(requeue:)`
/// or `reject(requeue:)`; a delivery never settled is redelivered when the channel closes.
public struct AMQPDelivery: Sendable {
    public let body: Data
    public let properties: AMQPProperties
    public let exchange: String
    public let routingKey: String
    /// True when the broker delivered this message before (to this or another consumer).
    public let redelivered: Bool
    public let deliveryTag: UInt64
    let settler: DeliverySettler

    /// Confirms the message was handled; the broker deletes it.
    public func ack() { settler.settle(.ack, tag: deliveryTag) }

    /// Hands the message back: requeued (`requeue: true`) or dead-lettered / dropped.
    public func nack(requeue: Bool) { settler.settle(requeue ? .nackRequeue : .nackDrop, tag: deliveryTag) }

    /// Refuses the message: requeued (`requeue: true`) or dead-lettered / dropped.
    public func reject(requeue: Bool) { settler.settle(requeue ? .rejectRequeue : .rejectDrop, tag: deliveryTag) }

    /// The message's `x-delivery-count` (quorum queues count redeliveries), or 0.
    public var deliveryCount: Int { properties.headers["x-delivery-count"]?.intValue ?? 0 }
}

/// How a delivery is settled.
enum Settlement: Sendable {
    case ack, nackRequeue, nackDrop, rejectRequeue, rejectDrop
}

/// Routes a settlement back to the connection that delivered the message, tagged with the
/// channel incarnation so that a settlement after a reconnect is dropped, not misapplied to
/// another message carrying the same tag on the new channel.
struct DeliverySettler: Sendable {
    let core: ConnectionCore
    let channel: UInt16
    let incarnation: UInt64

    func settle(_ settlement: Settlement, tag: UInt64) {
        core.submit(.settle(channel: channel, incarnation: incarnation, tag: tag, settlement))
    }
}
