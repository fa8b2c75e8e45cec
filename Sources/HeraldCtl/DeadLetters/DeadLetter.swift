import AMQP
import Foundation
import HeraldCore

/// A message read from `herald.dead`, with what its headers and body say about why it died.
///
/// Header values win over the body: a dead letter whose body is not a `DeliveryJob` (an event
/// the signer could not read) still has its reason, endpoint and account from the headers.
public struct DeadLetter: Sendable {
    /// The raw delivery; settle it through the scan that produced it.
    public let delivery: AMQPDelivery
    /// `<eventId>:<endpointId>` (the message's `messageId` property).
    public let id: String
    /// The job, when the body is one.
    public let job: DeliveryJob?
    public let reason: String?
    public let error: String?
    public let lastStatus: Int?
    public let attempts: Int?
    public let endpointId: String?
    public let eventId: String?
    public let eventType: String?
    public let account: String?
    public let deadAt: Timestamp?
    public let source: String?

    public init(_ delivery: AMQPDelivery) {
        self.delivery = delivery
        let h = delivery.properties.headers
        let job = try? DeliveryJob.wireDecoded(Array(delivery.body))
        self.job = job
        reason = h[DeadLetterHeaders.reason]?.stringValue
        error = h[DeadLetterHeaders.error]?.stringValue
        lastStatus = h[DeadLetterHeaders.lastStatus]?.intValue ?? h[DeadLetterHeaders.lastStatus]?.stringValue.flatMap { Int($0) }
        attempts = h[DeadLetterHeaders.attempts]?.intValue ?? job?.attempt
        endpointId = h[DeadLetterHeaders.endpointId]?.stringValue ?? job?.endpointId
        eventId = h[DeadLetterHeaders.eventId]?.stringValue ?? job?.event.id
        eventType = h[DeadLetterHeaders.eventType]?.stringValue ?? job?.event.type
        account = h[DeadLetterHeaders.account]?.stringValue ?? job?.event.account
        deadAt =
            h[DeadLetterHeaders.deadAt]?.stringValue.flatMap { Timestamp(iso8601: $0) }
            ?? delivery.properties.timestamp.map { Timestamp(secondsSinceEpoch: Int64($0)) }
        source = h[DeadLetterHeaders.source]?.stringValue
        id =
            delivery.properties.messageId
            ?? "\(eventId ?? "?"):\(endpointId ?? "?")"
    }

    /// The job to publish to `herald.resign` for a replay: attempt 1, first attempt now, no
    /// not-before, so the signer re-signs it with a fresh retry budget.
    public func replayJob(now: Timestamp) -> DeliveryJob? {
        guard var job else { return nil }
        job.attempt = 1
        job.firstAttemptAt = now
        job.notBefore = nil
        return job
    }

    /// A summary for listings and `--json`.
    public var summaryJSON: JSONObject {
        var o = JSONObject()
        o["id"] = .string(id)
        o["reason"] = reason.map(JSONValue.string) ?? .null
        o["endpointId"] = endpointId.map(JSONValue.string) ?? .null
        o["account"] = account.map(JSONValue.string) ?? .null
        o["eventId"] = eventId.map(JSONValue.string) ?? .null
        o["eventType"] = eventType.map(JSONValue.string) ?? .null
        o["lastStatus"] = lastStatus.map { .number(Double($0)) } ?? .null
        o["attempts"] = attempts.map { .number(Double($0)) } ?? .null
        o["deadAt"] = deadAt.map { .string($0.iso8601Milliseconds) } ?? .null
        o["error"] = error.map(JSONValue.string) ?? .null
        return o
    }
}
