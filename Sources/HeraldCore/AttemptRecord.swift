/// How one delivery attempt ended.
public enum AttemptOutcome: String, Sendable, Hashable, CaseIterable {
    /// 2xx: delivered.
    case delivered
    /// Failed, and another attempt is scheduled.
    case retrying
    /// Failed permanently or out of attempts: dead-lettered.
    case dead
    /// Not attempted: the endpoint was disabled or deleted when the job came up.
    case dropped
}

/// One delivery attempt, for the delivery log (queue `herald.attempts`); queryable per event and
/// per endpoint.
///
/// Wire form, version 1:
/// ```json
/// {"kind":"herald.attempt","v":1,"eventId":"evt_1","endpointId":"ep_1","attempt":2,
///  "at":"…","outcome":"retrying","statusCode":503,"latencyMs":118,"error":null,
///  "responseSnippet":"Service Unavailable","url":"https://example.com/hook","nextAttemptAt":"…",
///  "account":"acme","eventType":"message.failed"}
/// ```
/// `account` and `eventType` are optional (records from before they existed lack them): they let
/// the delivery log find the endpoint within its account and recognise operational events.
public struct AttemptRecord: Sendable, Hashable {
    public var eventId: String
    public var endpointId: String
    /// The event's (and endpoint's) account.
    public var account: String?
    /// The event's type, so that the failure of an operational event never announces another.
    public var eventType: String?
    public var attempt: Int
    /// When the attempt started.
    public var at: Timestamp
    public var outcome: AttemptOutcome
    /// The HTTP status, when a response came back.
    public var statusCode: Int?
    public var latencyMs: Int
    /// Transport error (timeout, DNS, TLS…) or why the attempt was not made.
    public var error: String?
    /// The first bytes of the response body (at most `maxSnippetBytes`), for operators.
    public var responseSnippet: String?
    public var url: String
    public var nextAttemptAt: Timestamp?

    /// The longest response snippet kept: the first 1 KB of the body, cut on a character boundary.
    public static let maxSnippetBytes = 1024

    public init(
        eventId: String, endpointId: String, attempt: Int, at: Timestamp, outcome: AttemptOutcome,
        statusCode: Int? = nil, latencyMs: Int, error: String? = nil, responseSnippet: String? = nil, url: String,
        nextAttemptAt: Timestamp? = nil, account: String? = nil, eventType: String? = nil
    ) {
        self.eventId = eventId
        self.endpointId = endpointId
        self.account = account
        self.eventType = eventType
        self.attempt = attempt
        self.at = at
        self.outcome = outcome
        self.statusCode = statusCode
        self.latencyMs = latencyMs
        self.error = error
        self.responseSnippet = responseSnippet.map(AttemptRecord.truncate)
        self.url = url
        self.nextAttemptAt = nextAttemptAt
    }

    /// Cuts to `maxSnippetBytes` on a character boundary.
    static func truncate(_ s: String) -> String {
        guard s.utf8.count > maxSnippetBytes else { return s }
        var out = ""
        var used = 0
        for c in s {
            let n = c.utf8.count
            if used + n > maxSnippetBytes { break }
            out.append(c)
            used += n
        }
        return out
    }
}

extension AttemptRecord {
    public static let wireKind = "herald.attempt"
    public static let wireVersion = 1

    public var wireObject: JSONObject {
        var o: JSONObject = ["kind": .string(AttemptRecord.wireKind), "v": .number(1)]
        o["eventId"] = .string(eventId)
        o["endpointId"] = .string(endpointId)
        o["attempt"] = .number(Double(attempt))
        o["at"] = .string(at.iso8601Milliseconds)
        o["outcome"] = .string(outcome.rawValue)
        o.set("statusCode", statusCode.map { .number(Double($0)) })
        o["latencyMs"] = .number(Double(latencyMs))
        o.set("error", error.map(JSONValue.string))
        o.set("responseSnippet", responseSnippet.map(JSONValue.string))
        o["url"] = .string(url)
        o.set("nextAttemptAt", nextAttemptAt.map { .string($0.iso8601Milliseconds) })
        o.set("account", account.map(JSONValue.string))
        o.set("eventType", eventType.map(JSONValue.string))
        return o
    }

    public func wireEncoded() -> [UInt8] { JSONValue.object(wireObject).serialized() }

    public static func wireDecoded(_ bytes: some Collection<UInt8>) throws(WireError) -> AttemptRecord {
        let r = try WireReader.open(bytes, kind: wireKind, versions: 1...wireVersion)
        let rawOutcome = try r.string("outcome")
        guard let outcome = AttemptOutcome(rawValue: rawOutcome) else {
            throw .invalidValue(field: "outcome", reason: "unknown outcome '\(rawOutcome)'")
        }
        return AttemptRecord(
            eventId: try r.nonEmptyString("eventId"), endpointId: try r.nonEmptyString("endpointId"),
            attempt: try r.int("attempt"), at: try r.time("at"), outcome: outcome,
            statusCode: try r.optionalInt("statusCode"), latencyMs: try r.int("latencyMs"),
            error: try r.optionalString("error"), responseSnippet: try r.optionalString("responseSnippet"),
            url: try r.string("url"), nextAttemptAt: try r.optionalTime("nextAttemptAt"),
            account: try r.optionalString("account"), eventType: try r.optionalString("eventType"))
    }
}
