import AMQP
import Foundation
import HeraldCore
import HeraldMessages
import HeraldStore
import HeraldTopology
import Logging
import ServiceLifecycle
import Synchronization

/// herald-signer as a `Service`: turns events into one signed job per subscribed endpoint, and
/// re-signs every retry and replay.
///
/// It consumes `herald.sign` (events) and `herald.resign` (jobs back from the delay tiers or
/// replayed), each with `prefetch` unacknowledged deliveries, and handles every delivery in its
/// own child task. The AMQP client pipelines publishes from concurrent tasks into batches
/// confirmed together, so throughput comes from many inputs in flight rather than one round
/// trip per event. An input is acknowledged only after everything published for it is confirmed.
///
/// ```swift
/// let signer = SignerService(configuration: config, directory: try SQLiteStore(path: path, readOnly: true))
/// let group = ServiceGroup(services: [signer], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// Shutdown: a graceful shutdown stops consuming, finishes what is in flight, then closes.
/// Cancelling the task that runs it closes the connection at once (unacknowledged inputs go back
/// to their queues: duplicates are possible, losses are not).
public final class SignerService: Service, Sendable {
    public let configuration: SignerConfiguration
    /// Totals of what this signer did (also exported as metrics).
    public let statistics = SignerStatistics()
    let logger: Logger
    let cache: EndpointCache
    private let connection = Mutex<AMQPConnection?>(nil)

    /// - Parameters:
    ///   - directory: where endpoints and accounts are read (the SQLite store, read-only).
    public init(
        configuration: SignerConfiguration, directory: any EndpointDirectory,
        logger: Logger = Logger(label: "herald.signer")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.cache = EndpointCache(directory: directory, timeToLive: configuration.endpointCacheTTL)
    }

    /// Whether the signer is connected to the broker and consuming (for `/readyz`).
    public var isReady: Bool { connection.withLock { $0?.isConnected ?? false } }

    public func run() async throws {
        var amqp = try AMQPConfiguration(url: configuration.amqpURL, connectionName: configuration.connectionName)
        amqp.reconnectInitialDelay = .milliseconds(200)
        let connection = try await AMQPConnection.connect(amqp, logger: logger)
        // close() must run once: a second call on a closed connection never resumes.
        let closing = StopFlag()
        try await withTaskCancellationHandler {
            try await serve(on: connection)
        } onCancel: {
            // Killed, not drained: close now; whatever was not acknowledged is redelivered.
            if closing.setIfUnset() { Task { await connection.close() } }
        }
        self.connection.withLock { $0 = nil }
        if closing.setIfUnset() { await connection.close() }
    }

    private func serve(on connection: AMQPConnection) async throws {
        try await connection.declare(HeraldTopology.all)
        // Our own notice queue: exclusive and auto-deleted, so it vanishes with this process;
        // the client declares it again after a reconnect.
        let controlQueue = "herald.control.signer.\(UUID().uuidString.prefix(12).lowercased())"
        try await connection.declare(
            AMQPTopology(
                queues: [.init(name: controlQueue, durable: false, exclusive: true, autoDelete: true)],
                bindings: [.init(exchange: HeraldNames.controlExchange, queue: controlQueue, routingKey: "")]))
        let prefetch = UInt16(clamping: configuration.prefetch)
        let control = try await connection.consume(queue: controlQueue, prefetch: 64, exclusive: true)
        let events = try await connection.consume(queue: HeraldNames.signQueue, prefetch: prefetch)
        let resigns = try await connection.consume(queue: HeraldNames.resignQueue, prefetch: prefetch)
        self.connection.withLock { $0 = connection }
        logger.info(
            "signer consuming",
            metadata: [
                "amqp.queue": "\(HeraldNames.signQueue),\(HeraldNames.resignQueue)", "signer.prefetch": "\(prefetch)",
            ])
        let stopping = StopFlag()
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.drain(events, queue: "sign", connection: connection) }
                group.addTask { try await self.drain(resigns, queue: "resign", connection: connection) }
                group.addTask { try await self.watchControl(control) }
                group.addTask { await self.watchConnection(connection, stopping: stopping) }
                // The input consumers end only on shutdown (or a broker-side cancel, which is an error).
                try await group.next()
                try await group.next()
                stopping.set()
                control.cancel()
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.logger.info("signer stopping: finishing in-flight inputs")
            events.cancel()
            resigns.cancel()
        }
    }

    /// Handles every delivery of one consumer in its own child task; returns when the consumer
    /// ends and every handler has settled its delivery.
    private func drain(_ consumer: AMQPConsumer, queue: String, connection: AMQPConnection) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for try await delivery in consumer {
                group.addTask {
                    let start = ContinuousClock.now
                    self.statistics.consumed(queue: queue, redelivered: delivery.redelivered)
                    if queue == "sign" {
                        await self.handleEvent(delivery, connection: connection)
                    } else {
                        await self.handleJob(delivery, connection: connection)
                    }
                    self.statistics.duration(queue: queue, since: start)
                }
            }
        }
    }

    /// Drops an account's cached endpoints on each control notice.
    private func watchControl(_ consumer: AMQPConsumer) async throws {
        for try await delivery in consumer {
            delivery.ack()
            do {
                let notice = try ControlNotice.wireDecoded(delivery.body)
                await cache.invalidate(account: notice.account)
                statistics.cacheInvalidated(scope: "account")
                logger.debug("endpoint cache dropped", metadata: ["account.id": "\(notice.account)"])
            } catch {
                logger.warning("ignoring an unreadable control notice", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Notices published while the connection was down are lost with the exclusive queue, so a
    /// signer that was disconnected forgets every cached endpoint: once when the drop is seen
    /// (nothing loaded during the outage is trusted) and again once it is back.
    private func watchConnection(_ connection: AMQPConnection, stopping: StopFlag) async {
        var wasDown = false
        while !stopping.isSet, !Task.isCancelled {
            let up = connection.isConnected
            if !up, !wasDown {
                wasDown = true
                await cache.invalidateAll()
                statistics.cacheInvalidated(scope: "all")
                logger.warning("broker connection lost: endpoint cache dropped")
            } else if up, wasDown {
                wasDown = false
                await cache.invalidateAll()
                statistics.cacheInvalidated(scope: "all")
                logger.info("broker connection back: endpoint cache dropped")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Publishes what one input produced, then settles it: ack once every message is confirmed;
    /// otherwise wait `failureBackoff` and hand it back.
    func publishThenAck(
        _ publications: [AMQPPublication], for delivery: AMQPDelivery,
        connection: AMQPConnection, metadata: Logger.Metadata
    ) async -> Bool {
        do {
            if !publications.isEmpty { try await connection.publish(publications) }
            delivery.ack()
            return true
        } catch {
            // Killed: the connection is gone and the broker hands the input to another signer.
            if Task.isCancelled { return false }
            logger.warning("publish failed: input handed back", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            statistics.requeued(reason: "publish")
            try? await Task.sleep(for: configuration.failureBackoff)
            delivery.nack(requeue: true)
            return false
        }
    }

    /// The store failed: wait, then hand the input back (not dead-lettered: it is not its fault).
    func storeUnavailable(_ delivery: AMQPDelivery, error: any Error, metadata: Logger.Metadata) async {
        logger.warning("store unavailable: input handed back", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        statistics.requeued(reason: "store")
        try? await Task.sleep(for: configuration.failureBackoff)
        delivery.nack(requeue: true)
    }

    /// Sends an input the signer cannot use to `herald.dead` as it came (bytes, message id and
    /// headers) with `letter` saying why, logs it once, and acks it.
    func deadLetter(_ delivery: AMQPDelivery, _ letter: DeadLetterCause, connection: AMQPConnection) async {
        let publication = QueueMessages.dead(
            input: delivery.body, properties: delivery.properties, letter,
            from: .signer, now: .now())
        var metadata: Logger.Metadata = ["reason": "\(letter.reason)", "error": "\(letter.error)"]
        if let id = letter.eventId { metadata["event.id"] = "\(id)" }
        if let id = letter.endpointId { metadata["endpoint.id"] = "\(id)" }
        if await publishThenAck([publication], for: delivery, connection: connection, metadata: metadata) {
            statistics.deadLettered(reason: letter.reason)
            logger.notice("dead-lettered", metadata: metadata)
        }
    }
}

/// A one-way flag shared between tasks (consumers done; connection closing).
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
    /// Sets the flag; true when this call was the one that set it.
    func setIfUnset() -> Bool { flag.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged }
}
