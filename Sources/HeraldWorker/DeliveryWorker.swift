import AMQP
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldTopology
import Logging
import ServiceLifecycle

/// The delivery loop of `herald-worker`: consumes `herald.deliver`, POSTs each job, and publishes
/// what follows (attempt record, retry or dead letter) with confirms before acking.
///
/// Any number of workers (processes, or instances in one process) compete on the queue; the
/// broker spreads jobs among them and redelivers whatever a dead worker held.
///
/// ```swift
/// let worker = DeliveryWorker(configuration: try WorkerConfiguration(environment: ServiceEnvironment()), logger: logger)
/// try await worker.run()          // until graceful shutdown, or `worker.beginShutdown()`
/// ```
///
/// Shutdown (SIGTERM via `ServiceGroup`, or `beginShutdown()`): the consumer is cancelled, in-flight
/// transfers get `shutdownGrace` to finish (their results are published and acked as usual), the
/// rest are abandoned and nacked with requeue, and the connection closes.
public final class DeliveryWorker: Service, Sendable {
    public let configuration: WorkerConfiguration
    let logger: Logger
    let client: HTTPDeliveryClient
    let gate: EndpointGate
    let metrics = WorkerMetrics()
    private let state = RunState()

    public init(configuration: WorkerConfiguration, logger: Logger = Logger(label: "herald.worker")) {
        self.configuration = configuration
        self.logger = logger
        self.client = HTTPDeliveryClient(
            configuration: .init(
                destinationGuard: configuration.destinationGuard, maxConnectionsPerHost: configuration.hostConnections),
            logger: logger)
        self.gate = EndpointGate(
            perEndpoint: configuration.perEndpoint, breaker: configuration.breaker,
            defaultRate: configuration.rateLimitPerSecond, processes: configuration.processes)
    }

    /// What the worker declares at startup: its input and everything it publishes to, dead-letter
    /// targets first.
    public static let topology = HeraldTopology.dead
        .merging(HeraldTopology.attempts)
        .merging(HeraldTopology.resign)
        .merging(HeraldTopology.retry)
        .merging(HeraldTopology.deliveries)

    /// True once consuming, while the broker connection is up and before shutdown (for `/readyz`).
    public var isReady: Bool {
        state.withLock { $0.consumer != nil && !$0.shuttingDown && ($0.connection?.isConnected ?? false) }
    }

    /// Connects, declares, and delivers until shutdown.
    public func run() async throws {
        var amqp = try AMQPConfiguration(url: configuration.amqpURL, connectionName: configuration.connectionName)
        amqp.reconnectMaxDelay = .seconds(5)
        let connection = try await AMQPConnection.connect(amqp, logger: logger)
        do {
            try await connection.declare(Self.topology)
            let consumer = try await connection.consume(
                queue: HeraldNames.deliverQueue, prefetch: UInt16(configuration.concurrency))
            let stopNow = state.withLock { s in
                s.connection = connection
                s.consumer = consumer
                return s.shuttingDown
            }
            if stopNow { consumer.cancel() }
            logger.info(
                "consuming",
                metadata: [
                    "amqp.queue": .string(HeraldNames.deliverQueue),
                    "worker.concurrency": .stringConvertible(configuration.concurrency),
                    "worker.per_endpoint": .stringConvertible(configuration.perEndpoint),
                ])
            try await withGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { group in
                    for try await delivery in consumer {
                        group.addTask { await self.handle(delivery, connection: connection) }
                    }
                }
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } catch {
            logger.error("worker stopped", metadata: ["error": "\(error)"])
            await client.shutdown(gracePeriod: .zero)
            await connection.close()
            throw error
        }
        await client.shutdown(gracePeriod: configuration.shutdownGrace)
        await connection.close()
        logger.info("worker stopped")
    }

    /// Starts a graceful shutdown: stop consuming, let in-flight transfers finish within
    /// `shutdownGrace`, hand back the rest. `run()` returns when done. Safe to call more than once.
    public func beginShutdown() {
        let consumer: AMQPConsumer? = state.withLock { s in
            guard !s.shuttingDown else { return nil }
            s.shuttingDown = true
            return s.consumer
        }
        guard state.withLock({ $0.shutdownStarted == false }) else { return }
        state.withLock { $0.shutdownStarted = true }
        logger.info("shutting down", metadata: ["worker.grace": "\(configuration.shutdownGrace)"])
        consumer?.cancel()
        let client = self.client
        let grace = configuration.shutdownGrace
        Task { await client.shutdown(gracePeriod: grace) }
    }
}

/// The mutable part of a worker. `@unchecked Sendable`: `value` is only touched under `lock`.
private final class RunState: @unchecked Sendable {
    struct Value {
        var connection: AMQPConnection?
        var consumer: AMQPConsumer?
        var shuttingDown = false
        var shutdownStarted = false
    }
    private let lock = NSLock()
    private var value = Value()
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
