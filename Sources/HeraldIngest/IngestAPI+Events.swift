import AMQP
import HTTPTypes
import HeraldCore
import HeraldMessages
import HeraldStore
import Hummingbird

extension IngestAPI {
    static let maxBatch = 1_000
    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// `POST /v1/events`: one event object, `{"events":[…]}` or a bare array of up to 1,000.
    ///
    /// The body is parsed and every event authorised before an `Idempotency-Key` is looked at:
    /// the key belongs to the account the request acts for, and with the admin key that account
    /// is named in the body.
    func postEvents(_ request: Request) async throws -> Response {
        let caller = try await authenticate(request)
        let key = try idempotencyKey(request)
        let queryAccount = request.uri.queryParameters.get("account")
        let body = try await jsonBody(request)
        let items: [JSONValue]
        let isBatch: Bool
        if let array = body.arrayValue {
            items = array
            isBatch = true
        } else if let object = body.objectValue, object.keys.contains("events") {
            let r = FieldReader(object)
            try r.allowOnly(["events"])
            guard let array = object["events"]?.arrayValue else {
                throw Problem.wrongType("events", expected: "array", got: object["events"] ?? .null)
            }
            items = array
            isBatch = true
        } else if body.objectValue != nil {
            items = [body]
            isBatch = false
        } else {
            throw Problem.wrongType("body", expected: "object or array", got: body)
        }
        guard !items.isEmpty else { throw Problem.invalid("events", rule: "min 1 item", "the batch is empty") }
        guard items.count <= Self.maxBatch else {
            throw Problem.invalid(
                "events", rule: "max \(Self.maxBatch) items",
                "a batch holds at most \(Self.maxBatch) events (got \(items.count))")
        }
        let now = Timestamp.now()
        var events: [Event] = []
        events.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let path = isBatch ? "events[\(i)]" : ""
            guard let object = item.objectValue else {
                throw Problem.wrongType(path.isEmpty ? "body" : path, expected: "object", got: item)
            }
            events.append(try await parseEvent(object, path: path, caller: caller, queryAccount: queryAccount, now: now))
        }
        let scope = try idempotencyScope(accounts: events.map(\.account), key: key)
        return try await idempotent(request, key: key, account: scope) {
            let ids = try await accept(events, now: now)
            let out: JSONValue = isBatch ? ["ids": .array(ids.map(JSONValue.string))] : ["id": .string(ids[0])]
            return (.accepted, out)
        }
    }

    /// `POST /v1/messages/{messageId}/status`: a status change, published as `message.<status>`.
    func postStatus(_ request: Request, messageId: String) async throws -> Response {
        let caller = try await authenticate(request)
        let key = try idempotencyKey(request)
        let queryAccount = request.uri.queryParameters.get("account")
        guard !messageId.isEmpty, messageId.utf8.count <= 256 else {
            throw Problem.invalid("messageId", rule: "1...256 bytes", "the message id in the path is empty or too long")
        }
        let body = try await jsonObjectBody(request)
        let r = FieldReader(body)
        try r.allowOnly(["status", "recipient", "channel", "occurredAt", "reason", "eventId", "data", "callbackUrl", "account"])
        let rawStatus = try r.string("status", maxLength: 64)
        guard let status = MessageStatus(rawValue: rawStatus) else {
            throw Problem.invalid("status", rule: "pattern [A-Za-z0-9_]{1,64}", "'\(rawStatus)' is not a status word")
        }
        let account = try await actingAccount(caller, named: try r.optionalString("account", maxLength: 128) ?? queryAccount)
        let eventId = try r.optionalString("eventId", maxLength: 128)
        if let eventId { try Rules.identifier(eventId, field: "eventId") }
        let callbackUrl = try r.optionalString("callbackUrl", maxLength: 2_048).map { u throws(Problem) in
            try Rules.url(u, field: "callbackUrl")
        }
        let now = Timestamp.now()
        let change = StatusChange(
            account: account, messageId: messageId, status: status, recipient: try r.string("recipient", maxLength: 256),
            channel: try r.optionalString("channel", maxLength: 32) ?? "sms", occurredAt: try r.optionalTime("occurredAt") ?? now,
            reason: try r.optionalString("reason", maxLength: 1_024), eventId: eventId,
            extra: try r.optionalObject("data") ?? JSONObject())
        var event = change.event()
        event.callbackUrl = callbackUrl
        return try await idempotent(request, key: key, account: key == nil ? nil : account) {
            let ids = try await accept([event], now: now)
            return (.accepted, ["id": .string(ids[0]), "type": .string(event.type)])
        }
    }

    func parseEvent(_ object: JSONObject, path: String, caller: Caller, queryAccount: String?, now: Timestamp) async throws
        -> Event
    {
        let r = FieldReader(object, path: path)
        try r.allowOnly(["id", "type", "occurredAt", "data", "callbackUrl", "account"])
        let type = try r.string("type", maxLength: 200)
        try Rules.eventType(type, field: r.name("type"))
        guard !OperationalEvent.isOperational(type) else {
            throw Problem.invalid(
                r.name("type"), rule: "not an operational event type",
                "'\(type)' is published by Herald itself; platforms cannot send it")
        }
        let id = try r.optionalString("id", maxLength: 128)
        if let id { try Rules.identifier(id, field: r.name("id")) }
        let callbackUrl = try r.optionalString("callbackUrl", maxLength: 2_048).map { u throws(Problem) in
            try Rules.url(u, field: r.name("callbackUrl"))
        }
        let account = try await actingAccount(
            caller, named: try r.optionalString("account", maxLength: 128) ?? queryAccount,
            field: r.name("account"))
        return Event(
            id: id ?? Event.newID(), type: type, account: account, occurredAt: try r.optionalTime("occurredAt") ?? now,
            data: try r.optionalObject("data") ?? JSONObject(), callbackUrl: callbackUrl)
    }

    /// Accepts the events whose ids are new within the window: claims the ids and writes their
    /// publications to the outbox in one transaction (so two requests with one id cannot both
    /// win), publishes them, and deletes the outbox rows once confirmed. Returns every event's
    /// id in request order (duplicates included: the original answer).
    ///
    /// If the broker surely never got them (down, blocked before sending), the claim is undone
    /// and the answer is 503 "nothing was accepted". If it may have got them (sent, but no
    /// confirm in time), the claim stays and the outbox relay publishes them again later: the
    /// answer is 503 saying so, and a retry with the same ids is answered as a duplicate.
    func accept(_ events: [Event], now: Timestamp) async throws -> [String] {
        let since = now.adding(seconds: -Double(configuration.idempotencyWindowSeconds))
        // The relay leaves a row alone while this request can still publish it itself.
        let hold = configuration.publishTimeout.components.seconds * 1_000 + 2_000
        let claimed = try await store.claimEvents(events, receivedAt: now, since: since, holdMilliseconds: hold) { event in
            StoredPublication.encode(QueueMessages.event(event, from: .ingest))
        }
        duplicates.increment(by: Int64(events.count - claimed.count))
        guard !claimed.isEmpty else { return events.map(\.id) }
        do {
            try await broker.publish(claimed.map { QueueMessages.event($0.event, from: .ingest) })
        } catch  where error.mayHaveBeenAccepted {
            relay.wake()
            throw Problem.unavailable(
                error.reason + "; the events may have been accepted: retrying with the same ids is safe (they are deduplicated)")
        } catch {
            do {
                try await store.releaseEvents(claimed)
            } catch {
                // The claim stands, so the relay publishes the events once the broker is back.
                relay.wake()
                throw Problem.unavailable(
                    "the message broker and the store both failed; the events may have been accepted: retrying with the same ids is safe (they are deduplicated)"
                )
            }
            throw Problem.unavailable(error.reason + "; nothing was accepted, retry later")
        }
        do {
            try await store.deleteOutboxMessages(ids: claimed.map(\.outboxId))
        } catch {
            // Published and confirmed: at worst the relay publishes them once more (receivers
            // deduplicate by id). The answer stays 202.
            logger.warning("confirmed events left in the outbox", metadata: ["error": "\(error)"])
        }
        accepted.increment(by: Int64(claimed.count))
        return events.map(\.id)
    }

    /// The `Idempotency-Key` header, checked; nil when the request has none.
    func idempotencyKey(_ request: Request) throws(Problem) -> String? {
        guard let key = request.headers[Self.idempotencyKeyHeader] else { return nil }
        guard !key.isEmpty, key.utf8.count <= 200, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw Problem.invalid(
                "Idempotency-Key", rule: "1...200 visible ASCII characters", "the Idempotency-Key header is invalid")
        }
        return key
    }

    /// The account an `Idempotency-Key` belongs to: the one account the request acts for, nil
    /// without a key. A keyed admin batch spanning several accounts is refused (422): whose key
    /// would it be? Send one keyed batch per account instead.
    func idempotencyScope(accounts: [String], key: String?) throws(Problem) -> String? {
        guard key != nil, let first = accounts.first else { return nil }
        guard accounts.allSatisfy({ $0 == first }) else {
            throw Problem.invalid(
                "Idempotency-Key", rule: "one account per keyed request",
                "an Idempotency-Key request acts for one account; this batch names several")
        }
        return first
    }

    /// Answers a repeated `Idempotency-Key` with the stored response; stores a new success.
    ///
    /// Call it only once the request is authenticated, authorised for `account` and validated:
    /// a replay must never answer what the request itself would be refused. The key is scoped
    /// by the acting account and the route, whoever (the account's key or the admin) sends it.
    func idempotent(
        _ request: Request, key: String?, account: String?,
        _ body: () async throws -> (HTTPResponse.Status, JSONValue)
    ) async throws -> Response {
        guard let key, let account else {
            let (status, value) = try await body()
            return Self.json(status, value)
        }
        // The key is scoped to the route too: the same key on another route is another request.
        let scopedKey = request.uri.path + " " + key
        let since = Timestamp.now().adding(seconds: -Double(configuration.idempotencyWindowSeconds))
        if let stored = try await store.idempotentResponse(account: account, key: scopedKey, since: since) {
            return Response(
                status: .init(code: stored.status),
                headers: [.contentType: "application/json", Self.replayedHeader: "true"],
                body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        }
        let (status, value) = try await body()
        let bytes = value.serialized()
        try await store.storeIdempotentResponse(
            account: account, key: scopedKey,
            response: StoredResponse(status: Int(status.code), body: bytes), now: .now())
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
