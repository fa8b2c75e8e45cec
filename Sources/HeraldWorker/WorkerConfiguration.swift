import Foundation
import HeraldDelivery
import HeraldService

/// Everything `herald-worker` reads from its environment, checked at startup.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `HERALD_AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672/` | the broker (vhost in the path) |
/// | `HERALD_OPS_PORT` | `9092` | `/healthz`, `/readyz`, `/metrics`; 0 picks a free port |
/// | `HERALD_OPS_HOST` | `127.0.0.1` | address the ops server binds |
/// | `HERALD_WORKER_CONCURRENCY` | `256` | prefetch on `herald.deliver` = most jobs in flight in this process (1…65535) |
/// | `HERALD_WORKER_PER_ENDPOINT` | `32` | most transfers in flight per endpoint in this process |
/// | `HERALD_WORKER_HOST_CONNECTIONS` | `128` | most connections to one host:port from this process (several endpoints may share a host); more transfers wait for a free one |
/// | `HERALD_WORKER_RATE_LIMIT` | `0` | default deliveries per second per endpoint across all workers, for endpoints without a `rateLimitPerSecond` of their own; 0 = unlimited |
/// | `HERALD_WORKER_PROCESSES` | `1` | how many worker processes share that rate limit (each takes limit / processes) |
/// | `HERALD_WORKER_BREAKER_THRESHOLD` | `5` | consecutive unhealthy attempts that open an endpoint's circuit |
/// | `HERALD_WORKER_BREAKER_COOLDOWN` | `30s` | wait before the first probe of an open circuit |
/// | `HERALD_SHUTDOWN_GRACE` | `30s` | on SIGTERM, how long in-flight transfers may finish before they are handed back |
/// | `HERALD_ALLOW_PRIVATE` | none | CIDRs the destination guard allows despite being private (`127.0.0.1/32`) |
/// | `HERALD_HTTPS_ONLY` | `false` | refuse `http://` receivers |
///
/// `HERALD_LOG_LEVEL` and `HERALD_LOG_FORMAT` are read by `Observability.bootstrap`.
public struct WorkerConfiguration: Sendable {
    public var amqpURL: String
    public var opsHost: String
    public var opsPort: Int
    public var concurrency: Int
    public var perEndpoint: Int
    /// Connections per host:port (`HTTPDeliveryClient.Configuration.maxConnectionsPerHost`).
    public var hostConnections: Int
    /// Requests per second per endpoint, for all workers together; nil = unlimited.
    public var rateLimitPerSecond: Int?
    public var processes: Int
    public var breaker: CircuitBreaker.Configuration
    public var shutdownGrace: Duration
    public var destinationGuard: DestinationGuard
    /// The AMQP connection name shown in the management UI.
    public var connectionName: String

    public init(
        amqpURL: String = "amqp://guest:guest@127.0.0.1:5672/", opsHost: String = "127.0.0.1", opsPort: Int = 9092,
        concurrency: Int = 256, perEndpoint: Int = 32, hostConnections: Int = 128, rateLimitPerSecond: Int? = nil,
        processes: Int = 1,
        breaker: CircuitBreaker.Configuration = CircuitBreaker.Configuration(), shutdownGrace: Duration = .seconds(30),
        destinationGuard: DestinationGuard = DestinationGuard(), connectionName: String = "herald-worker"
    ) {
        self.amqpURL = amqpURL
        self.opsHost = opsHost
        self.opsPort = opsPort
        self.concurrency = concurrency
        self.perEndpoint = perEndpoint
        self.hostConnections = hostConnections
        self.rateLimitPerSecond = rateLimitPerSecond
        self.processes = processes
        self.breaker = breaker
        self.shutdownGrace = shutdownGrace
        self.destinationGuard = destinationGuard
        self.connectionName = connectionName
    }

    /// Reads the keys above; a bad value throws naming its key.
    public init(environment: ServiceEnvironment) throws(ConfigurationError) {
        let guardConfig = DestinationGuard(
            allowed: try Self.ranges("HERALD_ALLOW_PRIVATE", in: environment),
            httpsOnly: try environment.bool("HERALD_HTTPS_ONLY", default: false))
        let rate = try environment.integer("HERALD_WORKER_RATE_LIMIT", default: 0, range: 0...1_000_000)
        self.init(
            amqpURL: environment.string("HERALD_AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/"),
            opsHost: environment.string("HERALD_OPS_HOST", default: "127.0.0.1"),
            opsPort: try environment.integer("HERALD_OPS_PORT", default: 9092, range: 0...65535),
            concurrency: try environment.integer("HERALD_WORKER_CONCURRENCY", default: 256, range: 1...65535),
            perEndpoint: try environment.integer("HERALD_WORKER_PER_ENDPOINT", default: 32, range: 1...65535),
            hostConnections: try environment.integer("HERALD_WORKER_HOST_CONNECTIONS", default: 128, range: 1...65535),
            rateLimitPerSecond: rate == 0 ? nil : rate,
            processes: try environment.integer("HERALD_WORKER_PROCESSES", default: 1, range: 1...10_000),
            breaker: CircuitBreaker.Configuration(
                failureThreshold: try environment.integer("HERALD_WORKER_BREAKER_THRESHOLD", default: 5, range: 1...1_000),
                coolDown: try environment.duration("HERALD_WORKER_BREAKER_COOLDOWN", default: .seconds(30))),
            shutdownGrace: try environment.duration("HERALD_SHUTDOWN_GRACE", default: .seconds(30)),
            destinationGuard: guardConfig)
    }

    /// A comma-separated list of addresses or CIDRs (`127.0.0.1/32, ::1/128`); empty items are
    /// skipped, unset means none.
    static func ranges(_ key: String, in environment: ServiceEnvironment) throws(ConfigurationError) -> [CIDR] {
        guard let list = environment.raw(key) else { return [] }
        var ranges: [CIDR] = []
        for item in list.split(separator: ",") {
            let trimmed = item.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            if trimmed.isEmpty { continue }
            guard let range = CIDR(trimmed) else {
                throw ConfigurationError(
                    key: key, problem: "'\(trimmed)' is not an address or CIDR (e.g. 127.0.0.1/32, ::1/128)")
            }
            ranges.append(range)
        }
        return ranges
    }
}
