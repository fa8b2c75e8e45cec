import HeraldCore

/// Sinch (seed 003): the `message_delivery_report` callback (Conversation API shape), signed with
/// base64 HMAC-SHA256 over `body + "." + nonce + "." + timestamp`.
///
/// ```
/// x-sinch-webhook-signature-timestamp: 1781934660        (Unix seconds, signing time)
/// x-sinch-webhook-signature-nonce: 01J0…                 (fresh per attempt)
/// x-sinch-webhook-signature-algorithm: HmacSHA256
/// x-sinch-webhook-signature: <base64>
/// {"app_id":"acme","accepted_time":"…","event_time":"…","message_delivery_report":
///  {"message_id":"…","status":"DELIVERED","channel_identity":{"channel":"SMS","identity":"+977…"},
///   "reason":{"code":"…"}},"message_metadata":"{…extra}"}
/// ```
/// Statuses: QUEUED, DISPATCHED (SENT), DELIVERED, FAILED (also UNDELIVERED), EXPIRED, REJECTED,
/// UNKNOWN, QUEUED_ON_CHANNEL. Only `message.*` events are delivered.
public struct SinchProfile: WebhookProfile {
    public init() {}
    public var name: String { "sinch" }

    /// "Retries with exponential backoff over several hours"; answer within 10 s.
    public var defaultPolicy: RetryPolicy {
        RetryPolicy(
            connectTimeoutMs: 5_000, timeoutMs: 10_000, delaysSeconds: [30, 120, 600, 1800, 3600, 7200, 18000],
            retryOn: Set(RetryCondition.allCases))
    }

    public func eventName(for event: Event) -> String? {
        MessageStatus(eventType: event.type) == nil ? nil : "message_delivery_report"
    }

    static func sinchStatus(_ s: MessageStatus) -> String {
        switch s {
        case .sent: "DISPATCHED"
        case .undelivered: "FAILED"
        default: s.rawValue
        }
    }

    public func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue {
        let m = MessageView(event)!
        var report: JSONObject = ["message_id": .string(m.messageId ?? "")]
        report["status"] = .string(SinchProfile.sinchStatus(m.status))
        report["channel_identity"] = ["channel": .string(m.channel.uppercased()), "identity": .string(m.recipient ?? "")]
        if let reason = m.reason {
            report["reason"] = reason.objectValue.map(JSONValue.object) ?? ["code": reason]
        }
        var o: JSONObject = ["app_id": .string(event.account)]
        o["accepted_time"] = .string(context.now.iso8601Milliseconds)
        o["event_time"] = .string(event.occurredAt.iso8601Milliseconds)
        o["message_delivery_report"] = .object(report)
        if !m.rest.isEmpty { o["message_metadata"] = .string(JSONValue.object(m.rest).serializedString()) }
        return .object(o)
    }

    static func signedBytes(body: [UInt8], nonce: String, timestamp: String) -> [UInt8] {
        var msg = body
        msg.append(UInt8(ascii: "."))
        msg += nonce.utf8
        msg.append(UInt8(ascii: "."))
        msg += timestamp.utf8
        return msg
    }

    public func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext)
        throws(SigningError) -> [HTTPHeader]
    {
        let nonce = context.nonce.next()
        let timestamp = String(context.now.secondsSinceEpoch)
        let mac = Crypto.hmacSHA256(
            key: context.secrets[0].bytes, message: SinchProfile.signedBytes(body: body, nonce: nonce, timestamp: timestamp))
        return [
            HTTPHeader("x-sinch-webhook-signature-timestamp", timestamp),
            HTTPHeader("x-sinch-webhook-signature-nonce", nonce),
            HTTPHeader("x-sinch-webhook-signature-algorithm", "HmacSHA256"),
            HTTPHeader("x-sinch-webhook-signature", Base64.encode(mac)),
        ]
    }

    public func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    {
        let timestamp = try request.header("x-sinch-webhook-signature-timestamp")
        let nonce = try request.header("x-sinch-webhook-signature-nonce")
        guard try request.header("x-sinch-webhook-signature-algorithm") == "HmacSHA256" else {
            throw .malformed("x-sinch-webhook-signature-algorithm (expected HmacSHA256)")
        }
        guard let sig = Base64.decode(try request.header("x-sinch-webhook-signature")) else {
            throw .malformed("x-sinch-webhook-signature (not base64)")
        }
        guard let t = Int64(timestamp) else { throw .malformed("x-sinch-webhook-signature-timestamp") }
        try Tolerance.check(signedAt: t, now: now, seconds: toleranceSeconds)
        guard !secrets.isEmpty else { throw .noSecret }
        let msg = SinchProfile.signedBytes(body: request.body, nonce: nonce, timestamp: timestamp)
        for s in secrets where Crypto.constantTimeEqual(Crypto.hmacSHA256(key: s.bytes, message: msg), sig) { return }
        throw .signatureMismatch
    }

    /// 32 random bytes, base64url (43 characters).
    public func generateSecret() throws(SigningError) -> GeneratedSecret {
        let s = Base64.encodeURL(try Crypto.randomBytes(32))
        return GeneratedSecret(stored: s, reveal: s)
    }
}
