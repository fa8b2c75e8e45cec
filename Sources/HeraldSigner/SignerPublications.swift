import AMQP
import Foundation
import HeraldCore
import HeraldStore

/// The messages the signer publishes, in the shapes the queue contracts fix (see DESIGN.md and
/// the `HeraldNames` / `DeadLetterHeaders` docs). Pure: no I/O.
enum SignerPublications {
    /// A signed job for the workers: `herald.deliveries`, routing key `deliver`.
    static func delivery(_ job: DeliveryJob) -> AMQPPublication {
        AMQPPublication(exchange: HeraldNames.deliveriesExchange, routingKey: HeraldNames.deliverRoutingKey,
                        body: Data(job.wireEncoded()), properties: jobProperties(job))
    }

    /// A job parked in a delay tier without spending an attempt.
    static func park(_ job: DeliveryJob, in tier: DelayTier) -> AMQPPublication {
        AMQPPublication(exchange: HeraldNames.retryExchange, routingKey: tier.name,
                        body: Data(job.wireEncoded()), properties: jobProperties(job))
    }

    /// An attempt record for the delivery log.
    static func attempt(_ record: AttemptRecord) -> AMQPPublication {
        AMQPPublication(exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey,
                        body: Data(record.wireEncoded()),
                        properties: AMQPProperties(contentType: "application/json",
                                                   messageId: "\(record.eventId):\(record.endpointId):\(record.attempt)"))
    }

    /// Why something died, and what it was about (whatever is known).
    struct DeadLetter: Sendable {
        var reason: String
        var error: String
        var eventId: String?
        var eventType: String?
        var account: String?
        var endpointId: String?
        var attempts: Int?
    }

    /// A dead letter: the input's bytes unchanged (so it can be replayed as it was) with
    /// `DeadLetterHeaders` saying why.
    static func dead(body: Data, contentType: String?, _ letter: DeadLetter, now: Timestamp) -> AMQPPublication {
        var headers: AMQPTable = [
            DeadLetterHeaders.reason: .string(letter.reason),
            DeadLetterHeaders.error: .string(letter.error),
            DeadLetterHeaders.source: "herald-signer",
            DeadLetterHeaders.deadAt: .string(now.iso8601Milliseconds),
        ]
        if let v = letter.eventId { headers[DeadLetterHeaders.eventId] = .string(v) }
        if let v = letter.eventType { headers[DeadLetterHeaders.eventType] = .string(v) }
        if let v = letter.account { headers[DeadLetterHeaders.account] = .string(v) }
        if let v = letter.endpointId { headers[DeadLetterHeaders.endpointId] = .string(v) }
        if let v = letter.attempts { headers[DeadLetterHeaders.attempts] = .int64(Int64(v)) }
        return AMQPPublication(exchange: HeraldNames.deadExchange, routingKey: HeraldNames.deadRoutingKey, body: body,
                               properties: AMQPProperties(contentType: contentType ?? "application/octet-stream",
                                                          headers: headers, messageId: letter.eventId))
    }

    static func jobProperties(_ job: DeliveryJob) -> AMQPProperties {
        AMQPProperties(
            contentType: "application/json",
            headers: [
                "herald-event-id": .string(job.event.id),
                "herald-endpoint-id": .string(job.endpointId),
                "herald-attempt": .int64(Int64(job.attempt)),
            ],
            persistent: true, messageId: "\(job.event.id):\(job.endpointId)")
    }
}

/// The destination an event's `callbackUrl` stands for: not a stored endpoint, but one built
/// from the account's default profile and secrets each time it is signed.
enum CallbackEndpoint {
    /// Jobs for a callbackUrl carry this endpoint id, so a retry knows to rebuild it.
    static let prefix = "callback:"

    static func id(account: String) -> String { prefix + account }

    static func isCallback(_ endpointId: String) -> Bool { endpointId.hasPrefix(prefix) }

    static func endpoint(for account: Account, url: String) -> Endpoint {
        Endpoint(id: id(account: account.id), account: account.id, url: url, profile: account.defaultProfile,
                 secrets: account.defaultSecrets)
    }
}
