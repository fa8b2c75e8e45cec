import HeraldCore
import HeraldSigning

/// A seventh profile that exists only in the tests, written the way docs/profiles.md
/// ("Adding a provider") says a real one is: everything about it in this one file, and one row in
/// a registry (`ProfileRegistry.withExample`, the tests' table; production's is untouched).
///
/// Its secret rules differ from the plain ones on purpose, like Teekrr's, so the tests show that
/// knowledge needs no code outside this file: the receiver is shown `ex_<64 hex>`, Herald keeps
/// `exh_<hex SHA-256 of it>` and signs with that string as the HMAC key.
///
/// ```
/// X-Example-Signature: <hex HMAC-SHA256(stored secret, "<event id>.<body>")>
/// {"kind":"message.delivered","id":"evt_…","data":{…}}
/// ```
public struct ExampleProfile: WebhookProfile {
    public init() {}
    public var name: String { "example" }

    public var defaultPolicy: RetryPolicy {
        RetryPolicy(connectTimeoutMs: 2_000, timeoutMs: 4_000, delaysSeconds: [1, 2], retryOn: [.serverError])
    }

    /// Status changes only, under Herald's own names.
    public func eventName(for event: Event) -> String? {
        event.type.hasPrefix("message.") ? event.type : nil
    }

    public func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue {
        ["kind": .string(eventName), "id": .string(event.id), "data": .object(event.data)]
    }

    public func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext)
        throws(SigningError) -> [HTTPHeader]
    {
        try validate(storedSecret: context.secrets[0])
        return [HTTPHeader("X-Example-Signature", Self.signature(key: context.secrets[0], id: event.id, body: body))]
    }

    public func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    {
        guard let given = request.headers[header: "X-Example-Signature"], !given.isEmpty else {
            throw .missingHeader("X-Example-Signature")
        }
        guard let id = (try? JSONValue.parse(request.body))?["id"]?.stringValue else { throw .malformed("body (no id)") }
        guard !secrets.isEmpty else { throw .noSecret }
        // A test fixture: a plain comparison is enough here (real profiles compare in constant time).
        guard secrets.contains(where: { Self.signature(key: $0, id: id, body: request.body) == given }) else {
            throw .signatureMismatch
        }
    }

    public func generateSecret() throws(SigningError) -> GeneratedSecret {
        var rng = SystemRandomNumberGenerator()
        let plaintext = "ex_" + Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        return GeneratedSecret(stored: try storedSecret(given: plaintext), reveal: plaintext)
    }

    public func validate(storedSecret: String) throws(SigningError) {
        guard storedSecret.hasPrefix("exh_"), storedSecret.utf8.count == 68, Hex.decode(storedSecret.dropFirst(4)) != nil else {
            throw .invalidSecret("example stores exh_ + hex(SHA-256(secret))")
        }
    }

    /// A given `exh_…` is already the stored form; anything else is a plaintext and is hashed.
    public func storedSecret(given: String) throws(SigningError) -> String {
        let stored = verificationSecret(receiverHolds: given)
        try validate(storedSecret: stored)
        return stored
    }

    public func verificationSecret(receiverHolds secret: String) -> String {
        secret.hasPrefix("exh_") ? secret : "exh_" + Hex.encode(Digest.sha256(Array(secret.utf8)))
    }

    static func signature(key: String, id: String, body: [UInt8]) -> String {
        Hex.encode(Digest.hmacSHA256(key: Array(key.utf8), message: Array((id + ".").utf8) + body))
    }
}

extension ProfileRegistry {
    /// The shipped profiles plus `ExampleProfile`: the one row that registers it.
    public static let withExample = ProfileRegistry(profiles: ProfileRegistry.standard.profiles + [ExampleProfile()])
}
