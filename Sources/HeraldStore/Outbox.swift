import HeraldCore

/// A message waiting in the transactional outbox: written in the same transaction as the
/// facts it announces (accepted events, disabled endpoints, exhausted deliveries), published
/// after the commit, and deleted once the broker confirmed it. The store keeps the bytes
/// opaque: herald-ingest encodes and decodes them.
public struct OutboxMessage: Sendable, Hashable {
    public var id: Int64
    public var message: [UInt8]

    public init(id: Int64, message: [UInt8]) {
        self.id = id
        self.message = message
    }
}

/// An event claimed by `claimEvents`: its id was not taken within the window, and its
/// publication waits in the outbox under `outboxId`.
public struct ClaimedEvent: Sendable, Hashable {
    public var event: Event
    public var outboxId: Int64

    public init(event: Event, outboxId: Int64) {
        self.event = event
        self.outboxId = outboxId
    }
}

/// The transactional outbox and the atomic event claim, on the store.
public protocol OutboxStore: Sendable {
    /// Claims the ids of `events` for their accounts in one transaction: an id is free if no
    /// event of the account has it, or only one received before `since` (outside the dedupe
    /// window). Each claimed event's publication (`message(event)`) is written to the outbox in
    /// the same transaction, available to the relay after `holdMilliseconds` (the request
    /// publishes it itself first). Two concurrent claims of one id: exactly one wins.
    func claimEvents(
        _ events: [Event], receivedAt: Timestamp, since: Timestamp, holdMilliseconds: Int64,
        message: @escaping @Sendable (Event) -> [UInt8]
    ) async throws(StoreError) -> [ClaimedEvent]
    /// Undoes a claim whose publication surely never reached the broker: deletes the events and
    /// their outbox rows, so the platform's retry is a new request.
    func releaseEvents(_ claimed: [ClaimedEvent]) async throws(StoreError)
    /// Outbox rows whose time has come, oldest first; each is pushed `leaseMilliseconds` into
    /// the future so that it is not taken again while it is being published.
    func dueOutboxMessages(now: Timestamp, limit: Int, leaseMilliseconds: Int64) async throws(StoreError) -> [OutboxMessage]
    /// Deletes outbox rows whose publication the broker confirmed.
    func deleteOutboxMessages(ids: [Int64]) async throws(StoreError)
}
