import HeraldCore

/// Why an event could not be rendered and signed for an endpoint.
public struct SigningError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case unknownProfile(String)
        case eventNotSupported(profile: String, type: String)
        case noSecret(endpoint: String)
        case invalidSecret(String)
        case randomFailed
        case cryptoFailed(String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// No profile of that name is registered.
    public static func unknownProfile(_ name: String) -> SigningError { SigningError(.unknownProfile(name)) }
    /// The profile has no name for this event type (e.g. `sms.received` for Teekrr): the endpoint
    /// simply does not get it. Not a failure of the event.
    public static func eventNotSupported(profile: String, type: String) -> SigningError {
        SigningError(.eventNotSupported(profile: profile, type: type))
    }
    /// The endpoint has no valid secret at signing time.
    public static func noSecret(endpoint: String) -> SigningError { SigningError(.noSecret(endpoint: endpoint)) }
    /// A stored secret is not in the form its profile expects.
    public static func invalidSecret(_ why: String) -> SigningError { SigningError(.invalidSecret(why)) }
    /// OpenSSL's CSPRNG refused to produce bytes.
    public static let randomFailed = SigningError(.randomFailed)
    /// An OpenSSL call failed.
    public static func cryptoFailed(_ what: String) -> SigningError { SigningError(.cryptoFailed(what)) }

    /// Whether this only means "this endpoint does not receive this event type".
    public var isEventNotSupported: Bool {
        if case .eventNotSupported = code { return true }
        return false
    }

    public var description: String {
        switch code {
        case .unknownProfile(let n): "unknown profile '\(n)'"
        case .eventNotSupported(let p, let t): "profile '\(p)' does not deliver events of type '\(t)'"
        case .noSecret(let e): "endpoint '\(e)' has no valid signing secret"
        case .invalidSecret(let why): "invalid secret: \(why)"
        case .randomFailed: "the system CSPRNG failed"
        case .cryptoFailed(let what): "OpenSSL failed: \(what)"
        }
    }

    /// A short stable form for metric labels.
    public var label: String {
        switch code {
        case .unknownProfile: "unknown_profile"
        case .eventNotSupported: "event_not_supported"
        case .noSecret: "no_secret"
        case .invalidSecret: "invalid_secret"
        case .randomFailed: "random_failed"
        case .cryptoFailed: "crypto_failed"
        }
    }
}

/// Why a received webhook did not verify.
public struct VerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case missingHeader(String)
        case malformed(String)
        case timestampOutOfTolerance(signedAt: Int64, now: Int64, tolerance: Int)
        case signatureMismatch
        case noSecret
        case claimMismatch(String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    public static func missingHeader(_ name: String) -> VerificationError { VerificationError(.missingHeader(name)) }
    public static func malformed(_ what: String) -> VerificationError { VerificationError(.malformed(what)) }
    public static func timestampOutOfTolerance(signedAt: Int64, now: Int64, tolerance: Int) -> VerificationError {
        VerificationError(.timestampOutOfTolerance(signedAt: signedAt, now: now, tolerance: tolerance))
    }
    /// No secret produced the signature the request carries.
    public static let signatureMismatch = VerificationError(.signatureMismatch)
    public static let noSecret = VerificationError(.noSecret)
    /// A signed claim (JWT audience, payload hash…) does not match the request.
    public static func claimMismatch(_ what: String) -> VerificationError { VerificationError(.claimMismatch(what)) }

    public var description: String {
        switch code {
        case .missingHeader(let h): "header '\(h)' is missing"
        case .malformed(let what): "malformed \(what)"
        case .timestampOutOfTolerance(let t, let now, let tol):
            "signed at \(t), now \(now): more than \(tol) s apart"
        case .signatureMismatch: "no signature matches"
        case .noSecret: "no secret to verify with"
        case .claimMismatch(let what): "claim mismatch: \(what)"
        }
    }

    public var label: String {
        switch code {
        case .missingHeader: "missing_header"
        case .malformed: "malformed"
        case .timestampOutOfTolerance: "stale_timestamp"
        case .signatureMismatch: "signature_mismatch"
        case .noSecret: "no_secret"
        case .claimMismatch: "claim_mismatch"
        }
    }
}
