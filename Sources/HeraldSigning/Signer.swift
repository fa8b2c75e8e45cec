import HeraldCore

/// The signer's pure core: (event, endpoint, attempt, now) → a signed `DeliveryJob`.
///
/// The `herald-signer` service calls this for new events (attempt 1) and again for every retry
/// or replay, so each attempt carries a fresh timestamp and signature, the endpoint's current URL
/// and secrets, and a fresh nonce.
///
/// ```swift
/// let job = try Signer.sign(event, for: endpoint, now: .now())
/// publish(job.wireEncoded())   // to herald.deliveries
/// ```
public enum Signer {
    /// Renders and signs `event` for `endpoint`, to `destination(of:for:)`: the event's
    /// `callbackUrl` when it has one, else the endpoint's URL.
    ///
    /// - Parameters:
    ///   - previous: the job being retried or replayed: the new job keeps its attempt number
    ///     (the worker counts attempts when it schedules a retry; parking a job spends none) and
    ///     its first-attempt time, and takes the endpoint's current URL, secrets and policy;
    ///     `nil` for a first attempt.
    ///   - now: signing time (pinned in tests).
    ///   - nonce: nonce source for schemes that send one.
    ///   - profiles: where `endpoint.profile` is looked up (tests add profiles of their own).
    /// - Throws: `SigningError`; `isEventNotSupported` means "skip this endpoint", not a failure.
    public static func sign(
        _ event: Event, for endpoint: Endpoint, retrying previous: DeliveryJob? = nil, now: Timestamp,
        nonce: NonceSource = .random, profiles: ProfileRegistry = .standard
    ) throws(SigningError) -> DeliveryJob {
        try sign(
            event, for: endpoint, to: destination(of: event, for: endpoint), retrying: previous, now: now, nonce: nonce,
            profiles: profiles)
    }

    /// Renders and signs `event` for `endpoint`, to be sent to `url`.
    ///
    /// The destination is the caller's decision: the signer sends every stored endpoint's job to
    /// that endpoint's own URL even when the event also has a `callbackUrl` (the callback is one
    /// more destination with an endpoint of its own), and the job still carries the whole event.
    ///
    /// ```swift
    /// let job = try Signer.sign(event, for: endpoint, to: endpoint.url, now: .now())
    /// ```
    ///
    /// - Parameters:
    ///   - url: where the request goes (`DeliveryJob.url`; httpSMS also signs it as the JWT audience).
    ///   - previous: the job being retried or replayed (see `sign(_:for:retrying:now:nonce:)`).
    ///   - now: signing time (pinned in tests).
    ///   - nonce: nonce source for schemes that send one.
    ///   - profiles: where `endpoint.profile` is looked up (tests add profiles of their own).
    /// - Throws: `SigningError`; `isEventNotSupported` means "skip this endpoint", not a failure.
    public static func sign(
        _ event: Event, for endpoint: Endpoint, to url: String, retrying previous: DeliveryJob? = nil, now: Timestamp,
        nonce: NonceSource = .random, profiles: ProfileRegistry = .standard
    ) throws(SigningError) -> DeliveryJob {
        let profile = try profiles.profile(named: endpoint.profile)
        let secrets = endpoint.activeSecrets(at: now)
        let context = SigningContext(
            endpointId: endpoint.id, url: url, account: event.account,
            secrets: profile.signsWithEverySecret ? secrets : Array(secrets.prefix(1)), now: now, nonce: nonce)
        let request = try profile.sign(event, context: context)
        return DeliveryJob(
            endpointId: endpoint.id, url: url, profile: profile.name, attempt: previous?.attempt ?? 1,
            firstAttemptAt: previous?.firstAttemptAt ?? now, signedAt: now, notBefore: previous?.notBefore,
            policy: policy(for: endpoint, profiles: profiles), rateLimitPerSecond: endpoint.rateLimitPerSecond,
            headers: request.headers, body: request.body, event: event)
    }

    /// Where a job for `event` signed for `endpoint` goes when the caller does not say: the
    /// event's one-off `callbackUrl` when it has one, else the endpoint's URL.
    public static func destination(of event: Event, for endpoint: Endpoint) -> String {
        event.callbackUrl ?? endpoint.url
    }

    /// The endpoint's policy: its override, else its profile's default (the registry's default
    /// profile's for a name it does not know).
    public static func policy(for endpoint: Endpoint, profiles: ProfileRegistry = .standard) -> RetryPolicy {
        if let p = endpoint.policy { return p }
        return (try? profiles.profile(named: endpoint.profile).defaultPolicy) ?? profiles.defaultProfile.defaultPolicy
    }

    /// Whether `endpoint` receives `event` at all: `Endpoint.accepts` and the profile has a name for it.
    public static func delivers(_ event: Event, to endpoint: Endpoint, profiles: ProfileRegistry = .standard) -> Bool {
        guard endpoint.accepts(event), let p = try? profiles.profile(named: endpoint.profile) else { return false }
        return p.eventName(for: event) != nil
    }

    /// Verifies a received request against `endpoint`'s secrets valid at `now` (all of them, so
    /// the old secret still verifies during a rotation's grace period).
    public static func verify(
        _ request: ReceivedWebhook, for endpoint: Endpoint, now: Timestamp, toleranceSeconds: Int = 300,
        profiles: ProfileRegistry = .standard
    ) throws(VerificationError) {
        guard let profile = try? profiles.profile(named: endpoint.profile) else { throw .malformed("profile") }
        try profile.verify(request, secrets: endpoint.activeSecrets(at: now), now: now, toleranceSeconds: toleranceSeconds)
    }

    /// A new secret for `profile` (see each profile's `generateSecret`).
    public static func generateSecret(profile name: String, profiles: ProfileRegistry = .standard) throws(SigningError)
        -> GeneratedSecret
    {
        try profiles.profile(named: name).generateSecret()
    }
}
