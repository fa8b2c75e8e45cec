import Foundation
import HeraldCore
import HeraldStore
import Testing

/// A fresh database file in its own temporary directory.
func temporaryDatabase() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-store-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent("herald.sqlite").path
}

let t0 = Timestamp(iso8601: "2026-06-20T05:51:00.000Z")!

func sampleEndpoint(_ id: String, account: String, url: String = "https://example.com/hook") -> EndpointRecord {
    EndpointRecord(
        endpoint: Endpoint(
            id: id, account: account, url: url, eventTypes: ["message.*"],
            secrets: [EndpointSecret(value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", createdAt: t0)]),
        description: "primary", metadata: ["team": "ops"], createdAt: t0, updatedAt: t0)
}

@Suite("SQLite store: accounts and API keys")
struct SQLiteStoreAccountTests {
    @Test("an account is found by its API key, which is stored only as its SHA-256")
    func apiKeyLookup() async throws {
        let path = temporaryDatabase()
        let store = try SQLiteStore(path: path)
        let key = APIKey.generate()
        try await store.createAccount(
            Account(id: "acct_1", name: "Acme", defaultProfile: "standard", defaultSecrets: []),
            apiKey: key, now: t0)
        let found = try await store.account(apiKey: key)
        #expect(found?.id == "acct_1")
        #expect(try await store.account(apiKey: key + "x") == nil)
        let raw =
            try Data(contentsOf: URL(fileURLWithPath: path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data())
        #expect(raw.range(of: Data(key.utf8)) == nil, "the plaintext key must not be in the database file")
        #expect(raw.range(of: Data(APIKey.hash(key).utf8)) != nil)
    }

    @Test("creating an account twice is a conflict; a second key works")
    func duplicateAccount() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let account = Account(
            id: "acct_2", name: "B", defaultProfile: "eksms",
            defaultSecrets: [EndpointSecret(value: "s3cret", createdAt: t0)])
        try await store.createAccount(account, apiKey: "k1", now: t0)
        await #expect(throws: StoreError.self) { try await store.createAccount(account, apiKey: "k2", now: t0) }
        try await store.addAPIKey("k2", account: "acct_2", now: t0)
        #expect(try await store.account(apiKey: "k2") == account)
        #expect(try await store.account(id: "acct_2") == account)
    }
}

@Suite("SQLite store: endpoints")
struct SQLiteStoreEndpointTests {
    @Test("endpoint ids are per account: the same id in two accounts is two endpoints, each reached only through its account")
    func perAccountIds() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        var a = sampleEndpoint(EndpointKey.key(account: "acct_a", id: "ep_same"), account: "acct_a")
        a.endpoint.url = "https://a.example/"
        var b = sampleEndpoint(EndpointKey.key(account: "acct_b", id: "ep_same"), account: "acct_b")
        b.endpoint.url = "https://b.example/"
        try await store.createEndpoint(a)
        try await store.createEndpoint(b)
        await #expect(throws: StoreError.self, "the same id twice in one account is a conflict") {
            try await store.createEndpoint(b)
        }
        // An endpoint from before per-account ids keeps its bare id, and still blocks its own id.
        try await store.createEndpoint(sampleEndpoint("ep_old", account: "acct_a"))
        await #expect(throws: StoreError.self) {
            try await store.createEndpoint(sampleEndpoint(EndpointKey.key(account: "acct_a", id: "ep_old"), account: "acct_a"))
        }
        try await store.createEndpoint(sampleEndpoint(EndpointKey.key(account: "acct_b", id: "ep_old"), account: "acct_b"))

        #expect(try await store.endpointRecord(account: "acct_a", id: "ep_same")?.endpoint.url == "https://a.example/")
        #expect(try await store.endpointRecord(account: "acct_b", id: "ep_same")?.endpoint.url == "https://b.example/")
        #expect(try await store.endpointRecord(account: "acct_c", id: "ep_same") == nil)
        #expect(try await store.endpointRecord(account: "acct_a", id: "ep_old")?.id == "ep_old")
        #expect(try await store.endpoint(account: "acct_b", id: a.endpoint.id) == nil, "a key of another account")
        #expect(try await store.endpoint(account: "acct_a", id: a.endpoint.id)?.url == "https://a.example/")
        #expect(try await store.endpointRecords(id: "ep_same", limit: 5).map(\.endpoint.account) == ["acct_a", "acct_b"])
        #expect(try await store.endpointRecords(account: "acct_a", after: nil, limit: 10).map(\.id) == ["ep_old", "ep_same"])
        #expect(try await store.endpointRecords(account: "acct_a", after: "ep_old", limit: 10).map(\.id) == ["ep_same"])

        #expect(try await store.deleteEndpoint(account: "acct_a", id: "ep_same"))
        #expect(try await store.endpointRecord(account: "acct_b", id: "ep_same") != nil)
        #expect(try await store.deleteEndpoint(account: "acct_b", id: "ep_old"))
        #expect(try await store.endpointRecord(account: "acct_a", id: "ep_old") != nil)
    }

    @Test("create, read, update, disable, rotate and delete round-trip through the directory")
    func lifecycle() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        var record = sampleEndpoint("ep_1", account: "acct_1")
        try await store.createEndpoint(record)
        await #expect(throws: StoreError.self) { try await store.createEndpoint(record) }
        #expect(try await store.endpoint(id: "ep_1") == record.endpoint)
        #expect(try await store.endpointRecord(account: "acct_1", id: "ep_1") == record)

        record.endpoint.url = "https://example.com/v2"
        record.endpoint.state = .disabled(reason: "admin", at: t0)
        record.endpoint.rotate(to: "whsec_bmV3c2VjcmV0bmV3c2VjcmV0bmV3c2VjcmV0", at: t0.adding(seconds: 60), graceSeconds: 3600)
        record.updatedAt = t0.adding(seconds: 60)
        try await store.updateEndpoint(record)
        let got = try await store.endpoint(id: "ep_1")
        #expect(got?.url == "https://example.com/v2")
        #expect(got?.state.isEnabled == false)
        #expect(got?.secrets.count == 2)
        #expect(got?.activeSecrets(at: t0.adding(seconds: 120)).count == 2)
        #expect(got?.activeSecrets(at: t0.adding(seconds: 3700)).count == 1)

        #expect(try await store.deleteEndpoint(account: "acct_1", id: "ep_1"))
        #expect(try await store.deleteEndpoint(account: "acct_1", id: "ep_1") == false)
        #expect(try await store.endpoint(id: "ep_1") == nil)
        var missing = record
        missing.endpoint.id = "ep_none"
        await #expect(throws: StoreError.self) { try await store.updateEndpoint(missing) }
    }

    @Test("an account sees only its own endpoints, paginated by id")
    func tenancyAndPaging() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        for i in 1...5 { try await store.createEndpoint(sampleEndpoint("ep_a\(i)", account: "A")) }
        try await store.createEndpoint(sampleEndpoint("ep_b1", account: "B"))
        #expect(try await store.endpoints(account: "A").map(\.id) == ["ep_a1", "ep_a2", "ep_a3", "ep_a4", "ep_a5"])
        #expect(try await store.endpoints(account: "B").map(\.id) == ["ep_b1"])
        let page1 = try await store.endpointRecords(account: "A", after: nil, limit: 2).map(\.endpoint.id)
        let page2 = try await store.endpointRecords(account: "A", after: "ep_a2", limit: 2).map(\.endpoint.id)
        #expect(page1 == ["ep_a1", "ep_a2"])
        #expect(page2 == ["ep_a3", "ep_a4"])
    }

    @Test("a read-only handle in another 'process' sees the writer's changes")
    func readOnlyHandle() async throws {
        let path = temporaryDatabase()
        let writer = try SQLiteStore(path: path)
        let reader = try SQLiteStore(path: path, readOnly: true)
        #expect(reader.isReadOnly)
        try await writer.createEndpoint(sampleEndpoint("ep_ro", account: "A"))
        #expect(try await reader.endpoint(id: "ep_ro")?.account == "A")
        await #expect(throws: StoreError.self) { try await reader.createEndpoint(sampleEndpoint("ep_x", account: "A")) }
        #expect(await reader.ping())
    }

    @Test("opening a read-only store on a missing file fails naming the path")
    func readOnlyMissing() {
        let path = temporaryDatabase() + ".missing"
        do {
            _ = try SQLiteStore(path: path, readOnly: true)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .database)
            #expect(error.message.contains(path), "got \(error.message)")
        }
    }
}

@Suite("SQLite store: events and idempotency")
struct SQLiteStoreEventTests {
    @Test("an event id is claimed once per account within the window, and again after it")
    func claimWindow() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let e1 = Event(id: "evt_1", type: "message.sent", account: "A", occurredAt: t0, data: ["messageId": "m1"])
        let e2 = Event(id: "evt_2", type: "message.sent", account: "A", occurredAt: t0, data: [:])
        func claim(_ events: [Event], at: Timestamp, since: Timestamp) async throws -> [String] {
            try await store.claimEvents(events, receivedAt: at, since: since, holdMilliseconds: 0) { Array($0.id.utf8) }
                .map(\.event.id)
        }
        #expect(try await claim([e1], at: t0, since: t0.adding(seconds: -60)) == ["evt_1"])
        #expect(
            try await claim([e1, e2, e2], at: t0, since: t0.adding(seconds: -60)) == ["evt_2"], "taken ids and repeats in a batch"
        )
        var inB = e1
        inB.account = "B"
        #expect(try await claim([inB], at: t0, since: t0.adding(seconds: -60)) == ["evt_1"], "ids are per account")
        #expect(
            try await claim([e1], at: t0.adding(seconds: 61), since: t0.adding(seconds: 1)) == ["evt_1"], "outside the window")
        #expect(try await store.event(account: "A", id: "evt_1") == e1)
        #expect(try await store.event(account: "C", id: "evt_1") == nil)
    }

    @Test("the outbox holds a claimed event's message until its hold passes, leases it, and forgets it when deleted or released")
    func outbox() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let e1 = Event(id: "evt_1", type: "message.sent", account: "A", occurredAt: t0, data: [:])
        let e2 = Event(id: "evt_2", type: "message.sent", account: "A", occurredAt: t0, data: [:])
        let claimed = try await store.claimEvents(
            [e1, e2], receivedAt: t0, since: t0.adding(seconds: -60),
            holdMilliseconds: 5_000
        ) { Array("msg-\($0.id)".utf8) }
        #expect(
            try await store.dueOutboxMessages(now: t0.adding(seconds: 4), limit: 10, leaseMilliseconds: 1_000).isEmpty,
            "held while the request publishes it itself")
        let due = try await store.dueOutboxMessages(now: t0.adding(seconds: 5), limit: 10, leaseMilliseconds: 30_000)
        #expect(due.map { String(decoding: $0.message, as: UTF8.self) } == ["msg-evt_1", "msg-evt_2"])
        #expect(
            try await store.dueOutboxMessages(now: t0.adding(seconds: 6), limit: 10, leaseMilliseconds: 1_000).isEmpty,
            "leased rows are not taken twice")
        try await store.deleteOutboxMessages(ids: [due[0].id])
        try await store.releaseEvents([claimed[1]])
        #expect(try await store.dueOutboxMessages(now: t0.adding(seconds: 60), limit: 10, leaseMilliseconds: 1_000).isEmpty)
        #expect(try await store.event(account: "A", id: "evt_2") == nil, "a released claim frees the id")
        #expect(try await store.event(account: "A", id: "evt_1") == e1)
    }

    @Test("an idempotent response is replayed within the window and pruned after")
    func idempotency() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        let response = StoredResponse(status: 202, body: Array(#"{"ids":["evt_1"]}"#.utf8))
        try await store.storeIdempotentResponse(account: "A", key: "k-1", response: response, now: t0)
        #expect(try await store.idempotentResponse(account: "A", key: "k-1", since: t0) == response)
        #expect(try await store.idempotentResponse(account: "B", key: "k-1", since: t0) == nil)
        #expect(try await store.pruneIdempotency(before: t0.adding(seconds: 1)) == 1)
        #expect(try await store.idempotentResponse(account: "A", key: "k-1", since: .init(millisecondsSinceEpoch: 0)) == nil)
    }
}

@Suite("SQLite store: delivery log and endpoint health")
struct SQLiteStoreAttemptTests {
    func attempt(
        _ n: Int, _ outcome: AttemptOutcome, status: Int?, at: Timestamp, endpoint: String = "ep_1",
        event: String = "evt_1"
    ) -> AttemptRecord {
        AttemptRecord(
            eventId: event, endpointId: endpoint, attempt: n, at: at, outcome: outcome, statusCode: status,
            latencyMs: 12, responseSnippet: "body", url: "https://example.com/hook",
            nextAttemptAt: outcome == .retrying ? at.adding(seconds: 30) : nil)
    }

    @Test("what a batch of attempts announces is in the outbox as soon as the batch is stored")
    func announcementsInTheSameTransaction() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        try await store.createEndpoint(sampleEndpoint("ep_1", account: "A"))
        _ = try await store.recordAttempts([attempt(1, .dead, status: 410, at: t0)], now: t0, disableAfterSeconds: 86_400) {
            outcome in
            outcome.disabled.map { Array("disabled \($0.id)".utf8) }
                + outcome.exhausted.map { Array("exhausted \($0.record.endpointId)".utf8) }
        }
        let due = try await store.dueOutboxMessages(now: t0, limit: 10, leaseMilliseconds: 1_000)
        #expect(Set(due.map { String(decoding: $0.message, as: UTF8.self) }) == ["disabled ep_1", "exhausted ep_1"])
    }

    @Test("attempts are recorded once, listed per event and per endpoint, and a success resets health")
    func recordAndList() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        try await store.createEndpoint(sampleEndpoint("ep_1", account: "A"))
        let a1 = attempt(1, .retrying, status: 503, at: t0)
        let a2 = attempt(2, .delivered, status: 200, at: t0.adding(seconds: 30))
        var outcome = try await store.recordAttempts(
            [a1, a1, a2], now: t0.adding(seconds: 31), disableAfterSeconds: 86_400, announce: { _ in [] })
        #expect(outcome.inserted == 2)
        #expect(outcome.disabled.isEmpty)
        outcome = try await store.recordAttempts(
            [a1], now: t0.adding(seconds: 31), disableAfterSeconds: 86_400, announce: { _ in [] })
        #expect(outcome.inserted == 0, "a redelivered record is not stored twice")

        let forEvent = try await store.attempts(eventId: "evt_1", account: "A", after: nil, limit: 10).map(\.record)
        #expect(forEvent == [a1, a2])
        #expect(try await store.attempts(eventId: "evt_1", account: "B", after: nil, limit: 10).isEmpty)
        let newestFirst = try await store.attempts(endpointId: "ep_1", before: nil, limit: 1)
        #expect(newestFirst.map(\.record) == [a2])
        let older = try await store.attempts(endpointId: "ep_1", before: newestFirst[0].cursor, limit: 10)
        #expect(older.map(\.record) == [a1])
        #expect(try await store.latestAttempts(eventId: "evt_1", account: "A").map(\.record) == [a2])
        let health = try await store.endpointRecord(account: "A", id: "ep_1")?.health
        #expect(health?.consecutiveFailures == 0)
        #expect(health?.failingSince == nil)
        #expect(health?.lastStatusCode == 200)
    }

    @Test("410 Gone disables the endpoint once and reports it")
    func goneDisables() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        try await store.createEndpoint(sampleEndpoint("ep_1", account: "A"))
        let outcome = try await store.recordAttempts(
            [attempt(1, .dead, status: 410, at: t0)], now: t0, disableAfterSeconds: 86_400, announce: { _ in [] })
        #expect(outcome.disabled.map(\.id) == ["ep_1"])
        #expect(outcome.exhausted.map(\.account) == ["A"])
        #expect(try await store.endpoint(id: "ep_1")?.state == .disabled(reason: "410 Gone", at: t0))
        let again = try await store.recordAttempts(
            [attempt(2, .dead, status: 410, at: t0.adding(seconds: 1))], now: t0,
            disableAfterSeconds: 86_400, announce: { _ in [] })
        #expect(again.disabled.isEmpty, "an endpoint already disabled is not announced again")
    }

    @Test("an endpoint failing for longer than the span is disabled; shorter runs are not")
    func sustainedFailure() async throws {
        let store = try SQLiteStore(path: temporaryDatabase())
        try await store.createEndpoint(sampleEndpoint("ep_1", account: "A"))
        let span = 5 * 86_400
        var outcome = try await store.recordAttempts(
            [attempt(1, .retrying, status: 500, at: t0)], now: t0, disableAfterSeconds: span, announce: { _ in [] })
        #expect(outcome.disabled.isEmpty)
        let later = t0.adding(seconds: Double(span - 10))
        outcome = try await store.recordAttempts(
            [attempt(2, .retrying, status: 500, at: later)], now: later, disableAfterSeconds: span, announce: { _ in [] })
        #expect(outcome.disabled.isEmpty)
        #expect(try await store.endpointRecord(account: "A", id: "ep_1")?.health.consecutiveFailures == 2)
        let past = t0.adding(seconds: Double(span + 1))
        outcome = try await store.recordAttempts(
            [attempt(3, .retrying, status: 500, at: past)], now: past, disableAfterSeconds: span, announce: { _ in [] })
        #expect(outcome.disabled.map(\.id) == ["ep_1"])
        #expect(outcome.exhausted.isEmpty)
    }
}
