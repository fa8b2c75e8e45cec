import AMQP
import HeraldCore
import HeraldStore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Consumes `herald.attempts` and writes the delivery log in batches (one SQLite transaction per
/// batch), tracks endpoint health, and announces what changed: `endpoint.disabled` and
/// `attempt.exhausted` events to `herald.events`, and a control notice for each disabled endpoint.
///
/// No-loss: a batch is acked only after the store committed it and every announcement was
/// confirmed; otherwise it is nacked back to the queue (records are idempotent in the store).
public final class DeliveryLogConsumer: Service, Sendable {
    let store: any IngestStore
    let broker: BrokerLink
    let disableAfterSeconds: Int
    let logger: Logger
    let prefetch: UInt16
    let flushInterval: Duration
    private let pending = Mutex<[AMQPDelivery]>([])
    let recorded = Counter(label: "herald_ingest_attempts_recorded_total")
    let batchSize = Recorder(label: "herald_ingest_attempt_batch_size")

    public init(store: any IngestStore, broker: BrokerLink, disableAfterSeconds: Int, logger: Logger,
                prefetch: UInt16 = 500, flushInterval: Duration = .milliseconds(50)) {
        self.store = store
        self.broker = broker
        self.disableAfterSeconds = disableAfterSeconds
        self.logger = logger
        self.prefetch = prefetch
        self.flushInterval = flushInterval
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.receive() }
            group.addTask { await self.flushLoop() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Subscribes once the broker is up and buffers deliveries for the flusher.
    func receive() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                guard let connection = self.broker.current else {
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                do {
                    let consumer = try await connection.consume(queue: HeraldNames.attemptsQueue, prefetch: self.prefetch)
                    for try await delivery in consumer {
                        self.pending.withLock { $0.append(delivery) }
                    }
                } catch {
                    if Task.isCancelled { break }
                    self.logger.warning("attempts consumer stopped; resubscribing", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func flushLoop() async {
        while true {
            let stopping = Task.isShuttingDownGracefully || Task.isCancelled
            let batch = pending.withLock { p in defer { p.removeAll(keepingCapacity: true) }; return p }
            if !batch.isEmpty { await flush(batch) }
            if stopping { return }
            try? await Task.sleep(for: flushInterval)
        }
    }

    func flush(_ batch: [AMQPDelivery]) async {
        var records: [AttemptRecord] = []
        var good: [AMQPDelivery] = []
        for d in batch {
            do {
                records.append(try AttemptRecord.wireDecoded(d.body))
                good.append(d)
            } catch {
                // A record nobody can read would loop forever if requeued: log it and drop it.
                logger.error("unreadable attempt record dropped", metadata: ["error": "\(error)"])
                d.reject(requeue: false)
            }
        }
        guard !records.isEmpty else { return }
        batchSize.record(records.count)
        do {
            let outcome = try await store.recordAttempts(records, now: .now(), disableAfterSeconds: disableAfterSeconds)
            let publications = Self.announcements(outcome, now: .now())
            if !publications.isEmpty { try await broker.publish(publications) }
            recorded.increment(by: Int64(outcome.inserted))
            for e in outcome.disabled {
                logger.notice("endpoint disabled", metadata: ["endpoint.id": "\(e.id)", "account.id": "\(e.account)"])
            }
            for d in good { d.ack() }
        } catch {
            logger.warning("attempt batch not recorded; requeued", metadata: ["error": "\(error)", "count": "\(good.count)"])
            for d in good { d.nack(requeue: true) }
        }
    }

    /// The operational events (and control notices) a batch's outcome calls for.
    ///
    /// Event ids derive from what they announce, so a redelivered batch announces nothing new
    /// to receivers that dedupe on the id.
    static func announcements(_ outcome: AttemptBatchOutcome, now: Timestamp) -> [AMQPPublication] {
        var out: [AMQPPublication] = []
        for e in outcome.disabled {
            var data: JSONObject = ["endpointId": .string(e.id), "url": .string(e.url)]
            if case .disabled(let reason, let at) = e.state {
                data["reason"] = .string(reason)
                data["disabledAt"] = .string(at.iso8601Milliseconds)
            }
            let event = Event(id: "evt_disabled_\(e.id)_\(now.millisecondsSinceEpoch)", type: "endpoint.disabled",
                              account: e.account, occurredAt: now, data: data)
            out.append(Publications.event(event))
            out.append(Publications.control(ControlNotice(notice: .endpointChanged, account: e.account, endpointId: e.id)))
        }
        for x in outcome.exhausted {
            let r = x.record
            var data: JSONObject = [
                "eventId": .string(r.eventId), "endpointId": .string(r.endpointId), "attempts": .number(Double(r.attempt)),
                "url": .string(r.url),
            ]
            data["statusCode"] = r.statusCode.map { .number(Double($0)) } ?? .null
            data["error"] = r.error.map(JSONValue.string) ?? .null
            let event = Event(id: "evt_exhausted_\(r.eventId)_\(r.endpointId)", type: "attempt.exhausted",
                              account: x.account, occurredAt: r.at, data: data)
            out.append(Publications.event(event))
        }
        return out
    }
}
