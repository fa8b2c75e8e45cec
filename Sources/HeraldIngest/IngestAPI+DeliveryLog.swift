import HeraldCore
import HeraldSigning
import HeraldStore
import Hummingbird

extension IngestAPI {
    /// `GET /v1/events/{id}`: the event and where it stands at each endpoint it goes to.
    func getEvent(_ request: Request, id: String) async throws -> Response {
        let caller = try await authenticate(request)
        let account = try await accountForRead(caller, request)
        guard let event = try await store.event(account: account, id: id) else { throw Problem.notFound("event '\(id)'") }
        let latest = try await store.latestAttempts(eventId: id, account: account)
        var byEndpoint: [String: AttemptRecord] = [:]
        for a in latest { byEndpoint[a.record.endpointId] = a.record }
        // Where it goes and has not reported an attempt yet is pending: its callbackUrl alone
        // (under the signer's pseudo endpoint id), or the enabled endpoints that match it.
        let callbackId = SQLiteStore.callbackEndpointId(account: account)
        var urls: [String: String] = [:]
        if let callbackUrl = event.callbackUrl {
            urls[callbackId] = callbackUrl
        } else {
            for t in try await store.endpoints(account: account)
            where t.state.isEnabled && Signer.delivers(event, to: t, profiles: profiles) {
                urls[t.id] = t.url
            }
        }
        var ids = Set(byEndpoint.keys)
        ids.formUnion(urls.keys)
        var deliveries: [JSONValue] = []
        // Sorted and shown by the id the account chose (`ids` are store keys).
        for endpointId in ids.sorted(by: { EndpointKey.id(ofKey: $0) < EndpointKey.id(ofKey: $1) }) {
            var d: JSONObject = ["endpointId": .string(EndpointKey.id(ofKey: endpointId))]
            d["callback"] = .bool(endpointId == callbackId)
            if let url = byEndpoint[endpointId]?.url ?? urls[endpointId] { d["url"] = .string(url) }
            if let a = byEndpoint[endpointId] {
                d["state"] = .string(a.outcome == .dropped ? "dropped" : a.outcome.rawValue)
                d["attempts"] = .number(Double(a.attempt))
                d["lastAttemptAt"] = .string(a.at.iso8601Milliseconds)
                d["lastStatusCode"] = a.statusCode.map { .number(Double($0)) } ?? .null
                d["nextAttemptAt"] = a.nextAttemptAt.map { .string($0.iso8601Milliseconds) } ?? .null
            } else {
                d["state"] = "pending"
                d["attempts"] = 0
                d["lastAttemptAt"] = .null
                d["lastStatusCode"] = .null
                d["nextAttemptAt"] = .null
            }
            deliveries.append(.object(d))
        }
        var out: JSONObject = ["id": .string(event.id), "type": .string(event.type), "account": .string(event.account)]
        out["occurredAt"] = .string(event.occurredAt.iso8601Milliseconds)
        out["data"] = .object(event.data)
        out["callbackUrl"] = event.callbackUrl.map(JSONValue.string) ?? .null
        out["deliveries"] = .array(deliveries)
        return Self.json(.ok, .object(out))
    }

    /// `GET /v1/events/{id}/attempts`: oldest first; `cursor` continues after the last one.
    func eventAttempts(_ request: Request, id: String) async throws -> Response {
        let caller = try await authenticate(request)
        let account = try await accountForRead(caller, request)
        let (limit, cursor) = try page(request)
        guard try await store.event(account: account, id: id) != nil else { throw Problem.notFound("event '\(id)'") }
        let rows = try await store.attempts(eventId: id, account: account, after: try cursorValue(cursor), limit: limit)
        return attemptsPage(rows, limit: limit)
    }

    /// `GET /v1/endpoints/{id}/attempts`: newest first; `cursor` continues with older ones.
    func endpointAttempts(_ request: Request, id: String) async throws -> Response {
        let record = try await ownedEndpoint(request, id: id)
        let (limit, cursor) = try page(request)
        let rows = try await store.attempts(endpointId: record.endpoint.id, before: try cursorValue(cursor), limit: limit)
        return attemptsPage(rows, limit: limit)
    }

    func accountForRead(_ caller: Caller, _ request: Request) async throws -> String {
        try await actingAccount(caller, named: request.uri.queryParameters.get("account"))
    }

    func cursorValue(_ cursor: String?) throws(Problem) -> Int64? {
        guard let cursor else { return nil }
        guard let n = Int64(cursor), n > 0 else {
            throw Problem.invalid("cursor", rule: "a cursor this server issued", "'cursor' is not a cursor this server issued")
        }
        return n
    }

    func attemptsPage(_ rows: [StoredAttempt], limit: Int) -> Response {
        let data: [JSONValue] = rows.map { row in
            let a = row.record
            return [
                "eventId": .string(a.eventId), "endpointId": .string(EndpointKey.id(ofKey: a.endpointId)),
                "attempt": .number(Double(a.attempt)),
                "at": .string(a.at.iso8601Milliseconds), "outcome": .string(a.outcome.rawValue),
                "statusCode": a.statusCode.map { .number(Double($0)) } ?? .null, "latencyMs": .number(Double(a.latencyMs)),
                "error": a.error.map(JSONValue.string) ?? .null,
                "responseSnippet": a.responseSnippet.map(JSONValue.string) ?? .null,
                "url": .string(a.url), "nextAttemptAt": a.nextAttemptAt.map { .string($0.iso8601Milliseconds) } ?? .null,
            ]
        }
        let next: JSONValue = rows.count == limit ? .string(String(rows.last!.cursor)) : .null
        return Self.json(.ok, ["data": .array(data), "nextCursor": next])
    }
}
