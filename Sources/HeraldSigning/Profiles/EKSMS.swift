import HeraldCore

/// EK SMS (seed 000): a flat body per delivery-status change, signed with a hex HMAC-SHA256 of
/// the raw body keyed with the plaintext secret.
///
/// ```
/// X-EKSMS-Signature: <hex HMAC-SHA256(secret, body)>
/// X-EKSMS-Event: message.delivered
/// {"event":"message.delivered","messageId":"…","recipient":"9818000000","status":"DELIVERED",
///  "deliveredAt":"2026-06-20T05:51:00.000Z"}
/// ```
/// The time key is `<status in lower camel case>At` (`sentAt`, `failedAt` …); `reason` follows
/// when present, then any extra data fields. Only the five EK SMS statuses are delivered.
public struct EKSMSProfile: WebhookProfile {
    public init() {}
    public var name: String { "eksms" }

    static let statuses: Set<MessageStatus> = [.queued, .sent, .delivered, .undelivered, .failed]

    /// "A few times on non-2xx with backoff": 3 retries over about 6 minutes, any failure.
    public var defaultPolicy: RetryPolicy {
        RetryPolicy(
            connectTimeoutMs: 5_000, timeoutMs: 10_000, delaysSeconds: [10, 60, 300],
            retryOn: Set(RetryCondition.allCases))
    }

    public func eventName(for event: Event) -> String? {
        guard let s = MessageStatus(eventType: event.type), EKSMSProfile.statuses.contains(s) else { return nil }
        return event.type
    }

    public func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue {
        let m = MessageView(event)!
        var o: JSONObject = ["event": .string(eventName)]
        o["messageId"] = .string(m.messageId ?? "")
        o["recipient"] = .string(m.recipient ?? "")
        o["status"] = .string(m.status.rawValue)
        o[EKSMSProfile.timeKey(m.status)] = .string(event.occurredAt.iso8601Milliseconds)
        o.set("reason", m.reason)
        o.appendMissing(m.rest)
        return .object(o)
    }

    static func timeKey(_ status: MessageStatus) -> String {
        var out = ""
        var upper = false
        for c in status.rawValue.lowercased() {
            if c == "_" { upper = true; continue }
            out += upper ? c.uppercased() : String(c)
            upper = false
        }
        return out + "At"
    }

    public func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext)
        throws(SigningError) -> [HTTPHeader]
    {
        [
            HTTPHeader("X-EKSMS-Signature", Hex.encode(Crypto.hmacSHA256(key: context.secrets[0].bytes, message: body))),
            HTTPHeader("X-EKSMS-Event", eventName),
        ]
    }

    public func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    {
        let given = try request.header("X-EKSMS-Signature")
        guard let sig = Hex.decode(given) else { throw .malformed("X-EKSMS-Signature (not hex)") }
        guard !secrets.isEmpty else { throw .noSecret }
        for s in secrets where Crypto.constantTimeEqual(Crypto.hmacSHA256(key: s.bytes, message: request.body), sig) {
            return
        }
        throw .signatureMismatch
    }

    /// 32 random bytes as 64 hex characters.
    public func generateSecret() throws(SigningError) -> GeneratedSecret {
        let s = Hex.encode(try Crypto.randomBytes(32))
        return GeneratedSecret(stored: s, reveal: s)
    }
}
