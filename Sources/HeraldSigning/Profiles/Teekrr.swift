import HeraldCore

/// Teekrr (seed 004): `{event, timestamp, data{messageUuid…}}` for delivered, failed, billed and
/// bounced; `X-Teekrr-Signature` is hex HMAC-SHA256 of the raw body keyed with
/// **hex(SHA-256(plaintext secret))** — the 64 hex characters as the key, as Teekrr's sample does.
///
/// Herald stores only that hash (`GeneratedSecret.stored`); the plaintext is shown once.
/// `data` is `{messageUuid, recipient, channel, status, reason?, …extra}`; `timestamp` is the
/// event time with milliseconds.
public struct TeekrrProfile: WebhookProfile {
    public init() {}
    public var name: String { "teekrr" }

    /// Teekrr does not retry; 10-second connect/read timeout.
    public var defaultPolicy: RetryPolicy {
        RetryPolicy(connectTimeoutMs: 10_000, timeoutMs: 10_000, delaysSeconds: [], retryOn: [])
    }

    public func eventName(for event: Event) -> String? {
        guard let s = MessageStatus(eventType: event.type) else { return nil }
        switch s {
        case .delivered: return "delivered"
        case .failed, .undelivered, .rejected, .expired: return "failed"
        case .billed: return "billed"
        case .bounced: return "bounced"
        default: return nil
        }
    }

    public func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue {
        let m = MessageView(event)!
        var data: JSONObject = ["messageUuid": .string(m.messageId ?? "")]
        data.set("recipient", m.recipient.map(JSONValue.string))
        data["channel"] = .string(m.channel)
        data["status"] = .string(m.status.rawValue)
        data.set("reason", m.reason)
        data.appendMissing(m.rest)
        return ["event": .string(eventName), "timestamp": .string(event.occurredAt.iso8601Milliseconds), "data": .object(data)]
    }

    /// The stored form of a plaintext Teekrr secret: hex SHA-256 (import an existing secret with it).
    public static func storedForm(ofPlaintext secret: String) -> String {
        Hex.encode(Crypto.sha256(secret.bytes))
    }

    /// A given secret that is already 64 lower-case hex characters is taken as the stored hash
    /// (imported from Teekrr); anything else is a plaintext and is hashed.
    public func storedSecret(given: String) throws(SigningError) -> String {
        let stored = verificationSecret(receiverHolds: given)
        try validate(storedSecret: stored)
        return stored
    }

    /// Teekrr's receivers hold the plaintext (`tk_whsec_…`) and key their HMAC with its hex
    /// SHA-256; a value that already is that hash is used as it is.
    public func verificationSecret(receiverHolds secret: String) -> String {
        TeekrrProfile.isStoredForm(secret) ? secret : TeekrrProfile.storedForm(ofPlaintext: secret)
    }

    /// 64 lower-case hex characters, the form `storedForm(ofPlaintext:)` prints.
    static func isStoredForm(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    public func validate(storedSecret: String) throws(SigningError) {
        guard storedSecret.utf8.count == 64, Hex.decode(storedSecret) != nil else {
            throw .invalidSecret("teekrr stores hex(SHA-256(secret)), 64 hex characters")
        }
    }

    public func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext)
        throws(SigningError) -> [HTTPHeader]
    {
        try validate(storedSecret: context.secrets[0])
        return [
            HTTPHeader("X-Teekrr-Signature", Hex.encode(Crypto.hmacSHA256(key: context.secrets[0].bytes, message: body))),
            HTTPHeader("X-Teekrr-Event", eventName),
        ]
    }

    /// `secrets` are stored forms (hashes), as Herald keeps them.
    public func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    {
        guard let sig = Hex.decode(try request.header("X-Teekrr-Signature")) else {
            throw .malformed("X-Teekrr-Signature (not hex)")
        }
        guard !secrets.isEmpty else { throw .noSecret }
        for s in secrets where Crypto.constantTimeEqual(Crypto.hmacSHA256(key: s.bytes, message: request.body), sig) {
            return
        }
        throw .signatureMismatch
    }

    /// Plaintext `tk_whsec_` + 64 hex characters (shown once); stored: its hex SHA-256.
    public func generateSecret() throws(SigningError) -> GeneratedSecret {
        let plaintext = "tk_whsec_" + Hex.encode(try Crypto.randomBytes(32))
        return GeneratedSecret(stored: TeekrrProfile.storedForm(ofPlaintext: plaintext), reveal: plaintext)
    }
}
