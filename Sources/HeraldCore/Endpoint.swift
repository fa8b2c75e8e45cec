/// A subscription: where an account's events go, how they are signed, and how they are retried.
///
/// Wire form (store exports and admin tools), version 1:
/// ```json
/// {"kind":"herald.endpoint","v":1,"id":"ep_1","account":"acme","url":"https://example.com/hook",
///  "profile":"standard","eventTypes":["message.*"],"recipients":["+9779818000000"],
///  "secrets":[{"value":"whsec_…","createdAt":"…","expiresAt":null}],
///  "policy":null,"rateLimitPerSecond":null,"state":{"enabled":true}}
/// ```
/// It carries secrets: it goes to the store and to the signer, never to the workers or the
/// control exchange (a control notice names only the endpoint id).
public struct Endpoint: Sendable, Hashable {
    public var id: String
    public var account: String
    public var url: String
    /// The profile name, one of HeraldSigning's `ProfileRegistry` (`standard`, `eksms` …).
    public var profile: String
    /// Event-type globs (`*` any run of characters, `?` one); empty means every type.
    public var eventTypes: [String]
    /// Phone numbers (or addresses) whose events this endpoint wants; empty means all.
    /// Compared with the event data's `recipient` and `owner` fields, ignoring spaces, dashes
    /// and a leading `+` (httpSMS's per-webhook phone-number filter).
    public var recipients: [String]
    /// Signing secrets in their stored form, oldest first; see `EndpointSecret`.
    public var secrets: [EndpointSecret]
    /// Overrides the profile's default retry policy and timeout.
    public var policy: RetryPolicy?
    /// Most deliveries per second to this endpoint; `nil` for the worker's default.
    public var rateLimitPerSecond: Int?
    public var state: EndpointState

    public init(
        id: String, account: String, url: String, profile: String = "standard", eventTypes: [String] = [],
        recipients: [String] = [], secrets: [EndpointSecret], policy: RetryPolicy? = nil,
        rateLimitPerSecond: Int? = nil, state: EndpointState = .enabled
    ) {
        self.id = id
        self.account = account
        self.url = url
        self.profile = profile
        self.eventTypes = eventTypes
        self.recipients = recipients
        self.secrets = secrets
        self.policy = policy
        self.rateLimitPerSecond = rateLimitPerSecond
        self.state = state
    }
}

/// A signing secret in its stored form, with its validity window.
///
/// What is stored depends on the profile: Standard Webhooks keeps `whsec_…` (or `whsk_…` for
/// Ed25519), Teekrr keeps only the hex SHA-256 of the plaintext, the others the plaintext.
public struct EndpointSecret: Sendable, Hashable {
    public var value: String
    public var createdAt: Timestamp
    /// End of the grace period after a rotation; `nil` while it is the current secret.
    public var expiresAt: Timestamp?

    public init(value: String, createdAt: Timestamp, expiresAt: Timestamp? = nil) {
        self.value = value
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// Whether the secret may sign or verify at `now`.
    public func isValid(at now: Timestamp) -> Bool { expiresAt.map { now < $0 } ?? true }
}

/// Whether an endpoint receives deliveries.
public enum EndpointState: Sendable, Hashable {
    case enabled
    /// Disabled by an admin or automatically (410 Gone, sustained failure), with why and when.
    case disabled(reason: String, at: Timestamp)

    public var isEnabled: Bool {
        if case .enabled = self { return true }
        return false
    }
}

extension Endpoint {
    /// The secrets valid at `now`, newest first: what a profile signs with (and verifies against).
    public func activeSecrets(at now: Timestamp) -> [String] {
        secrets.filter { $0.isValid(at: now) }.sorted { $0.createdAt > $1.createdAt }.map(\.value)
    }

    /// Rotates to `newSecret` (stored form): every current secret stays valid for `graceSeconds`
    /// more, then expires; secrets already expired are dropped.
    ///
    /// During the grace period profiles that carry several signatures (Standard Webhooks) sign
    /// with all valid secrets; single-signature profiles sign with the new one only, and Herald's
    /// own verifier accepts either (see docs/profiles.md).
    public mutating func rotate(to newSecret: String, at now: Timestamp, graceSeconds: Int = 86_400) {
        let graceEnd = now.adding(seconds: Double(graceSeconds))
        secrets = secrets.filter { $0.isValid(at: now) }.map { s in
            var s = s
            s.expiresAt = min(s.expiresAt ?? graceEnd, graceEnd)
            return s
        }
        secrets.append(EndpointSecret(value: newSecret, createdAt: now))
    }
}
