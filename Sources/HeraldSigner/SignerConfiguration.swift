import HeraldService

/// herald-signer's settings, read from the environment once at startup.
///
/// Keys (defaults in parentheses):
/// - `HERALD_AMQP_URL` (`amqp://guest:guest@127.0.0.1:5672/`): the broker.
/// - `HERALD_DATABASE_PATH` (`./herald.sqlite`): the endpoint store, opened read-only.
/// - `HERALD_OPS_HOST` (`127.0.0.1`; `0.0.0.0` in containers): address the ops server binds.
/// - `HERALD_OPS_PORT` (`9091`; `0` picks a free port): /healthz, /readyz, /metrics.
/// - `HERALD_SIGNER_PREFETCH` (`256`): unacknowledged deliveries per input queue; also how many
///   inputs are processed concurrently.
/// - `HERALD_SIGNER_STORE_BACKOFF` (`1s`): how long to wait before handing an input back when the
///   store (or the broker, for publishes) fails, so an outage is not a hot requeue loop.
/// - `HERALD_SIGNER_CACHE_TTL` (`30s`): the longest a signer uses an account's cached endpoints
///   before reading them again. Control notices drop them at once; this bounds how stale a
///   signer can be when a notice is missed (a secret, URL or enabled state changed meanwhile).
/// - `HERALD_LOG_LEVEL`, `HERALD_LOG_FORMAT`: see `Observability`.
public struct SignerConfiguration: Sendable, Hashable {
    public var amqpURL: String
    public var databasePath: String
    public var opsHost: String
    public var opsPort: Int
    public var prefetch: Int
    public var failureBackoff: Duration
    /// How long cached endpoints are trusted without a control notice.
    public var endpointCacheTTL: Duration
    /// The AMQP connection name shown in the management UI.
    public var connectionName: String

    /// The defaults in this signature are the ones `init(environment:)` uses for unset keys.
    public init(
        amqpURL: String = ServiceDefaults.amqpURL, databasePath: String = ServiceDefaults.databasePath,
        opsHost: String = ServiceDefaults.host, opsPort: Int = 9091, prefetch: Int = 256, failureBackoff: Duration = .seconds(1),
        endpointCacheTTL: Duration = .seconds(30), connectionName: String = "herald-signer"
    ) {
        self.amqpURL = amqpURL
        self.databasePath = databasePath
        self.opsHost = opsHost
        self.opsPort = opsPort
        self.prefetch = prefetch
        self.failureBackoff = failureBackoff
        self.endpointCacheTTL = endpointCacheTTL
        self.connectionName = connectionName
    }

    /// Reads the keys above; an invalid value throws naming its key.
    public init(environment: ServiceEnvironment) throws(ConfigurationError) {
        let d = SignerConfiguration()
        self.init(
            amqpURL: environment.string("HERALD_AMQP_URL", default: d.amqpURL),
            databasePath: environment.string("HERALD_DATABASE_PATH", default: d.databasePath),
            opsHost: environment.string("HERALD_OPS_HOST", default: d.opsHost),
            opsPort: try environment.integer("HERALD_OPS_PORT", default: d.opsPort, range: 0...65_535),
            prefetch: try environment.integer("HERALD_SIGNER_PREFETCH", default: d.prefetch, range: 1...65_535),
            failureBackoff: try environment.duration("HERALD_SIGNER_STORE_BACKOFF", default: d.failureBackoff),
            endpointCacheTTL: try environment.duration("HERALD_SIGNER_CACHE_TTL", default: d.endpointCacheTTL))
    }
}
