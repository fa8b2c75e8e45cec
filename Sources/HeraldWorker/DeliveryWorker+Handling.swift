import AMQP
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldMessages
import Logging

extension DeliveryWorker {
    /// Everything that happens to one message from `herald.deliver`. Never throws: every path
    /// ends in exactly one ack (after the publishes it needs are confirmed) or nack(requeue).
    func handle(_ delivery: AMQPDelivery, connection: AMQPConnection) async {
        let job: DeliveryJob
        do {
            job = try DeliveryJob.wireDecoded(delivery.body)
        } catch {
            logger.warning("undecodable job dead-lettered", metadata: ["error": "\(error)"])
            metrics.dead(reason: "invalid-job")
            await settle(
                delivery,
                after: [
                    QueueMessages.dead(
                        input: delivery.body, properties: delivery.properties,
                        DeadLetterCause(reason: "invalid-job", error: "not a delivery job: \(error)"), from: .worker, now: .now())
                ], connection)
            return
        }
        let now = Timestamp.now()
        // Not yet due (a wait longer than the longest tier): park again, no attempt spent.
        if let tier = job.parkingTier(now: now) {
            await park(job, delivery, in: tier, cause: "not_before", connection)
            return
        }
        switch await gate.admit(job.endpointId, rateLimit: job.rateLimitPerSecond) {
        case .park(let cause, let seconds):
            await park(job, delivery, in: DelayTier.atLeast(seconds: seconds), cause: cause, connection)
        case .go:
            await attempt(job, delivery, connection)
        }
    }

    /// One HTTP attempt, then its publishes and the ack.
    private func attempt(_ job: DeliveryJob, _ delivery: AMQPDelivery, _ connection: AMQPConnection) async {
        let startedAt = Timestamp.now()
        metrics.transferStarted()
        let response = await client.send(
            DeliveryRequest(url: job.url, body: job.body, headers: job.headers, policy: job.policy))
        metrics.transferEnded()
        let now = Timestamp.now()
        let outcome = DeliveryDecision.decide(response, policy: job.policy, attempt: job.attempt, now: now)
        gate.finish(job.endpointId, healthy: outcome.endpointHealthy)
        let latencyNanoseconds = response.latencyNanoseconds
        metrics.latency.recordNanoseconds(latencyNanoseconds)

        var record = AttemptRecord(
            eventId: job.event.id, endpointId: job.endpointId, attempt: job.attempt, at: startedAt,
            outcome: .delivered, statusCode: response.status, latencyMs: Int(latencyNanoseconds / 1_000_000),
            error: nil, responseSnippet: response.bodyPrefix.isEmpty ? nil : response.bodySnippet, url: job.url,
            account: job.event.account, eventType: job.event.type)
        // Built only where a log line is likely (not per successful delivery: it was measurable).
        func metadata() -> Logger.Metadata {
            [
                "event.id": .string(job.event.id), "endpoint.id": .string(job.endpointId),
                "delivery.attempt": .stringConvertible(job.attempt),
                "http.status": "\(response.status.map(String.init) ?? "none")",
            ]
        }
        switch outcome {
        case .delivered:
            metrics.delivery(outcome: "delivered", status: response.status)
            logger.debug("delivered", metadata: metadata())
            await settle(delivery, after: [QueueMessages.attempt(record, from: .worker)], connection)
        case .retry(let plan):
            record.outcome = .retrying
            record.error = plan.reason.message
            record.nextAttemptAt = plan.notBefore
            var next = job
            next.attempt = plan.nextAttempt
            next.notBefore = plan.notBefore
            metrics.delivery(outcome: "retrying", status: response.status)
            metrics.retry(tier: plan.tier.name)
            var metadata = metadata()
            metadata["delivery.tier"] = .string(plan.tier.name)
            metadata["delivery.failure"] = .string(plan.reason.label)
            logger.info("attempt failed; retrying", metadata: metadata)
            await settle(
                delivery,
                after: [
                    QueueMessages.attempt(record, from: .worker),
                    QueueMessages.job(next, to: .tier(plan.tier), from: .worker),
                ], connection)
        case .dead(let reason):
            record.outcome = .dead
            record.error = reason.message
            let deadReason = reason.deadLetterReason
            metrics.delivery(outcome: "dead", status: response.status)
            metrics.dead(reason: deadReason)
            var metadata = metadata()
            metadata["delivery.failure"] = .string(reason.label)
            metadata["dead.reason"] = .string(deadReason)
            logger.info("dead-lettered", metadata: metadata)
            await settle(
                delivery,
                after: [
                    QueueMessages.attempt(record, from: .worker),
                    QueueMessages.dead(
                        job,
                        .about(
                            job, reason: deadReason, error: reason.message, attempts: job.attempt,
                            lastStatus: reason.status, failureLabel: reason.label),
                        from: .worker, now: now),
                ], connection)
        case .abandoned:
            metrics.delivery(outcome: "abandoned", status: nil)
            logger.debug("abandoned; handing back", metadata: metadata())
            delivery.nack(requeue: true)
        }
    }

    /// Sends the job to a delay tier without spending an attempt.
    private func park(
        _ job: DeliveryJob, _ delivery: AMQPDelivery, in tier: DelayTier, cause: String, _ connection: AMQPConnection
    ) async {
        metrics.parked(cause: cause)
        logger.debug(
            "parked",
            metadata: [
                "event.id": .string(job.event.id), "endpoint.id": .string(job.endpointId),
                "delivery.tier": .string(tier.name), "park.cause": .string(cause),
            ])
        await settle(delivery, after: [QueueMessages.job(job, to: .tier(tier), from: .worker, parkedBecause: cause)], connection)
    }

    /// Publishes (with confirms) and then acks; on any publish failure hands the input back.
    private func settle(_ delivery: AMQPDelivery, after publications: [AMQPPublication], _ connection: AMQPConnection) async {
        do {
            try await connection.publish(publications)
            delivery.ack()
        } catch {
            metrics.publishFailures.increment()
            logger.warning("publish failed; handing the job back", metadata: ["error": "\(error)"])
            delivery.nack(requeue: true)
        }
    }
}
