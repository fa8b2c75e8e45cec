import AMQP
import Foundation
import HeraldCore
import HeraldMessages
import HeraldSigning
import Logging

extension SignerService {
    /// A job back from a delay tier, or replayed: re-render and re-sign it with the endpoint's
    /// current URL, secrets and policy and a fresh timestamp/nonce, keeping its attempt number.
    func handleJob(_ delivery: AMQPDelivery, connection: AMQPConnection) async {
        let job: DeliveryJob
        do {
            job = try DeliveryJob.wireDecoded(delivery.body)
        } catch {
            await deadLetter(delivery, .init(reason: "invalid-job", error: error.description), connection: connection)
            return
        }
        let metadata: Logger.Metadata = ["event.id": "\(job.event.id)", "endpoint.id": "\(job.endpointId)"]
        let now = Timestamp.now()

        // Not due yet (a wait longer than the longest tier): park it again, attempt unchanged.
        if let tier = job.parkingTier(now: now) {
            if await publishThenAck(
                [QueueMessages.job(job, to: .tier(tier), from: .signer, parkedBecause: "not_before")], for: delivery,
                connection: connection,
                metadata: metadata)
            {
                statistics.parked()
            }
            return
        }

        let endpoint: Endpoint?
        do {
            if CallbackEndpoint.isCallback(job.endpointId) {
                endpoint = try await cache.entry(account: job.event.account).map {
                    CallbackEndpoint.endpoint(for: $0.account, url: job.event.callbackUrl ?? job.url)
                }
            } else {
                endpoint = try await cache.endpoint(id: job.endpointId, account: job.event.account)
            }
        } catch {
            await storeUnavailable(delivery, error: error, metadata: metadata)
            return
        }

        guard let endpoint else {
            // Deleted (or its account is): nothing to deliver to. The log says why it stopped, and
            // the job itself is kept in herald.dead, where an operator can find it.
            let record = AttemptRecord(
                eventId: job.event.id, endpointId: job.endpointId, attempt: job.attempt, at: now,
                outcome: .dropped, latencyMs: 0, error: "endpoint deleted", url: job.url,
                account: job.event.account, eventType: job.event.type)
            let letter = DeadLetterCause.about(
                job, reason: "endpoint-deleted", error: "the endpoint (or its account) was deleted",
                attempts: job.attempt - 1)
            if await publishThenAck(
                [
                    QueueMessages.attempt(record, from: .signer),
                    QueueMessages.dead(
                        input: delivery.body, properties: delivery.properties, letter,
                        from: .signer, now: now),
                ],
                for: delivery, connection: connection, metadata: metadata)
            {
                statistics.dropped()
                statistics.deadLettered(reason: letter.reason)
                logger.info("retry dead-lettered: endpoint deleted", metadata: metadata)
            }
            return
        }
        if case .disabled(let reason, _) = endpoint.state {
            await deadLetter(
                delivery,
                .about(
                    job, reason: "endpoint-disabled", error: "endpoint disabled: \(reason)",
                    attempts: job.attempt - 1),
                connection: connection)
            return
        }

        // The endpoint's current URL (a callback endpoint is rebuilt with the event's callbackUrl).
        var fresh: DeliveryJob
        do {
            fresh = try Signer.sign(job.event, for: endpoint, to: endpoint.url, retrying: job, now: now)
        } catch {
            await deadLetter(
                delivery, .about(job, reason: "signing-failed", error: error.description, attempts: job.attempt - 1),
                connection: connection)
            return
        }
        // The wait is over (`Signer.sign` keeps the attempt number and takes the current policy).
        fresh.notBefore = nil
        if await publishThenAck(
            [QueueMessages.job(fresh, to: .deliver, from: .signer)], for: delivery, connection: connection,
            metadata: metadata)
        {
            statistics.signed(profiles: [fresh.profile])
        }
    }
}
