import AMQP
import HeraldCore
import HeraldMessages
import HeraldSigning
import HeraldStore
import Hummingbird

extension IngestAPI {
    static let endpointFields: Set<String> = [
        "url", "description", "profile", "eventTypes", "recipients", "policy", "rateLimitPerSecond", "metadata", "secret",
        "enabled",
    ]

    /// `POST /v1/endpoints`: creates an endpoint; a generated secret is in the answer, once.
    func createEndpoint(_ request: Request) async throws -> Response {
        let caller = try await authenticate(request)
        let body = try await jsonObjectBody(request)
        let r = FieldReader(body)
        try r.allowOnly(Self.endpointFields.union(["id", "account"]))
        let account = try await actingAccount(
            caller,
            named: try r.optionalString("account", maxLength: 128)
                ?? request.uri.queryParameters.get("account"))
        let id = try r.optionalString("id", maxLength: 128) ?? ("ep_" + String(Event.newID().dropFirst(4)))
        try Rules.identifier(id, field: "id")
        // The signer files deliveries to an event's callbackUrl under `callback:<account>`: an
        // endpoint by that name would collect another account's callback attempts.
        guard !id.hasPrefix("callback:") else {
            throw Problem.invalid(
                "id", rule: "not starting with 'callback:'",
                "endpoint ids starting with 'callback:' are reserved for callbackUrl deliveries")
        }
        let now = Timestamp.now()
        let url = try Rules.url(try r.string("url", maxLength: 2_048), field: "url")
        var record = EndpointRecord(
            endpoint: Endpoint(
                id: EndpointKey.key(account: account, id: id), account: account, url: url,
                profile: profiles.defaultName, secrets: []),
            createdAt: now, updatedAt: now)
        try apply(r, to: &record, creating: true)
        var revealed: String?
        if let given = try r.optionalString("secret", maxLength: 512) {
            record.endpoint.secrets = [
                EndpointSecret(value: try storedSecret(given, profile: record.endpoint.profile), createdAt: now)
            ]
        } else {
            let secret = try Signer.generateSecret(profile: record.endpoint.profile, profiles: profiles)
            record.endpoint.secrets = [EndpointSecret(value: secret.stored, createdAt: now)]
            revealed = secret.reveal
        }
        do {
            try await store.createEndpoint(record)
        } catch {
            guard error.kind == .conflict else { throw error }
            throw Problem.conflict("endpoint '\(id)' exists", field: "id")
        }
        await notifyChanged(record.endpoint)
        var out = endpointJSON(record)
        out.set("secret", revealed.map(JSONValue.string))
        return Self.json(.created, .object(out), headers: [.location: "/v1/endpoints/\(id)"])
    }

    /// `GET /v1/endpoints`: the account's endpoints by id, paginated (`cursor` = last id seen).
    func listEndpoints(_ request: Request) async throws -> Response {
        let caller = try await authenticate(request)
        let account = try await actingAccount(caller, named: request.uri.queryParameters.get("account"))
        let (limit, cursor) = try page(request)
        let records = try await store.endpointRecords(account: account, after: cursor, limit: limit)
        var out: JSONObject = ["data": .array(records.map { .object(endpointJSON($0)) })]
        out["nextCursor"] = records.count == limit ? .string(records.last!.id) : .null
        return Self.json(.ok, .object(out))
    }

    /// The acting account's endpoint `id` (ids are per account: another account's is simply
    /// not there). The admin names the account with `?account=`, or may leave it out when only
    /// one account uses the id.
    func ownedEndpoint(_ request: Request, id: String) async throws -> EndpointRecord {
        let caller = try await authenticate(request)
        let named = request.uri.queryParameters.get("account")
        if caller.isAdmin, named == nil {
            let found = try await store.endpointRecords(id: id, limit: 2)
            guard found.count < 2 else {
                throw Problem.invalid(
                    "account", rule: "required when several accounts use the endpoint id",
                    "several accounts have an endpoint '\(id)': name the account ('account')")
            }
            guard let record = found.first else { throw Problem.notFound("endpoint '\(id)'") }
            return record
        }
        let account = try await actingAccount(caller, named: named)
        guard let record = try await store.endpointRecord(account: account, id: id) else {
            throw Problem.notFound("endpoint '\(id)'")
        }
        return record
    }

    func getEndpoint(_ request: Request, id: String) async throws -> Response {
        let record = try await ownedEndpoint(request, id: id)
        return Self.json(.ok, .object(endpointJSON(record)))
    }

    /// `PATCH /v1/endpoints/{id}`: changes the given fields; `null` clears optional ones.
    func updateEndpoint(_ request: Request, id: String) async throws -> Response {
        var record = try await ownedEndpoint(request, id: id)
        let body = try await jsonObjectBody(request)
        let r = FieldReader(body)
        try r.allowOnly(Self.endpointFields.subtracting(["secret"]))
        if body.keys.contains("url") {
            record.endpoint.url = try Rules.url(try r.string("url", maxLength: 2_048), field: "url")
        }
        let oldProfile = record.endpoint.profile
        try apply(r, to: &record, creating: false)
        var revealed: String?
        if record.endpoint.profile != oldProfile {
            // Secrets have per-profile forms: a new profile needs a new secret.
            let secret = try Signer.generateSecret(profile: record.endpoint.profile, profiles: profiles)
            record.endpoint.secrets = [EndpointSecret(value: secret.stored, createdAt: .now())]
            revealed = secret.reveal
        }
        record.updatedAt = .now()
        try await store.updateEndpoint(record)
        await notifyChanged(record.endpoint)
        var out = endpointJSON(record)
        out.set("secret", revealed.map(JSONValue.string))
        return Self.json(.ok, .object(out))
    }

    func deleteEndpoint(_ request: Request, id: String) async throws -> Response {
        let record = try await ownedEndpoint(request, id: id)
        _ = try await store.deleteEndpoint(account: record.endpoint.account, id: record.id)
        await notifyChanged(record.endpoint)
        return Response(status: .noContent)
    }

    /// `POST /v1/endpoints/{id}/rotate-secret`: a new secret (given or generated, shown once);
    /// the old ones stay valid for `graceSeconds` (default `HERALD_ROTATION_GRACE`).
    func rotateSecret(_ request: Request, id: String) async throws -> Response {
        var record = try await ownedEndpoint(request, id: id)
        let body = try await jsonObjectBody(request, allowEmpty: true)
        let r = FieldReader(body)
        try r.allowOnly(["secret", "graceSeconds"])
        let grace = try r.optionalInt("graceSeconds", range: 0...(30 * 86_400)) ?? configuration.rotationGraceSeconds
        let now = Timestamp.now()
        var revealed: String?
        let stored: String
        if let given = try r.optionalString("secret", maxLength: 512) {
            stored = try storedSecret(given, profile: record.endpoint.profile)
        } else {
            let secret = try Signer.generateSecret(profile: record.endpoint.profile, profiles: profiles)
            stored = secret.stored
            revealed = secret.reveal
        }
        record.endpoint.rotate(to: stored, at: now, graceSeconds: grace)
        record.updatedAt = now
        try await store.updateEndpoint(record)
        await notifyChanged(record.endpoint)
        var out = endpointJSON(record)
        out.set("secret", revealed.map(JSONValue.string))
        out["previousSecretsExpireAt"] = .string(now.adding(seconds: Double(grace)).iso8601Milliseconds)
        return Self.json(.ok, .object(out))
    }

    func setEnabled(_ request: Request, id: String, enabled: Bool) async throws -> Response {
        var record = try await ownedEndpoint(request, id: id)
        let body = try await jsonObjectBody(request, allowEmpty: true)
        let r = FieldReader(body)
        try r.allowOnly(enabled ? [] : ["reason"])
        let now = Timestamp.now()
        record.endpoint.state =
            enabled
            ? .enabled : .disabled(reason: try r.optionalString("reason", maxLength: 200) ?? "disabled by request", at: now)
        record.updatedAt = now
        try await store.updateEndpoint(record)
        await notifyChanged(record.endpoint)
        let fresh = try await store.endpointRecord(account: record.endpoint.account, id: record.id) ?? record
        return Self.json(.ok, .object(endpointJSON(fresh)))
    }

    /// `POST /v1/endpoints/{id}/test`: signs a test event for this endpoint alone and hands the
    /// job to the workers (ingest holds the secrets, so it can sign like the signer does).
    func testEndpoint(_ request: Request, id: String) async throws -> Response {
        let record = try await ownedEndpoint(request, id: id)
        let body = try await jsonObjectBody(request, allowEmpty: true)
        let r = FieldReader(body)
        try r.allowOnly(["type", "data"])
        let type = try r.optionalString("type", maxLength: 200) ?? "message.delivered"
        try Rules.eventType(type, field: "type")
        let now = Timestamp.now()
        var data: JSONObject =
            try r.optionalObject("data") ?? [
                "messageId": .string("test_" + String(Event.newID().dropFirst(4).prefix(12))), "status": "DELIVERED",
                "recipient": "+10000000000", "channel": "sms",
            ]
        if data["test"] == nil { data["test"] = true }
        let event = Event(type: type, account: record.endpoint.account, occurredAt: now, data: data)
        let job: DeliveryJob
        do {
            job = try Signer.sign(event, for: record.endpoint, now: now, profiles: profiles)
        } catch {
            if error.isEventNotSupported {
                throw Problem.invalid("type", rule: "an event the endpoint's profile delivers", error.description)
            }
            throw Problem(
                .conflict, "cannot-sign", "Cannot sign", detail: error.description, field: "secrets", rule: "valid secret")
        }
        do {
            try await broker.publish([QueueMessages.job(job, to: .deliver, from: .ingest)])
        } catch {
            throw Problem.unavailable(error.reason)
        }
        try await store.recordEvents([event], receivedAt: now)
        return Self.json(.accepted, ["id": .string(event.id), "endpointId": .string(record.id), "type": .string(type)])
    }

    // MARK: helpers

    /// Applies the optional fields shared by create and update.
    func apply(_ r: FieldReader, to record: inout EndpointRecord, creating: Bool) throws(Problem) {
        let body = r.object
        if body.keys.contains("description") { record.description = try r.optionalString("description", maxLength: 1_024) }
        if let profile = try r.optionalString("profile", maxLength: 32) {
            guard profiles.contains(profile) else {
                throw Problem.invalid("profile", rule: "one of \(profiles.listing)", "unknown profile '\(profile)'")
            }
            record.endpoint.profile = profile
        }
        if body.keys.contains("eventTypes") {
            let types = try r.optionalStrings("eventTypes") ?? []
            for (i, t) in types.enumerated() {
                let words = t.split(separator: ".", omittingEmptySubsequences: false)
                let ok = words.allSatisfy { w in
                    !w.isEmpty
                        && w.utf8.allSatisfy {
                            ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 42 || $0 == 63
                        }
                }
                guard ok else {
                    throw Problem.invalid(
                        "eventTypes[\(i)]", rule: "pattern [a-z0-9_*?]+(\\.[a-z0-9_*?]+)*",
                        "'\(t)' is not an event type or glob (message.delivered, message.*)")
                }
            }
            record.endpoint.eventTypes = types
        }
        if body.keys.contains("recipients") {
            record.endpoint.recipients = try r.optionalStrings("recipients", maxCount: 1_000) ?? []
        }
        if body.keys.contains("rateLimitPerSecond") {
            record.endpoint.rateLimitPerSecond = try r.optionalInt("rateLimitPerSecond", range: 1...100_000)
        }
        if body.keys.contains("metadata") {
            var metadata: [String: String] = [:]
            for (k, v) in try r.optionalObject("metadata") ?? JSONObject() {
                guard let s = v.stringValue else { throw Problem.wrongType("metadata.\(k)", expected: "string", got: v) }
                metadata[k] = s
            }
            guard metadata.count <= 50 else {
                throw Problem.invalid("metadata", rule: "max 50 keys", "'metadata' has more than 50 keys")
            }
            record.metadata = metadata
        }
        if body.keys.contains("policy") {
            if let o = try r.optionalObject("policy") {
                record.endpoint.policy = nil
                record.endpoint.policy = try policy(o, base: Signer.policy(for: record.endpoint, profiles: profiles))
            } else {
                record.endpoint.policy = nil
            }
        }
        if let enabled = try r.optionalBool("enabled") {
            if enabled {
                record.endpoint.state = .enabled
            } else if record.endpoint.state.isEnabled {
                record.endpoint.state = .disabled(reason: "disabled by request", at: .now())
            }
        }
    }

    /// Policy overrides on top of the profile's default: `timeoutMs`, `connectTimeoutMs`,
    /// `delaysSeconds` (the retry schedule), `maxAttempts`, `retryOn`.
    func policy(_ o: JSONObject, base: RetryPolicy) throws(Problem) -> RetryPolicy {
        let r = FieldReader(o, path: "policy")
        try r.allowOnly(["timeoutMs", "connectTimeoutMs", "delaysSeconds", "maxAttempts", "retryOn"])
        var p = base
        if let t = try r.optionalInt("timeoutMs", range: 100...120_000) { p.timeoutMs = t }
        if let t = try r.optionalInt("connectTimeoutMs", range: 100...60_000) { p.connectTimeoutMs = t }
        p.connectTimeoutMs = min(p.connectTimeoutMs, p.timeoutMs)
        if let v = r.value("delaysSeconds") {
            guard let items = v.arrayValue else { throw Problem.wrongType("policy.delaysSeconds", expected: "array", got: v) }
            guard items.count <= 50 else {
                throw Problem.invalid("policy.delaysSeconds", rule: "max 50 items", "at most 50 retries")
            }
            p.delaysSeconds = []
            for (i, item) in items.enumerated() {
                guard let n = item.intValue, (0...7 * 86_400).contains(n) else {
                    throw Problem.invalid(
                        "policy.delaysSeconds[\(i)]", rule: "integer 0...604800",
                        "each delay is a whole number of seconds up to 7 days")
                }
                p.delaysSeconds.append(n)
            }
        }
        if let max = try r.optionalInt("maxAttempts", range: 1...51) {
            if max - 1 <= p.delaysSeconds.count {
                p.delaysSeconds = Array(p.delaysSeconds.prefix(max - 1))
            } else {
                let last = p.delaysSeconds.last ?? 60
                p.delaysSeconds += Array(repeating: last, count: max - 1 - p.delaysSeconds.count)
            }
        }
        if let names = try r.optionalStrings("retryOn", maxCount: 10) {
            var set = Set<RetryCondition>()
            for (i, n) in names.enumerated() {
                guard let c = RetryCondition(rawValue: n) else {
                    throw Problem.invalid(
                        "policy.retryOn[\(i)]",
                        rule: "one of \(RetryCondition.allCases.map(\.rawValue).joined(separator: ", "))",
                        "unknown retry condition '\(n)'")
                }
                set.insert(c)
            }
            p.retryOn = set
        }
        return p
    }

    /// A client-given secret in the profile's stored form (`WebhookProfile.storedSecret(given:)`).
    func storedSecret(_ given: String, profile: String) throws(Problem) -> String {
        guard !given.isEmpty else { throw Problem.invalid("secret", rule: "non-empty", "'secret' must not be empty") }
        do {
            return try profiles.profile(named: profile).storedSecret(given: given)
        } catch {
            throw Problem.invalid("secret", rule: "the \(profile) profile's secret form", error.description)
        }
    }

    /// Tells signers to drop their cached copy. Best effort: a signer that misses it still
    /// expires its cache, and the endpoint change itself is already stored.
    func notifyChanged(_ endpoint: Endpoint) async {
        let notice = ControlNotice(notice: .endpointChanged, account: endpoint.account, endpointId: endpoint.id)
        do {
            try await broker.publish([QueueMessages.control(notice, from: .ingest)])
        } catch {
            logger.warning("control notice not published", metadata: ["endpoint.id": "\(endpoint.id)", "error": "\(error)"])
        }
    }

    /// The API form of an endpoint: never its secrets, only how many are valid.
    func endpointJSON(_ record: EndpointRecord) -> JSONObject {
        let e = record.endpoint
        let now = Timestamp.now()
        var o: JSONObject = ["id": .string(record.id), "account": .string(e.account), "url": .string(e.url)]
        o["description"] = record.description.map(JSONValue.string) ?? .null
        o["profile"] = .string(e.profile)
        o["eventTypes"] = .array(e.eventTypes.map(JSONValue.string))
        o["recipients"] = .array(e.recipients.map(JSONValue.string))
        let effective = Signer.policy(for: e, profiles: profiles)
        var policy = effective.jsonObject
        policy["maxAttempts"] = .number(Double(effective.maxAttempts))
        o["policy"] = .object(policy)
        o["policyOverridden"] = .bool(e.policy != nil)
        o["rateLimitPerSecond"] = e.rateLimitPerSecond.map { .number(Double($0)) } ?? .null
        o["metadata"] = .object(JSONObject(record.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        switch e.state {
        case .enabled:
            o["enabled"] = true
            o["disabledReason"] = .null
            o["disabledAt"] = .null
        case .disabled(let reason, let at):
            o["enabled"] = false
            o["disabledReason"] = .string(reason)
            o["disabledAt"] = .string(at.iso8601Milliseconds)
        }
        o["activeSecrets"] = .number(Double(e.activeSecrets(at: now).count))
        o["createdAt"] = .string(record.createdAt.iso8601Milliseconds)
        o["updatedAt"] = .string(record.updatedAt.iso8601Milliseconds)
        let h = record.health
        o["health"] = [
            "consecutiveFailures": .number(Double(h.consecutiveFailures)),
            "failingSince": h.failingSince.map { .string($0.iso8601Milliseconds) } ?? .null,
            "lastAttemptAt": h.lastAttemptAt.map { .string($0.iso8601Milliseconds) } ?? .null,
            "lastStatusCode": h.lastStatusCode.map { .number(Double($0)) } ?? .null,
        ]
        return o
    }
}
