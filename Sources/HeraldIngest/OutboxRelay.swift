import AMQP
import HeraldCore
import HeraldMessages
import HeraldStore
import Logging
import Metrics
import ServiceLifecycle

/// Publishes what the store's transactional outbox holds, and deletes each row once the
/// broker confirmed it: announcements of the delivery log (`endpoint.disabled`,
/// `attempt.exhausted`, control notices), and accepted events whose request could not see
/// them confirmed (a crash, a lost connection, a blocked broker).
///
/// A row is leased while it is published (`lease`), so a relay in another replica does not
/// take it at the same time; a row whose publish fails comes back when its lease ends. Delivery
/// is at-least-once: a crash between the confirm and the delete publishes a row again, and
/// receivers deduplicate by the event id.
public final class OutboxRelay: Service, Sendable {
    let store: any OutboxStore
    let broker: BrokerLink
    let logger: Logger
    let lease: Duration
    let idle: Duration
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation
    let published = Counter(label: "herald_ingest_outbox_published_total")
    let unreadable = Counter(label: "herald_ingest_outbox_unreadable_total")

    /// - Parameters:
    ///   - lease: how long a row being published is hidden from other relays; longer than a
    ///     publish can take.
    ///   - idle: how often the relay looks for due rows when nobody wakes it.
    public init(
        store: any OutboxStore, broker: BrokerLink, logger: Logger, lease: Duration = .seconds(15),
        idle: Duration = .seconds(1)
    ) {
        self.store = store
        self.broker = broker
        self.logger = logger
        self.lease = lease
        self.idle = idle
        (wakeups, wakeup) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the relay to look at the outbox now (something was just written to it).
    public func wake() { wakeup.yield() }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                // Wake up at least every `idle`, to take rows whose hold or lease has passed.
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.idle)
                        self.wake()
                    }
                }
                group.addTask {
                    for await _ in self.wakeups {
                        await self.publishDue()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        // A last pass, so that what was written just before shutdown goes out now.
        await publishDue()
    }

    /// Publishes every due row, a batch at a time, until none is left or a publish fails.
    func publishDue() async {
        let leaseMilliseconds = lease.components.seconds * 1_000
        while true {
            let rows: [OutboxMessage]
            do {
                rows = try await store.dueOutboxMessages(now: .now(), limit: 200, leaseMilliseconds: leaseMilliseconds)
            } catch {
                logger.warning("outbox unreadable; retrying", metadata: ["error": "\(error)"])
                return
            }
            guard !rows.isEmpty else { return }
            var publications: [AMQPPublication] = []
            var ids: [Int64] = []
            var broken: [Int64] = []
            for row in rows {
                do {
                    publications.append(try StoredPublication.decode(row.message))
                    ids.append(row.id)
                } catch {
                    // Only Herald writes the outbox, so this is a bug: say so loudly, count it, and
                    // keep the row for an operator (it is reported again each time its lease ends).
                    logger.critical(
                        "unreadable outbox row left in place", metadata: ["outbox.id": "\(row.id)", "error": "\(error)"])
                    unreadable.increment()
                    broken.append(row.id)
                }
            }
            do {
                try await broker.publish(publications)
            } catch {
                logger.warning(
                    "outbox publish failed; retrying after the lease",
                    metadata: [
                        "error": "\(error)", "outbox.count": "\(ids.count)",
                    ])
                return
            }
            do {
                try await store.deleteOutboxMessages(ids: ids)
            } catch {
                logger.warning("published outbox rows not deleted; they will be published again", metadata: ["error": "\(error)"])
            }
            published.increment(by: Int64(ids.count))
            if rows.count < 200 { return }
        }
    }
}
