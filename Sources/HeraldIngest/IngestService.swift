import HeraldService
import HeraldSigning
import HeraldStore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// herald-ingest assembled: the store, the broker link, the delivery log consumer and the HTTP
/// server, run together in one `ServiceGroup` with graceful shutdown on SIGTERM/SIGINT.
///
/// ```swift
/// let config = try IngestConfiguration(environment: ServiceEnvironment())
/// try await IngestService(configuration: config, logger: logger).run()
/// ```
/// Shutdown order: the HTTP server stops accepting and finishes in-flight requests (whose
/// publishes complete), then the consumer flushes its last batch, then the outbox relay makes a
/// last pass, then the broker link closes.
public struct IngestService: Sendable {
    public let configuration: IngestConfiguration
    public let store: SQLiteStore
    public let broker: BrokerLink
    /// Publishes the transactional outbox (announcements, events a request could not confirm).
    public let relay: OutboxRelay
    /// The profiles the API accepts: `ProfileRegistry.standard` outside tests.
    public let profiles: ProfileRegistry
    let logger: Logger

    /// Opens the store (creating and migrating it) and prepares the broker link.
    public init(configuration: IngestConfiguration, profiles: ProfileRegistry = .standard, logger: Logger) throws {
        self.configuration = configuration
        self.profiles = profiles
        self.logger = logger
        self.store = try SQLiteStore(path: configuration.databasePath)
        self.broker = try BrokerLink(url: configuration.amqpURL, publishTimeout: configuration.publishTimeout, logger: logger)
        self.relay = OutboxRelay(
            store: store, broker: broker, logger: logger,
            lease: configuration.publishTimeout * 2 + .seconds(5))
    }

    /// The HTTP application; `onServerRunning` receives the bound port (useful with port 0).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let api = IngestAPI(
            configuration: configuration, store: store, broker: broker, relay: relay, profiles: profiles,
            logger: logger)
        // RequestReadGuard answers a request that stops arriving for the read timeout with 408;
        // Hummingbird's idle timeout, a little longer, closes connections idle between requests
        // (and any the guard could not answer). A request being answered is never idle.
        let readTimeout = TimeAmount(configuration.readTimeout)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestReadGuard(readTimeout: readTimeout)], idleTimeout: readTimeout + .seconds(1))
        return Application(
            router: api.router(),
            server: .http1(configuration: http1),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "herald-ingest"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs until SIGTERM/SIGINT (or the surrounding task is cancelled).
    ///
    /// - Parameters:
    ///   - signals: what triggers graceful shutdown (tests pass none and cancel the task).
    ///   - onServerRunning: receives the bound HTTP port.
    public func run(
        signals: [UnixSignal] = [.sigterm, .sigint],
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let consumer = DeliveryLogConsumer(
            store: store, broker: broker, relay: relay,
            disableAfterSeconds: configuration.disableAfterSeconds, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: broker),
                    .init(service: relay),
                    .init(service: consumer),
                    .init(service: application(onServerRunning: onServerRunning)),
                ],
                gracefulShutdownSignals: signals,
                logger: logger))
        try await group.run()
    }
}
