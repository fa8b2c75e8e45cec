import HeraldService

/// herald-ingest's settings, read from the environment.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `HERALD_AMQP_URL` | `amqp://guest:guest@127.0.0.1:5672/` | broker |
/// | `HERALD_DATABASE_PATH` | `./herald.sqlite` | SQLite file (WAL; the signer opens it read-only) |
/// | `HERALD_INGEST_HOST` | `127.0.0.1` | address the API binds |
/// | `HERALD_INGEST_PORT` | `8080` | API port (0 picks a free one); `/healthz` `/readyz` `/metrics` are served there too |
/// | `HERALD_ADMIN_KEY` | none | bearer key for `POST /v1/accounts` and cross-account reads; admin routes answer 403 without it |
/// | `HERALD_MAX_BODY_BYTES` | `262144` | larger request bodies get 413 |
/// | `HERALD_PUBLISH_TIMEOUT` | `5s` | longest wait for the broker's confirm before answering 503 |
/// | `HERALD_INGEST_READ_TIMEOUT` | `10s` | a request that stops arriving for this long (half a head, a body that stops coming) is answered 408 and its connection closed; an idle keep-alive connection is closed a second later |
/// | `HERALD_IDEMPOTENCY_WINDOW` | `24h` | how long an event id or `Idempotency-Key` is remembered |
/// | `HERALD_ENDPOINT_DISABLE_AFTER` | `5d` | an endpoint failing this long is disabled |
/// | `HERALD_ROTATION_GRACE` | `24h` | default grace period of `rotate-secret` |
/// | `HERALD_LOG_LEVEL`, `HERALD_LOG_FORMAT` | `info`, `text` | see `Observability` |
public struct IngestConfiguration: Sendable {
    public var amqpURL: String
    public var databasePath: String
    public var host: String
    public var port: Int
    public var adminKey: String?
    public var maxBodyBytes: Int
    public var publishTimeout: Duration
    public var idempotencyWindowSeconds: Int
    public var disableAfterSeconds: Int
    public var rotationGraceSeconds: Int
    /// How long a connection may send nothing while its request is read (or between requests).
    public var readTimeout: Duration

    /// The defaults in this signature are the ones `init(environment:)` uses for unset keys.
    public init(
        amqpURL: String = ServiceDefaults.amqpURL, databasePath: String = ServiceDefaults.databasePath,
        host: String = ServiceDefaults.host, port: Int = 8080, adminKey: String? = nil, maxBodyBytes: Int = 262_144,
        publishTimeout: Duration = .seconds(5), idempotencyWindowSeconds: Int = 86_400,
        disableAfterSeconds: Int = 5 * 86_400, rotationGraceSeconds: Int = 86_400,
        readTimeout: Duration = .seconds(10)
    ) {
        self.amqpURL = amqpURL
        self.databasePath = databasePath
        self.host = host
        self.port = port
        self.adminKey = adminKey
        self.maxBodyBytes = maxBodyBytes
        self.publishTimeout = publishTimeout
        self.idempotencyWindowSeconds = idempotencyWindowSeconds
        self.disableAfterSeconds = disableAfterSeconds
        self.rotationGraceSeconds = rotationGraceSeconds
        self.readTimeout = readTimeout
    }

    /// Reads every key above; a bad value throws `ConfigurationError` naming the key.
    public init(environment env: ServiceEnvironment) throws(ConfigurationError) {
        func seconds(_ d: Duration) -> Int { Int(d.components.seconds) }
        let d = IngestConfiguration()
        self.init(
            amqpURL: env.string("HERALD_AMQP_URL", default: d.amqpURL),
            databasePath: env.string("HERALD_DATABASE_PATH", default: d.databasePath),
            host: env.string("HERALD_INGEST_HOST", default: d.host),
            port: try env.integer("HERALD_INGEST_PORT", default: d.port, range: 0...65_535),
            adminKey: env.raw("HERALD_ADMIN_KEY"),
            maxBodyBytes: try env.integer("HERALD_MAX_BODY_BYTES", default: d.maxBodyBytes, range: 1_024...(64 << 20)),
            publishTimeout: try env.duration("HERALD_PUBLISH_TIMEOUT", default: d.publishTimeout),
            idempotencyWindowSeconds: seconds(
                try env.duration("HERALD_IDEMPOTENCY_WINDOW", default: .seconds(d.idempotencyWindowSeconds))),
            disableAfterSeconds: seconds(
                try env.duration("HERALD_ENDPOINT_DISABLE_AFTER", default: .seconds(d.disableAfterSeconds))),
            rotationGraceSeconds: seconds(try env.duration("HERALD_ROTATION_GRACE", default: .seconds(d.rotationGraceSeconds))),
            readTimeout: try env.duration("HERALD_INGEST_READ_TIMEOUT", default: d.readTimeout))
        if readTimeout <= .zero {
            throw ConfigurationError(key: "HERALD_INGEST_READ_TIMEOUT", problem: "must be more than 0 s")
        }
        if let key = adminKey, key.count < 16 {
            throw ConfigurationError(key: "HERALD_ADMIN_KEY", problem: "must be at least 16 characters")
        }
    }
}
