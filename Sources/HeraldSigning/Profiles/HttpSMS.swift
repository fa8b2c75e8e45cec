import HeraldCore

/// httpSMS (seed 002): a CloudEvents 1.0 structured-mode JSON body, `X-Event-Type`, and
/// `Authorization: Bearer <JWT HS256>` signed with the endpoint's signing key.
///
/// JWT claims, in this order: `iss` (`herald`), `sub` (the account), `aud` (the endpoint URL),
/// `iat`, `nbf` (both now), `exp` (now + 10 minutes), `jti` (the event id), and `payload_hash`.
/// The seed's token does not cover the body, so a tampered body would pass; `payload_hash` is
/// the hex SHA-256 of the exact body bytes (as Vonage's signed webhooks do). Receivers that only
/// check the JWT, as httpSMS documents, ignore it; Herald's verifier and careful receivers check it.
///
/// Event names: `message.phone.received`, `message.phone.sent`, `message.phone.delivered`,
/// `message.send.failed`, `message.send.expired`. CloudEvent `data` is
/// `{message_id, contact, status, timestamp, failure_reason?, …extra}` (httpSMS's field names;
/// `owner` passes through from the event data when the platform sends it, and is what the
/// endpoint's phone-number filter matches).
public struct HttpSMSProfile: WebhookProfile {
    public init() {}
    public var name: String { "httpsms" }

    /// How long a token is valid after it is issued.
    public static let tokenLifetimeSeconds: Int64 = 600
    /// The JWT issuer.
    public static let issuer = "herald"

    /// "Retried at most 4 times, at least 1 second apart, on 5xx"; 5 s timeout.
    public var defaultPolicy: RetryPolicy {
        RetryPolicy(connectTimeoutMs: 5_000, timeoutMs: 5_000, delaysSeconds: [1, 5, 30, 120], retryOn: [.serverError])
    }

    public func eventName(for event: Event) -> String? {
        switch event.type {
        case "message.phone.received", "message.phone.sent", "message.phone.delivered", "message.send.failed",
            "message.send.expired":
            return event.type
        default: break
        }
        guard let s = MessageStatus(eventType: event.type) else { return nil }
        switch s {
        case .received: return "message.phone.received"
        case .sent: return "message.phone.sent"
        case .delivered: return "message.phone.delivered"
        case .failed, .undelivered, .rejected: return "message.send.failed"
        case .expired: return "message.send.expired"
        default: return nil
        }
    }

    public func body(for event: Event, eventName: String, context: SigningContext) -> JSONValue {
        var data: JSONObject
        if let m = MessageView(event) {
            data = ["message_id": .string(m.messageId ?? "")]
            data["contact"] = .string(m.recipient ?? "")
            data["status"] = .string(m.status.rawValue.lowercased())
            data["timestamp"] = .string(event.occurredAt.iso8601Milliseconds)
            data.set("failure_reason", m.reason)
            data.appendMissing(m.rest)
        } else {
            data = event.data
        }
        return [
            "specversion": "1.0", "id": .string(event.id), "source": .string("/herald/accounts/" + event.account),
            "type": .string(eventName), "datacontenttype": "application/json",
            "time": .string(event.occurredAt.iso8601Milliseconds), "data": .object(data),
        ]
    }

    public func signatureHeaders(body: [UInt8], event: Event, eventName: String, context: SigningContext)
        throws(SigningError) -> [HTTPHeader]
    {
        let now = Double(context.now.secondsSinceEpoch)
        let claims: JSONObject = [
            "iss": .string(HttpSMSProfile.issuer), "sub": .string(context.account), "aud": .string(context.url),
            "iat": .number(now), "nbf": .number(now), "exp": .number(now + Double(HttpSMSProfile.tokenLifetimeSeconds)),
            "jti": .string(event.id), "payload_hash": .string(Hex.encode(Crypto.sha256(body))),
        ]
        return [
            HTTPHeader("Authorization", "Bearer " + JWT.signHS256(claims: claims, key: context.secrets[0].bytes)),
            HTTPHeader("X-Event-Type", eventName),
        ]
    }

    /// Checks the token (HS256 with any secret), `nbf`/`exp` with tolerance, `aud` against the
    /// request URL when known, and `payload_hash` against the body.
    public func verify(_ request: ReceivedWebhook, secrets: [String], now: Timestamp, toleranceSeconds: Int)
        throws(VerificationError)
    {
        let auth = try request.header("Authorization")
        guard auth.hasPrefix("Bearer ") else { throw .malformed("Authorization (expected Bearer)") }
        let token = String(auth.dropFirst(7))
        guard !secrets.isEmpty else { throw .noSecret }
        var claims: JSONObject?
        for s in secrets {
            do {
                claims = try JWT.verifyHS256(token, key: s.bytes)
                break
            } catch  where error == .signatureMismatch {
                continue
            }
        }
        guard let claims else { throw .signatureMismatch }
        let t = now.secondsSinceEpoch
        let tol = Int64(toleranceSeconds)
        if let nbf = claims["nbf"]?.numberValue, Int64(nbf) > t + tol { throw .claimMismatch("token not valid yet (nbf)") }
        if let exp = claims["exp"]?.numberValue, Int64(exp) < t - tol { throw .claimMismatch("token expired (exp)") }
        if let url = request.url, claims["aud"]?.stringValue != url { throw .claimMismatch("aud is not \(url)") }
        guard let hash = claims["payload_hash"]?.stringValue else { throw .claimMismatch("payload_hash missing") }
        guard let h = Hex.decode(hash), Crypto.constantTimeEqual(h, Crypto.sha256(request.body)) else {
            throw .claimMismatch("payload_hash does not match the body")
        }
    }

    /// 32 random bytes, base64url (43 characters).
    public func generateSecret() throws(SigningError) -> GeneratedSecret {
        let s = Base64.encodeURL(try Crypto.randomBytes(32))
        return GeneratedSecret(stored: s, reveal: s)
    }
}
