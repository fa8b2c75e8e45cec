import HeraldCore

/// Everything herald-ingest keeps: accounts and their API keys, endpoints (with description,
/// metadata and health), accepted events, idempotent responses and the delivery log.
///
/// `SQLiteStore` is the embedded implementation; a PostgreSQL store implements the same protocol
/// for multi-host deployments. The signer only needs the read side, `EndpointDirectory`.
public protocol IngestStore: EndpointDirectory, OutboxStore {
    // MARK: accounts and keys
    /// Creates an account with one API key (the plaintext is never stored, only its SHA-256).
    func createAccount(_ account: Account, apiKey: String, now: Timestamp) async throws(StoreError)
    /// Adds another API key to an existing account (key rotation for platforms).
    func addAPIKey(_ apiKey: String, account: String, now: Timestamp) async throws(StoreError)
    /// The account owning the API key, or nil.
    func account(apiKey: String) async throws(StoreError) -> Account?

    // MARK: endpoints
    // Endpoint ids are per account (`EndpointKey`): `id` below is the id the account chose,
    // `record.endpoint.id` the store key.
    /// Stores a new endpoint; `.conflict` if its account already has an endpoint with that id.
    func createEndpoint(_ record: EndpointRecord) async throws(StoreError)
    /// Replaces an endpoint (and bumps `updatedAt`); `.notFound` if it does not exist.
    func updateEndpoint(_ record: EndpointRecord) async throws(StoreError)
    /// Deletes the account's endpoint `id`; false if there was none.
    func deleteEndpoint(account: String, id: String) async throws(StoreError) -> Bool
    /// The account's endpoint `id` with its description, metadata and health.
    func endpointRecord(account: String, id: String) async throws(StoreError) -> EndpointRecord?
    /// Every account's endpoint with this id (for the admin key, which may not name the
    /// account), at most `limit`, ordered by account.
    func endpointRecords(id: String, limit: Int) async throws(StoreError) -> [EndpointRecord]
    /// An account's endpoints, ordered by id, `limit` after `after` (cursor pagination).
    func endpointRecords(account: String, after: String?, limit: Int) async throws(StoreError) -> [EndpointRecord]

    // MARK: events and idempotency
    /// Records events published outside `claimEvents` (an endpoint's test event); an existing
    /// id is overwritten.
    func recordEvents(_ events: [Event], receivedAt: Timestamp) async throws(StoreError)
    /// An accepted event of this account.
    func event(account: String, id: String) async throws(StoreError) -> Event?
    /// The response stored for an `Idempotency-Key` at or after `since`.
    func idempotentResponse(account: String, key: String, since: Timestamp) async throws(StoreError) -> StoredResponse?
    /// Stores the response to an `Idempotency-Key` request.
    func storeIdempotentResponse(account: String, key: String, response: StoredResponse, now: Timestamp) async throws(StoreError)
    /// Deletes events and idempotency keys older than `before`; returns how many rows went.
    func pruneIdempotency(before: Timestamp) async throws(StoreError) -> Int

    // MARK: delivery log
    /// Records attempts in one transaction (duplicates from redelivery are ignored), updates
    /// endpoint health, and disables endpoints that answered 410 Gone or have failed for
    /// `disableAfterSeconds`. What `announce` makes of the outcome (encoded messages) is written
    /// to the outbox in the same transaction. Returns the outcome.
    func recordAttempts(
        _ records: [AttemptRecord], now: Timestamp, disableAfterSeconds: Int,
        announce: @escaping @Sendable (AttemptBatchOutcome) -> [[UInt8]]
    ) async throws(StoreError) -> AttemptBatchOutcome
    /// Attempts for one event (all endpoints), oldest first, paginated by row cursor.
    func attempts(eventId: String, account: String, after: Int64?, limit: Int) async throws(StoreError) -> [StoredAttempt]
    /// Attempts for one endpoint, newest first, paginated by row cursor.
    func attempts(endpointId: String, before: Int64?, limit: Int) async throws(StoreError) -> [StoredAttempt]
    /// The latest attempt per endpoint for an event of this account.
    func latestAttempts(eventId: String, account: String) async throws(StoreError) -> [StoredAttempt]

    /// Whether the store answers (for `/readyz`).
    func ping() async -> Bool
}

/// An endpoint with what only the API shows: description, metadata, timestamps and health.
public struct EndpointRecord: Sendable, Hashable {
    public var endpoint: Endpoint
    public var description: String?
    /// Free-form string pairs for the account's own bookkeeping.
    public var metadata: [String: String]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var health: EndpointHealth

    /// The id the account chose (what the API shows); `endpoint.id` is the store key.
    public var id: String { EndpointKey.id(ofKey: endpoint.id) }

    public init(
        endpoint: Endpoint, description: String? = nil, metadata: [String: String] = [:],
        createdAt: Timestamp, updatedAt: Timestamp, health: EndpointHealth = EndpointHealth()
    ) {
        self.endpoint = endpoint
        self.description = description
        self.metadata = metadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.health = health
    }
}

/// Failure tracking for auto-disable.
public struct EndpointHealth: Sendable, Hashable {
    /// Failed attempts since the last success.
    public var consecutiveFailures: Int
    /// When the current run of failures began; nil while healthy.
    public var failingSince: Timestamp?
    public var lastAttemptAt: Timestamp?
    public var lastStatusCode: Int?

    public init(
        consecutiveFailures: Int = 0, failingSince: Timestamp? = nil, lastAttemptAt: Timestamp? = nil,
        lastStatusCode: Int? = nil
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.failingSince = failingSince
        self.lastAttemptAt = lastAttemptAt
        self.lastStatusCode = lastStatusCode
    }
}

/// A response kept for an `Idempotency-Key`, replayed byte for byte.
public struct StoredResponse: Sendable, Hashable {
    public var status: Int
    public var body: [UInt8]
    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// An attempt row: the record plus its cursor.
public struct StoredAttempt: Sendable, Hashable {
    /// Row id: the pagination cursor.
    public var cursor: Int64
    public var record: AttemptRecord
    public init(cursor: Int64, record: AttemptRecord) {
        self.cursor = cursor
        self.record = record
    }
}

/// What a batch of attempt records changed that must be announced as events.
public struct AttemptBatchOutcome: Sendable, Hashable {
    /// Endpoints this batch disabled (410 Gone or sustained failure), in their new state.
    public var disabled: [Endpoint]
    /// New `dead` attempts: each becomes an `attempt.exhausted` event for its account.
    public var exhausted: [ExhaustedAttempt]
    /// How many records were new (not redeliveries).
    public var inserted: Int

    public init(disabled: [Endpoint] = [], exhausted: [ExhaustedAttempt] = [], inserted: Int = 0) {
        self.disabled = disabled
        self.exhausted = exhausted
        self.inserted = inserted
    }
}

/// A delivery that ran out of attempts (or failed permanently), with the endpoint's account.
public struct ExhaustedAttempt: Sendable, Hashable {
    public var account: String
    public var record: AttemptRecord
    public init(account: String, record: AttemptRecord) {
        self.account = account
        self.record = record
    }
}

/// A store failure: a conflict, a missing row, or the database itself.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// A row with that key exists.
        case conflict
        /// No such row.
        case notFound
        /// The database failed (I/O, locked, corrupt, read-only).
        case database
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
