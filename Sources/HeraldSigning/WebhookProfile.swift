import HeraldCore

/// A provider's webhook contract: body shape, event names, signature scheme and headers,
/// default retry policy and timeout.
///
/// Profiles are pure: everything that varies (time, nonce, secrets) comes in through
/// `SigningContext`, so tests pin it. Adding a profile means one file under `Profiles/` and one
/// row in `ProfileRegistry.standard` (docs/profiles.md, "Adding a provider").
///
/// A profile owns every rule about its secrets: how one is generated, how a given one is stored
/// (`storedSecret(given:)`) and how a verifier turns what a receiver holds into the key it checks
/// with (`verificationSecret(receiverHolds:)`). No code outside the profile's file branches on
/// its name.
public protocol WebhookProfile: Sendable {
    /// The name endpoints use (`standard`, `eksms` …).
    var name: String { get }
    /// The provider's own retry schedule and timeout (see docs/profiles.md).
    var defaultPolicy: RetryPolicy { get }
    /// Whether one request can carry signatures from several secrets (during rotation).
    var signsWithEverySecret: Bool { get }
    /// The provider's name for a Herald event (`message.delivered` → `sms.delivered`), or `nil`
    /// when the provider has no such event and the endpoint does not receive it.
    func eventName(for event: Event) -> String?
    /// The body as an ordered JSON value (rendered to bytes by the canonical serializer).
    func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue
    /// The signature headers for `body` (Content-Type is added by `sign`).
    func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext) throws(SigningError)
        -> [HTTPHeader]
    /// Verifies a received request the way Herald's receivers should, against stored-form
    /// `secrets` (any may match), with `toleranceSeconds` on signed timestamps.
    func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    /// A new secret from the CSPRNG in the form the provider's receivers expect.
    func generateSecret() throws(SigningError) -> GeneratedSecret
    /// Checks that a stored secret has this profile's form.
    func validate(storedSecret: String) throws(SigningError)
    /// The form Herald stores for a secret a client gives (creating an endpoint, rotating its
    /// secret): Teekrr keeps only its hash. Throws when `given` cannot become a valid stored secret.
    /// The default keeps `given` as it is, once `validate(storedSecret:)` accepts it.
    func storedSecret(given: String) throws(SigningError) -> String
    /// What `verify(_:secrets:…)` takes, from the secret as a receiver holds it
    /// (`GeneratedSecret.reveal`, an imported plaintext, a `whpk_` public key): how a verifier
    /// derives its key. The default is the secret itself.
    func verificationSecret(receiverHolds secret: String) -> String
}

extension WebhookProfile {
    public var signsWithEverySecret: Bool { false }
    public func validate(storedSecret: String) throws(SigningError) {
        guard !storedSecret.isEmpty else { throw .invalidSecret("empty secret") }
    }
    public func storedSecret(given: String) throws(SigningError) -> String {
        try validate(storedSecret: given)
        return given
    }
    public func verificationSecret(receiverHolds secret: String) -> String { secret }

    /// Renders and signs `event`: the exact body bytes and the headers to send.
    ///
    /// ```swift
    /// let ctx = SigningContext(endpointId: "ep_1", url: "https://example.com/hook", account: "acme",
    ///                          secrets: ["whsec_…"], now: .now())
    /// let request = try StandardWebhooksProfile().sign(event, context: ctx)
    /// ```
    public func sign(_ event: Event, context: SigningContext) throws(SigningError) -> SignedRequest {
        guard let eventName = eventName(for: event) else { throw .eventNotSupported(profile: name, type: event.type) }
        guard !context.secrets.isEmpty else { throw .noSecret(endpoint: context.endpointId) }
        let body = body(for: event, eventName: eventName, context: context).serialized()
        var headers = [HTTPHeader("Content-Type", "application/json")]
        headers += try signatureHeaders(body: body, event: event, eventName: eventName, context: context)
        return SignedRequest(body: body, headers: headers)
    }
}

/// Everything a profile needs besides the event, so rendering and signing stay pure.
public struct SigningContext: Sendable {
    public var endpointId: String
    /// The URL the request goes to (httpSMS puts it in the JWT audience).
    public var url: String
    public var account: String
    /// Stored-form secrets valid now, newest first (`Endpoint.activeSecrets(at:)`).
    public var secrets: [String]
    public var now: Timestamp
    /// Nonces for schemes that send one (Sinch); random by default, fixed in tests.
    public var nonce: NonceSource

    public init(
        endpointId: String, url: String, account: String, secrets: [String], now: Timestamp,
        nonce: NonceSource = .random
    ) {
        self.endpointId = endpointId
        self.url = url
        self.account = account
        self.secrets = secrets
        self.now = now
        self.nonce = nonce
    }
}

/// Where nonces come from: the CSPRNG in production, a fixed value in tests.
public struct NonceSource: Sendable {
    private let make: @Sendable () -> String

    public init(_ make: @escaping @Sendable () -> String) { self.make = make }

    /// 26 characters of Crockford base 32 (130 bits) from OpenSSL's CSPRNG.
    public static let random = NonceSource {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        // RAND_bytes failing is a broken system; fall back to the stdlib CSPRNG rather than crash.
        let bytes = (try? Crypto.randomBytes(26)) ?? (0..<26).map { _ in UInt8.random(in: 0...255) }
        return String(decoding: bytes.map { alphabet[Int($0 & 31)] }, as: UTF8.self)
    }

    /// Always `value`.
    public static func fixed(_ value: String) -> NonceSource { NonceSource { value } }

    /// The next nonce.
    public func next() -> String { make() }
}

/// What to POST: exact body bytes and headers in order.
public struct SignedRequest: Sendable, Hashable {
    public var body: [UInt8]
    public var headers: [HTTPHeader]

    public init(body: [UInt8], headers: [HTTPHeader]) {
        self.body = body
        self.headers = headers
    }
}

/// A request as a receiver got it, for verification.
public struct ReceivedWebhook: Sendable, Hashable {
    public var body: [UInt8]
    public var headers: [HTTPHeader]
    /// The URL it was sent to (httpSMS checks the JWT audience against it); `nil` skips that check.
    public var url: String?

    public init(body: [UInt8], headers: [HTTPHeader], url: String? = nil) {
        self.body = body
        self.headers = headers
        self.url = url
    }

    func header(_ name: String) throws(VerificationError) -> String {
        guard let v = headers[header: name], !v.isEmpty else { throw .missingHeader(name) }
        return v
    }
}

/// A freshly generated secret: what to store, and what to show the customer once.
public struct GeneratedSecret: Sendable, Hashable {
    /// The form Herald keeps (Teekrr: hex SHA-256 of the plaintext; Ed25519: the `whsk_` key).
    public var stored: String
    /// The form the receiver configures (the plaintext, or the `whpk_` public key). Show it once.
    public var reveal: String

    public init(stored: String, reveal: String) {
        self.stored = stored
        self.reveal = reveal
    }
}
