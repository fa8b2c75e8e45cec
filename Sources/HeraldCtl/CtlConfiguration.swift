import AMQP
import Foundation
import HeraldService
import Logging

/// heraldctl's settings, read from the environment.
///
/// Keys (defaults in parentheses):
/// - `HERALD_AMQP_URL` (`amqp://guest:guest@127.0.0.1:5672/`): the broker for `dlq`, `topology`, `stats`.
/// - `HERALD_INGEST_URL` (`http://127.0.0.1:8080`): herald-ingest, for `endpoints` and `events`.
/// - `HERALD_API_KEY`: Bearer token for `events send` (an account's API key).
/// - `HERALD_ADMIN_KEY`: Bearer token for `endpoints …` (admin routes); falls back to `HERALD_API_KEY`.
/// - `HERALD_LOG_LEVEL` (`error`): the AMQP client's log level on stderr (`info` shows connects).
/// - `HERALD_RABBIT_MANAGEMENT_URL`: e.g. `http://guest:guest@127.0.0.1:15672`; when set, `stats`
///   adds publish/deliver rates from the management API.
public struct CtlConfiguration: Sendable {
    public var amqpURL: String
    public var ingestURL: String
    public var apiKey: String?
    public var adminKey: String?
    public var managementURL: String?
    public var logLevel: Logger.Level

    public init(environment: ServiceEnvironment) {
        amqpURL = environment.string("HERALD_AMQP_URL", default: ServiceDefaults.amqpURL)
        ingestURL = environment.string("HERALD_INGEST_URL", default: "http://127.0.0.1:8080")
        apiKey = environment.raw("HERALD_API_KEY")
        adminKey = environment.raw("HERALD_ADMIN_KEY")
        managementURL = environment.raw("HERALD_RABBIT_MANAGEMENT_URL")
        logLevel = environment.raw("HERALD_LOG_LEVEL").flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .error
    }

    /// The logger handed to the AMQP client: quiet by default, since a command reports its own errors.
    public var amqpLogger: Logger {
        var logger = Logger(label: "heraldctl.amqp")
        logger.logLevel = logLevel
        return logger
    }

    /// Reads the process environment (and `HERALD_CONFIG_FILE`).
    public static func fromEnvironment() throws -> CtlConfiguration {
        CtlConfiguration(environment: try ServiceEnvironment())
    }

    /// Connects to the broker, turning "nothing listening" into one sentence naming the URL.
    public func connect(purpose: String) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: amqpURL, connectionName: "heraldctl \(purpose)")
        // An interactive tool should fail fast when nothing answers, unless the URL asks otherwise
        // (`?connection_timeout=` in ms, e.g. for a busy broker).
        if !amqpURL.contains("connection_timeout=") { configuration.connectTimeout = .seconds(3) }
        configuration.publishTimeout = .seconds(60)
        do {
            return try await AMQPConnection.connect(configuration, logger: amqpLogger)
        } catch let error as AMQPError {
            throw CtlError("cannot reach RabbitMQ at \(configuration) (HERALD_AMQP_URL): \(error.message)")
        }
    }
}
