import AMQP
import Foundation
import HeraldCore
import HeraldDelivery

/// The messages a worker publishes, in their documented wire forms (see `docs/worker.md`).
enum WorkerMessages {
    /// Properties every job message carries: JSON, persistent, `<eventId>:<endpointId>` as the
    /// message id, and the event, endpoint and attempt as headers.
    static func jobProperties(_ job: DeliveryJob, extra: AMQPTable = [:]) -> AMQPProperties {
        var headers: AMQPTable = [
            "herald-event-id": .string(job.event.id),
            "herald-endpoint-id": .string(job.endpointId),
            "herald-attempt": .int64(Int64(job.attempt)),
        ]
        headers.merge(extra) { _, new in new }
        return AMQPProperties(
            contentType: "application/json", headers: headers, persistent: true,
            messageId: "\(job.event.id):\(job.endpointId)", appId: "herald-worker")
    }

    /// The header naming why a job was parked without an attempt (`circuit_open`,
    /// `endpoint_busy`, `rate_limit`, `not_before`); absent on retries after a failed attempt.
    static let parkedHeader = "herald-parked"

    /// The job parked in (or retried through) a delay tier.
    static func toTier(_ job: DeliveryJob, tier: DelayTier, parkedBecause cause: String? = nil) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.retryExchange, routingKey: tier.name, body: Data(job.wireEncoded()),
            properties: jobProperties(job, extra: cause.map { [parkedHeader: .string($0)] } ?? [:]))
    }

    /// The attempt record for the delivery log.
    static func attempt(_ record: AttemptRecord) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey,
            body: Data(record.wireEncoded()),
            properties: AMQPProperties(
                contentType: "application/json",
                headers: [
                    "herald-event-id": .string(record.eventId), "herald-endpoint-id": .string(record.endpointId),
                    "herald-attempt": .int64(Int64(record.attempt)),
                ],
                persistent: true, messageId: "\(record.eventId):\(record.endpointId):\(record.attempt)",
                appId: "herald-worker"))
    }

    /// The short dead-letter reason for a failure.
    static func deadReason(_ reason: FailureReason) -> String {
        if reason.disablesEndpoint { return "gone" }
        if reason.exhausted { return "retries-exhausted" }
        if reason.label == DeliveryError.Code.refusedDestination.description { return "destination-refused" }
        if reason.label == DeliveryError.Code.invalidRequest.description { return "invalid-request" }
        return "permanent-failure"
    }

    /// The job dead-lettered, with `DeadLetterHeaders` saying why.
    static func dead(_ job: DeliveryJob, reason: FailureReason, now: Timestamp) -> AMQPPublication {
        var headers: AMQPTable = [
            DeadLetterHeaders.reason: .string(deadReason(reason)),
            DeadLetterHeaders.error: .string(reason.message),
            DeadLetterHeaders.attempts: .int64(Int64(job.attempt)),
            DeadLetterHeaders.endpointId: .string(job.endpointId),
            DeadLetterHeaders.eventId: .string(job.event.id),
            DeadLetterHeaders.eventType: .string(job.event.type),
            DeadLetterHeaders.account: .string(job.event.account),
            DeadLetterHeaders.deadAt: .string(now.iso8601Milliseconds),
            DeadLetterHeaders.source: "herald-worker",
            "herald-failure-label": .string(reason.label),
        ]
        if let status = reason.status { headers[DeadLetterHeaders.lastStatus] = .int64(Int64(status)) }
        return AMQPPublication(
            exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey, body: Data(job.wireEncoded()),
            properties: jobProperties(job, extra: headers))
    }

    /// A message that is not a readable job, dead-lettered byte for byte.
    static func invalidJob(_ delivery: AMQPDelivery, error: WireError, now: Timestamp) -> AMQPPublication {
        var properties = delivery.properties
        properties.headers[DeadLetterHeaders.reason] = "invalid-job"
        properties.headers[DeadLetterHeaders.error] = .string("not a delivery job: \(error)")
        properties.headers[DeadLetterHeaders.deadAt] = .string(now.iso8601Milliseconds)
        properties.headers[DeadLetterHeaders.source] = "herald-worker"
        properties.persistent = true
        return AMQPPublication(
            exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey, body: delivery.body,
            properties: properties)
    }
}
