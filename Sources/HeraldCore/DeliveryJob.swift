/// One HTTP header, in the order it is sent.
public struct HTTPHeader: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name): \(value)" }
}

extension Array where Element == HTTPHeader {
    /// The first value of the header `name`, compared case-insensitively.
    public subscript(header name: String) -> String? {
        let lower = name.lowercased()
        return first { $0.name.lowercased() == lower }?.value
    }
}

/// A signed request ready to POST: the output of the signer, the input of a worker.
///
/// It carries the event itself so a retry can be re-rendered and re-signed (fresh timestamp,
/// rotated secrets, new URL) by the signer, and a snapshot of the policy so the worker needs no
/// store. It carries no secret.
///
/// Wire form (queue `herald.deliver`; also `herald.retry.*`, `herald.resign`, `herald.dead`),
/// version 1:
/// ```json
/// {"kind":"herald.delivery","v":1,"endpointId":"ep_1","url":"https://example.com/hook",
///  "profile":"standard","attempt":1,"firstAttemptAt":"…","signedAt":"…","notBefore":null,
///  "policy":{…RetryPolicy…},"rateLimitPerSecond":10,"headers":[["webhook-id","evt_1"],…],"body":"{\"type\":…}",
///  "event":{…Event wire form…}}
/// ```
/// `body` is the exact UTF-8 text to send (rendered bodies are always JSON text, so a JSON
/// string reproduces the bytes exactly).
public struct DeliveryJob: Sendable, Hashable {
    public var endpointId: String
    /// Where to POST (the endpoint's URL at signing time, or the event's `callbackUrl`).
    public var url: String
    public var profile: String
    /// 1 for the first attempt; retries count up.
    public var attempt: Int
    public var firstAttemptAt: Timestamp
    /// When the signer signed this attempt.
    public var signedAt: Timestamp
    /// Do not deliver before this time (a retry longer than the longest delay tier is parked again).
    public var notBefore: Timestamp?
    public var policy: RetryPolicy
    /// The endpoint's rate limit (requests per second, all workers together) when it has one;
    /// the workers enforce it, so it travels with the job.
    public var rateLimitPerSecond: Int?
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    public var event: Event

    public init(
        endpointId: String, url: String, profile: String, attempt: Int, firstAttemptAt: Timestamp,
        signedAt: Timestamp, notBefore: Timestamp? = nil, policy: RetryPolicy, rateLimitPerSecond: Int? = nil,
        headers: [HTTPHeader], body: [UInt8], event: Event
    ) {
        self.endpointId = endpointId
        self.url = url
        self.profile = profile
        self.attempt = attempt
        self.firstAttemptAt = firstAttemptAt
        self.signedAt = signedAt
        self.notBefore = notBefore
        self.policy = policy
        self.rateLimitPerSecond = rateLimitPerSecond
        self.headers = headers
        self.body = body
        self.event = event
    }

    /// Whether the policy allows another attempt after this one.
    public var hasRetriesLeft: Bool { attempt < policy.maxAttempts }

    /// The delay before the next attempt, per the policy; `nil` when none is left.
    public var nextDelaySeconds: Int? {
        hasRetriesLeft ? policy.delaysSeconds[attempt - 1] : nil
    }
}

extension DeliveryJob {
    public static let wireKind = "herald.delivery"
    public static let wireVersion = 1

    public var wireObject: JSONObject {
        var o: JSONObject = ["kind": .string(DeliveryJob.wireKind), "v": .number(1)]
        o["endpointId"] = .string(endpointId)
        o["url"] = .string(url)
        o["profile"] = .string(profile)
        o["attempt"] = .number(Double(attempt))
        o["firstAttemptAt"] = .string(firstAttemptAt.iso8601Milliseconds)
        o["signedAt"] = .string(signedAt.iso8601Milliseconds)
        o.set("notBefore", notBefore.map { .string($0.iso8601Milliseconds) })
        o["policy"] = .object(policy.jsonObject)
        o.set("rateLimitPerSecond", rateLimitPerSecond.map { .number(Double($0)) })
        o["headers"] = .array(headers.map { [.string($0.name), .string($0.value)] })
        o["body"] = .string(String(decoding: body, as: UTF8.self))
        o["event"] = .object(event.wireObject)
        return o
    }

    public func wireEncoded() -> [UInt8] { JSONValue.object(wireObject).serialized() }

    /// Reads a delivery job; a bad message is a `WireError` (dead-lettered with its description).
    public static func wireDecoded(_ bytes: some Collection<UInt8>) throws(WireError) -> DeliveryJob {
        let r = try WireReader.open(bytes, kind: wireKind, versions: 1...wireVersion)
        var headers: [HTTPHeader] = []
        for (i, h) in (try r.array("headers") ?? []).enumerated() {
            guard let pair = h.arrayValue, pair.count == 2, let n = pair[0].stringValue, let v = pair[1].stringValue else {
                throw .invalidValue(field: "headers[\(i)]", reason: "must be a [name, value] pair of strings")
            }
            headers.append(HTTPHeader(n, v))
        }
        let attempt = try r.int("attempt")
        guard attempt >= 1 else { throw .invalidValue(field: "attempt", reason: "must be ≥ 1") }
        return DeliveryJob(
            endpointId: try r.nonEmptyString("endpointId"), url: try r.nonEmptyString("url"),
            profile: try r.nonEmptyString("profile"), attempt: attempt, firstAttemptAt: try r.time("firstAttemptAt"),
            signedAt: try r.time("signedAt"), notBefore: try r.optionalTime("notBefore"),
            policy: try RetryPolicy(jsonObject: try r.object("policy")),
            rateLimitPerSecond: try r.optionalInt("rateLimitPerSecond"), headers: headers,
            body: Array(try r.string("body").utf8), event: try Event(wireObject: try r.object("event")))
    }
}
