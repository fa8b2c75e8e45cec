import AMQP
import Foundation
import HeraldTopology
import Logging
import ServiceLifecycle
import Synchronization

/// herald-ingest's connection to RabbitMQ, kept as a `Service`: it connects (retrying while the
/// broker is down, so the API still starts and answers 503), declares what ingest publishes to,
/// and closes on shutdown.
///
/// Publishing never hangs a request: while the link is down or the broker has blocked publishers
/// (resource alarm) it fails at once; otherwise the publish waits at most the configured
/// publish timeout for the confirm.
public final class BrokerLink: Service, Sendable {
    /// Why a publish was not confirmed: the API answers 503 with `Retry-After`.
    public struct Unavailable: Error, CustomStringConvertible, Sendable {
        public let reason: String
        /// The message was sent and no confirm came: the broker may still deliver it.
        public var mayHaveBeenAccepted = false
        public var description: String { reason }
    }

    private let configuration: AMQPConfiguration
    private let logger: Logger
    private let connection = Mutex<AMQPConnection?>(nil)

    /// - Parameter url: `HERALD_AMQP_URL`; `publishTimeout` bounds every confirm wait.
    public init(url: String, publishTimeout: Duration, logger: Logger) throws {
        var configuration = try AMQPConfiguration(url: url, connectionName: "herald-ingest")
        configuration.publishTimeout = publishTimeout
        configuration.connectTimeout = .seconds(3)
        self.configuration = configuration
        self.logger = logger
    }

    /// Connected and not blocked by a resource alarm.
    public var isReady: Bool {
        guard let c = connection.withLock({ $0 }) else { return false }
        return c.isConnected && !c.isBlocked
    }

    /// Waits until the first connection is up (tests, and startup logs).
    public func waitUntilConnected(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isReady { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return isReady
    }

    public func run() async throws {
        var delay = Duration.milliseconds(200)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let c = try await AMQPConnection.connect(configuration, logger: logger)
                try await c.declare(HeraldTopology.events)
                try await c.declare(HeraldTopology.deliveries)  // endpoint tests publish signed jobs there
                try await c.declare(HeraldTopology.attempts)
                try await c.declare(HeraldTopology.control)
                try await c.declare(HeraldTopology.dead)  // unreadable attempt records go there
                connection.withLock { $0 = c }
                logger.info("connected to broker", metadata: ["amqp.url": "\(configuration)"])
                break
            } catch {
                logger.warning("broker not reachable; retrying", metadata: ["error": "\(error)"])
                try? await sleepUnlessShuttingDown(delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        // Stay up until shutdown; the AMQP client reconnects by itself from here on.
        try? await gracefulShutdown()
        let c = connection.withLock { c in
            defer { c = nil }; return c
        }
        await c?.close()
    }

    /// The live connection, for consumers (the delivery log); nil while down.
    public var current: AMQPConnection? { connection.withLock { $0 } }

    /// Publishes and waits for every confirm.
    ///
    /// - Throws: `Unavailable` when the broker is down, blocked, or did not confirm in time.
    public func publish(_ publications: [AMQPPublication]) async throws(Unavailable) {
        guard let c = connection.withLock({ $0 }), c.isConnected else {
            throw Unavailable(reason: "the message broker is unreachable")
        }
        guard !c.isBlocked else { throw Unavailable(reason: "the message broker is blocking publishers (resource alarm)") }
        do {
            try await c.publish(publications)
        } catch {
            logger.warning("publish not confirmed", metadata: ["error": "\(error)", "amqp.count": "\(publications.count)"])
            guard let error = error as? AMQPError else {
                throw Unavailable(reason: "the message broker did not confirm the publish")
            }
            switch error.kind {
            case .blocked: throw Unavailable(reason: "the message broker is blocking publishers (resource alarm)")
            case .unconfirmed:
                throw Unavailable(reason: "the message broker did not confirm the publish", mayHaveBeenAccepted: true)
            default: throw Unavailable(reason: "the message broker did not confirm the publish (\(error.label))")
            }
        }
    }
}

/// Sleeps `timeout`, returning early on graceful shutdown.
func sleepUnlessShuttingDown(_ timeout: Duration) async throws {
    try await cancelWhenGracefulShutdown {
        try await Task.sleep(for: timeout)
    }
}
