import HeraldCore

/// Standard Webhooks (the default profile): `{type, timestamp, data}` with `webhook-id`,
/// `webhook-timestamp` and `webhook-signature`.
///
/// The signed content is `<webhook-id>.<webhook-timestamp>.<body>`. Secrets:
/// - `whsec_<base64>`: symmetric; signature `v1,<base64 HMAC-SHA256>` keyed with the decoded bytes.
/// - `whsk_<base64>`: Ed25519 private key (32-byte seed, or 64 bytes seed‖public key); signature
///   `v1a,<base64 Ed25519>`. The receiver holds only `whpk_<base64 of the 32-byte public key>`,
///   which verifies but cannot sign.
///
/// During rotation every valid secret signs, newest first, space-separated
/// (`v1,abc… v1,def…`): receivers holding either secret verify. `webhook-id` is the event id,
/// constant across retries; `webhook-timestamp` is the signing time (Unix seconds), fresh each
/// attempt; receivers reject it beyond 5 minutes.
public struct StandardWebhooksProfile: WebhookProfile {
    public init() {}
    public var name: String { "standard" }
    public var signsWithEverySecret: Bool { true }

    /// Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.6 hours);
    /// 15 s timeout.
    public var defaultPolicy: RetryPolicy {
        RetryPolicy(
            connectTimeoutMs: 5_000, timeoutMs: 15_000, delaysSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000],
            retryOn: Set(RetryCondition.allCases))
    }

    public func eventName(for event: Event) -> String? { event.type }

    public func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue {
        ["type": .string(eventName), "timestamp": .string(event.occurredAt.iso8601Milliseconds), "data": .object(event.data)]
    }

    static func signedContent(id: String, timestamp: String, body: [UInt8]) -> [UInt8] {
        var msg = Array(id.utf8)
        msg.append(UInt8(ascii: "."))
        msg += timestamp.utf8
        msg.append(UInt8(ascii: "."))
        msg += body
        return msg
    }

    /// The key behind a stored or public secret.
    enum Key {
        case symmetric([UInt8])
        case signing(seed: [UInt8])
        case verifying(publicKey: [UInt8])

        static func parse(_ secret: String) throws(SigningError) -> Key {
            if secret.hasPrefix("whsec_") {
                guard let k = Base64.decode(secret.dropFirst(6)), !k.isEmpty else {
                    throw .invalidSecret("whsec_ secret is not base64")
                }
                return .symmetric(k)
            }
            if secret.hasPrefix("whsk_") {
                guard let k = Base64.decode(secret.dropFirst(5)), k.count == 32 || k.count == 64 else {
                    throw .invalidSecret("whsk_ key must be base64 of 32 or 64 bytes")
                }
                return .signing(seed: Array(k.prefix(32)))
            }
            if secret.hasPrefix("whpk_") {
                guard let k = Base64.decode(secret.dropFirst(5)), k.count == 32 else {
                    throw .invalidSecret("whpk_ key must be base64 of 32 bytes")
                }
                return .verifying(publicKey: k)
            }
            throw .invalidSecret("standard secrets start with whsec_ or whsk_ (whpk_ to verify)")
        }
    }

    public func validate(storedSecret: String) throws(SigningError) {
        if case .verifying = try Key.parse(storedSecret) { throw .invalidSecret("a whpk_ public key cannot sign") }
    }

    public func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext)
        throws(SigningError) -> [HTTPHeader]
    {
        let timestamp = String(context.now.secondsSinceEpoch)
        let content = StandardWebhooksProfile.signedContent(id: event.id, timestamp: timestamp, body: body)
        var signatures: [String] = []
        for secret in context.secrets {
            switch try Key.parse(secret) {
            case .symmetric(let k): signatures.append("v1," + Base64.encode(Crypto.hmacSHA256(key: k, message: content)))
            case .signing(let seed):
                signatures.append("v1a," + Base64.encode(try Crypto.ed25519Sign(seed: seed, message: content)))
            case .verifying: throw .invalidSecret("a whpk_ public key cannot sign")
            }
        }
        return [
            HTTPHeader("webhook-id", event.id), HTTPHeader("webhook-timestamp", timestamp),
            HTTPHeader("webhook-signature", signatures.joined(separator: " ")),
        ]
    }

    /// Accepts `whsec_` secrets, `whsk_` private keys and `whpk_` public keys; passes when any
    /// signature in the header matches any of them.
    public func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    {
        let id = try request.header("webhook-id")
        let timestamp = try request.header("webhook-timestamp")
        let header = try request.header("webhook-signature")
        guard let t = Int64(timestamp) else { throw .malformed("webhook-timestamp") }
        try Tolerance.check(signedAt: t, now: now, seconds: toleranceSeconds)
        guard !secrets.isEmpty else { throw .noSecret }
        let content = StandardWebhooksProfile.signedContent(id: id, timestamp: timestamp, body: request.body)
        // A secret of another form cannot have produced a signature here: skip it.
        let keys = secrets.compactMap { try? Key.parse($0) }
        guard !keys.isEmpty else { throw .noSecret }
        var hmacs: [[UInt8]] = []
        var publicKeys: [[UInt8]] = []
        for k in keys {
            switch k {
            case .symmetric(let key): hmacs.append(Crypto.hmacSHA256(key: key, message: content))
            case .signing(let seed): if let p = try? Crypto.ed25519PublicKey(seed: seed) { publicKeys.append(p) }
            case .verifying(let p): publicKeys.append(p)
            }
        }
        for entry in header.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, let sig = Base64.decode(parts[1]) else { continue }
            if parts[0] == "v1", hmacs.contains(where: { Crypto.constantTimeEqual($0, sig) }) { return }
            if parts[0] == "v1a",
                publicKeys.contains(where: { Crypto.ed25519Verify(publicKey: $0, message: content, signature: sig) })
            {
                return
            }
        }
        throw .signatureMismatch
    }

    /// `whsec_` + base64 of 32 random bytes (symmetric); stored and revealed alike.
    public func generateSecret() throws(SigningError) -> GeneratedSecret {
        let s = "whsec_" + Base64.encode(try Crypto.randomBytes(32))
        return GeneratedSecret(stored: s, reveal: s)
    }

    /// An Ed25519 key pair: stored `whsk_` + base64(seed ‖ public key), revealed `whpk_` +
    /// base64(public key).
    public func generateKeyPair() throws(SigningError) -> GeneratedSecret {
        let seed = try Crypto.randomBytes(32)
        let pub = try Crypto.ed25519PublicKey(seed: seed)
        return GeneratedSecret(stored: "whsk_" + Base64.encode(seed + pub), reveal: "whpk_" + Base64.encode(pub))
    }

    /// The `whpk_` public key for a stored `whsk_` key.
    public static func publicKey(of signingKey: String) throws(SigningError) -> String {
        guard case .signing(let seed) = try Key.parse(signingKey) else { throw .invalidSecret("not a whsk_ key") }
        return "whpk_" + Base64.encode(try Crypto.ed25519PublicKey(seed: seed))
    }
}
