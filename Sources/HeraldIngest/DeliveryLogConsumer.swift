import AMQP
import HeraldCore
import HeraldMessages
import HeraldSigning
import HeraldStore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Consumes `herald.attempts` and writes the delivery log in batches (one SQLite transaction per
/// batch), tracks endpoint health, and announces what changed: `endpoint.disabled` and
/// `attempt.exhausted` events to `herald.events`, and a control notice for each disabled endpoint.
///
/// No-loss: the announcements are written to the outbox in the batch's own transaction and
/// published by the `OutboxRelay`, so a batch is acked as soon as the store committed it; if the
/// store fails the batch is nacked back to the queue (records are idempotent in the store). A
/// record nobody can read is dead-lettered (`invalid-attempt-record`), never dropped.
public final class DeliveryLogConsumer: Service, Sendable {
    let store: any IngestStore
    let broker: BrokerLink
    let relay: OutboxRelay
    let disableAfterSeconds: Int
    let logger: Logger
    let prefetch: UInt16
    let flushInterval: Duration
    private let pending = Mutex<[AMQPDelivery]>([])
    let recorded = Counter(label: "herald_ingest_attempts_recorded_total")
    let invalidRecords = Counter(label: "herald_ingest_dead_lettered_total", dimensions: [("reason", "invalid-attempt-record")])
    let batchSize = Recorder(label: "herald_ingest_attempt_batch_size")

    public init(
        store: any IngestStore, broker: BrokerLink, relay: OutboxRelay, disableAfterSeconds: Int, logger: Logger,
        prefetch: UInt16 = 500, flushInterval: Duration = .milliseconds(50)
    ) {
        self.store = store
        self.broker = broker
        self.relay = relay
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
            let batch = pending.withLock { p in
                defer { p.removeAll(keepingCapacity: true) }; return p
            }
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
                await deadLetter(d, error: error)
            }
        }
        guard !records.isEmpty else { return }
        batchSize.record(records.count)
        do {
            let now = Timestamp.now()
            let outcome = try await store.recordAttempts(records, now: now, disableAfterSeconds: disableAfterSeconds) { outcome in
                Self.announcements(outcome, now: now).map(StoredPublication.encode)
            }
            relay.wake()
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

    /// A record nobody can read would loop forever if requeued: it goes to `herald.dead` as it
    /// came, where `heraldctl dlq` shows it (and `dlq replay` skips it: it is not a job).
    func deadLetter(_ delivery: AMQPDelivery, error: WireError) async {
        logger.error("unreadable attempt record dead-lettered", metadata: ["error": "\(error)"])
        let letter = QueueMessages.dead(
            input: delivery.body, properties: delivery.properties,
            DeadLetterCause(reason: "invalid-attempt-record", error: "not an attempt record: \(error)"), from: .ingest,
            now: .now())
        do {
            try await broker.publish([letter])
            invalidRecords.increment()
            delivery.ack()
        } catch {
            logger.warning("dead letter not published; the record is requeued", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            delivery.nack(requeue: true)
        }
    }

    /// The operational events (and control notices) a batch's outcome calls for.
    ///
    /// Event ids derive from what they announce (hashed, so they fit the API's id rules
    /// whatever the ids they are made of), so a redelivered batch announces nothing new to
    /// receivers that dedupe on the id. The failure of an operational event is not announced:
    /// an announcement never begets another.
    static func announcements(_ outcome: AttemptBatchOutcome, now: Timestamp) -> [AMQPPublication] {
        var out: [AMQPPublication] = []
        for e in outcome.disabled {
            var data: JSONObject = ["endpointId": .string(e.accountScopedId), "url": .string(e.url)]
            if case .disabled(let reason, let at) = e.state {
                data["reason"] = .string(reason)
                data["disabledAt"] = .string(at.iso8601Milliseconds)
            }
            let id = "evt_disabled_" + derivedId([e.account, e.id, String(now.millisecondsSinceEpoch)])
            let event = Event(id: id, type: OperationalEvent.endpointDisabled, account: e.account, occurredAt: now, data: data)
            out.append(QueueMessages.event(event, from: .ingest))
            out.append(
                QueueMessages.control(
                    ControlNotice(notice: .endpointChanged, account: e.account, endpointId: e.id), from: .ingest))
        }
        for x in outcome.exhausted where !OperationalEvent.isOperational(x.record.eventType ?? "") {
            let r = x.record
            var data: JSONObject = [
                "eventId": .string(r.eventId), "endpointId": .string(EndpointKey.id(ofKey: r.endpointId)),
                "attempts": .number(Double(r.attempt)),
                "url": .string(r.url),
            ]
            data["statusCode"] = r.statusCode.map { .number(Double($0)) } ?? .null
            data["error"] = r.error.map(JSONValue.string) ?? .null
            let id = "evt_exhausted_" + derivedId([x.account, r.eventId, r.endpointId])
            let event = Event(id: id, type: OperationalEvent.attemptExhausted, account: x.account, occurredAt: r.at, data: data)
            out.append(QueueMessages.event(event, from: .ingest))
        }
        return out
    }

    /// 32 hex digits of the SHA-256 of `parts` (NUL-separated, so no two lists give one text).
    static func derivedId(_ parts: [String]) -> String {
        String(Hex.encode(Digest.sha256(Array(parts.joined(separator: "\u{0}").utf8))).prefix(32))
    }
}
