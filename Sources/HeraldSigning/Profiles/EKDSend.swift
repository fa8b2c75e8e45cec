import HeraldCore

/// EKDSend (seed 001): `{id, type, created_at, data}` with email, SMS and voice event names,
/// `X-EKDSend-Signature: sha256=<hex HMAC-SHA256>`.
///
/// EKDSend's receivers hash `JSON.stringify(req.body)` — the body re-serialized by JavaScript —
/// not the raw bytes. The canonical serializer makes the body we send a fixed point of
/// `JSON.stringify(JSON.parse(·))`, so both hashes are the same. (Their `timingSafeEqual` also
/// throws on a length mismatch rather than returning false; a receiver sees a 500, not a 401.)
///
/// Status changes map to `sms.*` (or `email.*`, `call.*` by channel); `data` is
/// `{message_id, to, status, reason?, <status>_at, …extra}`. Events whose type is already an
/// EKDSend name (`email.opened`, `call.completed` …) pass through with their data unchanged.
public struct EKDSendProfile: WebhookProfile {
    public init() {}
    public var name: String { "ekdsend" }

    /// Every event name EKDSend documents.
    public static let eventNames: Set<String> = [
        "email.sent", "email.delivered", "email.opened", "email.clicked", "email.bounced", "email.complained",
        "sms.sent", "sms.delivered", "sms.failed", "sms.received",
        "call.initiated", "call.answered", "call.completed", "call.failed",
    ]

    /// "Up to 5 times with exponential backoff", 5 s to answer.
    public var defaultPolicy: RetryPolicy {
        RetryPolicy(
            connectTimeoutMs: 5_000, timeoutMs: 5_000, delaysSeconds: [5, 30, 120, 600, 3600],
            retryOn: Set(RetryCondition.allCases))
    }

    public func eventName(for event: Event) -> String? {
        if EKDSendProfile.eventNames.contains(event.type) { return event.type }
        guard let m = MessageView(event) else { return nil }
        let prefix: String
        switch m.channel {
        case "email": prefix = "email"
        case "voice", "call": prefix = "call"
        default: prefix = "sms"
        }
        let verb: String
        switch m.status {
        case .sent, .dispatched: verb = prefix == "call" ? "initiated" : "sent"
        case .delivered: verb = prefix == "call" ? "completed" : "delivered"
        case .failed, .undelivered, .rejected, .expired: verb = "failed"
        case .received: verb = "received"
        default: verb = m.status.rawValue.lowercased()
        }
        let name = prefix + "." + verb
        return EKDSendProfile.eventNames.contains(name) ? name : nil
    }

    public func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue {
        var data: JSONObject
        if let m = MessageView(event), !EKDSendProfile.eventNames.contains(event.type) {
            data = ["message_id": .string(m.messageId ?? "")]
            data["to"] = .string(m.recipient ?? "")
            data["status"] = .string(m.status.rawValue.lowercased())
            data.set("reason", m.reason)
            data[m.status.rawValue.lowercased() + "_at"] = .string(event.occurredAt.iso8601Seconds)
            data.appendMissing(m.rest)
        } else {
            data = event.data
        }
        return [
            "id": .string(event.id), "type": .string(eventName), "created_at": .string(event.occurredAt.iso8601Seconds),
            "data": .object(data),
        ]
    }

    public func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext)
        throws(SigningError) -> [HTTPHeader]
    {
        [
            HTTPHeader(
                "X-EKDSend-Signature", "sha256=" + Hex.encode(Crypto.hmacSHA256(key: context.secrets[0].bytes, message: body)))
        ]
    }

    /// Verifies as EKDSend's receivers do: over the body parsed and re-serialized.
    public func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    {
        let given = try request.header("X-EKDSend-Signature")
        guard given.hasPrefix("sha256="), let sig = Hex.decode(given.dropFirst(7)) else {
            throw .malformed("X-EKDSend-Signature (expected sha256=<hex>)")
        }
        let restringified: [UInt8]
        do { restringified = try JSONValue.parse(request.body).serialized() } catch { throw .malformed("body (not JSON)") }
        guard !secrets.isEmpty else { throw .noSecret }
        for s in secrets where Crypto.constantTimeEqual(Crypto.hmacSHA256(key: s.bytes, message: restringified), sig) {
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
