import AMQP
import Foundation
import HeraldCore

/// Which Herald process publishes a message: its AMQP `app_id`.
public enum Publisher: String, Sendable {
    case ingest = "herald-ingest"
    case signer = "herald-signer"
    case worker = "herald-worker"
    case ctl = "heraldctl"
}

/// Where a delivery job goes.
public enum JobDestination: Sendable, Hashable {
    /// `herald.deliveries` → `herald.deliver`: to the workers.
    case deliver
    /// `herald.retry` → a delay tier, which dead-letters it into `herald.resign` when it expires.
    case tier(DelayTier)
    /// `herald.resign`: straight back to the signer (replays).
    case resign
}

/// Every message Herald publishes, built in this one place: exchange, routing key, body and
/// properties, with the header names of `MessageHeaders` and `DeadLetterHeaders`.
///
/// The short strings AMQP limits to 255 bytes are safe by construction here: message ids are
/// derived by `MessageID` (long ids are hashed; the originals are in the body and in header
/// values, which are long strings), and an informative `type` is cut to fit. Whatever an
/// account sends, no message built here can be refused by the AMQP encoder.
///
/// ```swift
/// try await connection.publish(QueueMessages.job(job, to: .deliver, from: .signer))
/// ```
public enum QueueMessages {
    /// An event to `herald.events`, routed by its type.
    public static func event(_ event: Event, from publisher: Publisher) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.eventsExchange, routingKey: event.type, body: Data(event.wireEncoded()),
            properties: AMQPProperties(
                contentType: "application/json", headers: [MessageHeaders.account: .string(event.account)],
                persistent: true, messageId: MessageID.event(event.id), type: MessageID.fitted(event.type),
                appId: publisher.rawValue))
    }

    /// A delivery job to the workers, a delay tier, or the signer's re-sign queue.
    ///
    /// - Parameter cause: why the job is parked without spending an attempt (`MessageHeaders.parked`).
    public static func job(
        _ job: DeliveryJob, to destination: JobDestination, from publisher: Publisher,
        parkedBecause cause: String? = nil
    ) -> AMQPPublication {
        var properties = jobProperties(job, from: publisher)
        if let cause { properties.headers[MessageHeaders.parked] = .string(cause) }
        let (exchange, routingKey) =
            switch destination {
            case .deliver: (HeraldNames.deliveriesExchange, HeraldNames.deliverRoutingKey)
            case .tier(let tier): (HeraldNames.retryExchange, tier.name)
            case .resign: (HeraldNames.resignExchange, HeraldNames.resignRoutingKey)
            }
        return AMQPPublication(
            exchange: exchange, routingKey: routingKey, body: Data(job.wireEncoded()),
            properties: properties)
    }

    /// An attempt record for the delivery log (`herald.attempts`).
    public static func attempt(_ record: AttemptRecord, from publisher: Publisher) -> AMQPPublication {
        var headers: AMQPTable = [
            MessageHeaders.eventId: .string(record.eventId), MessageHeaders.endpointId: .string(record.endpointId),
            MessageHeaders.attempt: .int64(Int64(record.attempt)),
        ]
        if let account = record.account { headers[MessageHeaders.account] = .string(account) }
        return AMQPPublication(
            exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey,
            body: Data(record.wireEncoded()),
            properties: AMQPProperties(
                contentType: "application/json", headers: headers, persistent: true,
                messageId: MessageID.attempt(eventId: record.eventId, endpointId: record.endpointId, attempt: record.attempt),
                appId: publisher.rawValue))
    }

    /// A control notice to the `herald.control` fanout. Not mandatory and not persistent: no
    /// signer may be listening, and a signer that starts later loads fresh endpoints anyway.
    public static func control(_ notice: ControlNotice, from publisher: Publisher) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.controlExchange, routingKey: "", body: Data(notice.wireEncoded()),
            properties: AMQPProperties(contentType: "application/json", persistent: false, appId: publisher.rawValue),
            mandatory: false)
    }

    /// A delivery job dead-lettered, with the job's own properties and `DeadLetterHeaders`.
    public static func dead(
        _ job: DeliveryJob, _ letter: DeadLetterCause, from publisher: Publisher,
        now: Timestamp
    ) -> AMQPPublication {
        var properties = jobProperties(job, from: publisher)
        properties.headers.merge(letter.headers(source: publisher, now: now)) { _, new in new }
        return AMQPPublication(
            exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey,
            body: Data(job.wireEncoded()), properties: properties)
    }

    /// A message Herald could not use, dead-lettered as it came: the same bytes and properties
    /// (message id, headers, content type), plus `DeadLetterHeaders` saying why, so an operator
    /// finds it by its original id and can replay it unchanged.
    public static func dead(
        input body: Data, properties original: AMQPProperties, _ letter: DeadLetterCause,
        from publisher: Publisher, now: Timestamp
    ) -> AMQPPublication {
        var properties = original
        properties.headers.merge(letter.headers(source: publisher, now: now)) { _, new in new }
        properties.persistent = true
        if properties.contentType == nil { properties.contentType = "application/octet-stream" }
        return AMQPPublication(
            exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey,
            body: body, properties: properties)
    }

    /// The properties every job message carries, in every queue it passes through.
    static func jobProperties(_ job: DeliveryJob, from publisher: Publisher) -> AMQPProperties {
        AMQPProperties(
            contentType: "application/json",
            headers: [
                MessageHeaders.eventId: .string(job.event.id),
                MessageHeaders.endpointId: .string(job.endpointId),
                MessageHeaders.attempt: .int64(Int64(job.attempt)),
                MessageHeaders.account: .string(job.event.account),
            ],
            persistent: true, messageId: MessageID.job(eventId: job.event.id, endpointId: job.endpointId),
            appId: publisher.rawValue)
    }
}

/// Why a message died, and what it was about (whatever is known): the `DeadLetterHeaders` of
/// a dead letter.
public struct DeadLetterCause: Sendable, Hashable {
    /// Short, stable reason (`retries-exhausted`, `invalid-event`, `endpoint-deleted`…).
    public var reason: String
    /// A sentence describing the failure.
    public var error: String
    public var eventId: String?
    public var eventType: String?
    public var account: String?
    public var endpointId: String?
    /// Attempts made so far.
    public var attempts: Int?
    /// The receiver's last HTTP status, when it answered.
    public var lastStatus: Int?
    /// The failure's stable label (workers).
    public var failureLabel: String?

    public init(
        reason: String, error: String, eventId: String? = nil, eventType: String? = nil, account: String? = nil,
        endpointId: String? = nil, attempts: Int? = nil, lastStatus: Int? = nil, failureLabel: String? = nil
    ) {
        self.reason = reason
        self.error = error
        self.eventId = eventId
        self.eventType = eventType
        self.account = account
        self.endpointId = endpointId
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.failureLabel = failureLabel
    }

    /// A letter about a job: its event, account and endpoint filled in.
    public static func about(
        _ job: DeliveryJob, reason: String, error: String, attempts: Int? = nil,
        lastStatus: Int? = nil, failureLabel: String? = nil
    ) -> DeadLetterCause {
        DeadLetterCause(
            reason: reason, error: error, eventId: job.event.id, eventType: job.event.type,
            account: job.event.account, endpointId: job.endpointId, attempts: attempts,
            lastStatus: lastStatus, failureLabel: failureLabel)
    }

    func headers(source: Publisher, now: Timestamp) -> AMQPTable {
        var headers: AMQPTable = [
            DeadLetterHeaders.reason: .string(reason),
            DeadLetterHeaders.error: .string(error),
            DeadLetterHeaders.source: .string(source.rawValue),
            DeadLetterHeaders.deadAt: .string(now.iso8601Milliseconds),
        ]
        if let eventId { headers[DeadLetterHeaders.eventId] = .string(eventId) }
        if let eventType { headers[DeadLetterHeaders.eventType] = .string(eventType) }
        if let account { headers[DeadLetterHeaders.account] = .string(account) }
        if let endpointId { headers[DeadLetterHeaders.endpointId] = .string(endpointId) }
        if let attempts { headers[DeadLetterHeaders.attempts] = .int64(Int64(attempts)) }
        if let lastStatus { headers[DeadLetterHeaders.lastStatus] = .int64(Int64(lastStatus)) }
        if let failureLabel { headers[MessageHeaders.failureLabel] = .string(failureLabel) }
        return headers
    }
}
