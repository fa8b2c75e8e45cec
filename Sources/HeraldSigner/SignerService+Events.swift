import AMQP
import HeraldCore
import HeraldMessages
import HeraldSigning
import Logging

extension SignerService {
    /// A new event: fan out to every enabled endpoint of its account whose filters match, plus
    /// its `callbackUrl`, one signed job each, published together; ack once all are confirmed.
    func handleEvent(_ delivery: AMQPDelivery, connection: AMQPConnection) async {
        let event: Event
        do {
            event = try Event.wireDecoded(delivery.body)
        } catch {
            await deadLetter(delivery, .init(reason: "invalid-event", error: error.description), connection: connection)
            return
        }
        let metadata: Logger.Metadata = ["event.id": "\(event.id)", "account.id": "\(event.account)"]
        let entry: EndpointCache.Entry?
        do {
            entry = try await cache.entry(account: event.account)
        } catch {
            await storeUnavailable(delivery, error: error, metadata: metadata)
            return
        }
        guard let entry else {
            await deadLetter(
                delivery,
                .init(
                    reason: "unknown-account", error: "account '\(event.account)' does not exist",
                    eventId: event.id, eventType: event.type, account: event.account),
                connection: connection)
            return
        }

        let now = Timestamp.now()
        var jobs: [DeliveryJob] = []
        var publications: [AMQPPublication] = []
        // Stored endpoints keep their own URL: the callbackUrl is one more destination, not an
        // override (each job carries the whole event).
        for endpoint in entry.endpoints where Signer.delivers(event, to: endpoint) {
            do throws(SigningError) {
                jobs.append(try Signer.sign(event, for: endpoint, to: endpoint.url, now: now))
            } catch  where error.isEventNotSupported {
                continue
            } catch {
                publications.append(signingFailed(event, endpoint: endpoint, error: error, delivery: delivery))
            }
        }
        if let url = event.callbackUrl {
            let endpoint = CallbackEndpoint.endpoint(for: entry.account, url: url)
            if Signer.delivers(event, to: endpoint) {
                do throws(SigningError) {
                    jobs.append(try Signer.sign(event, for: endpoint, to: url, now: now))
                } catch  where error.isEventNotSupported {
                } catch {
                    publications.append(signingFailed(event, endpoint: endpoint, error: error, delivery: delivery))
                }
            }
        }
        let failures = publications.count
        if jobs.isEmpty, failures == 0 {
            delivery.ack()
            statistics.noMatch()
            return
        }
        publications.insert(contentsOf: jobs.map { QueueMessages.job($0, to: .deliver, from: .signer) }, at: 0)
        if await publishThenAck(publications, for: delivery, connection: connection, metadata: metadata) {
            statistics.signed(profiles: jobs.map(\.profile))
            for _ in 0..<failures { statistics.deadLettered(reason: "signing-failed") }
        }
    }

    /// An endpoint that cannot be signed for (no valid secret, a secret in the wrong form): the
    /// other endpoints still get their jobs; this one's is a dead letter naming the endpoint.
    private func signingFailed(
        _ event: Event, endpoint: Endpoint, error: SigningError,
        delivery: AMQPDelivery
    ) -> AMQPPublication {
        logger.error(
            "cannot sign for endpoint: dead-lettered",
            metadata: [
                "event.id": "\(event.id)", "endpoint.id": "\(endpoint.id)", "error": "\(error)",
            ])
        return QueueMessages.dead(
            input: delivery.body, properties: delivery.properties,
            DeadLetterCause(
                reason: "signing-failed", error: error.description, eventId: event.id, eventType: event.type,
                account: event.account, endpointId: endpoint.id),
            from: .signer, now: .now())
    }
}
