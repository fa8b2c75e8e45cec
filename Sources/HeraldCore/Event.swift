/// Something that happened on a platform, to be pushed to every subscribed endpoint.
///
/// The event id is constant across retries and replays, so receivers can deduplicate on it.
///
/// Wire form (queue `herald.sign`, and inside a delivery job), version 1:
/// ```json
/// {"kind":"herald.event","v":1,"id":"evt_01","type":"message.delivered","account":"acme",
///  "occurredAt":"2026-06-20T05:51:00.000Z","data":{"messageId":"m1"},
///  "callbackUrl":"https://example.com/hook"}
/// ```
/// `callbackUrl` is optional (EK SMS style one-off destination for this event).
public struct Event: Sendable, Hashable {
    /// Unique id; given by the platform or generated (`evt_` + 26 random base-32 characters).
    public var id: String
    /// Dotted event type, e.g. `message.delivered`, `sms.received`, `call.completed`.
    public var type: String
    /// The tenant that owns the event; endpoints only receive their own account's events.
    public var account: String
    /// When it happened on the platform.
    public var occurredAt: Timestamp
    /// The event's payload, in the platform's key order.
    public var data: JSONObject
    /// A one-off destination for this event alone (EK SMS's per-send `callbackUrl`).
    public var callbackUrl: String?

    /// - Parameters:
    ///   - id: the platform's id; by default a fresh random `evt_…` id.
    public init(
        id: String = Event.newID(), type: String, account: String, occurredAt: Timestamp,
        data: JSONObject = JSONObject(), callbackUrl: String? = nil
    ) {
        self.id = id
        self.type = type
        self.account = account
        self.occurredAt = occurredAt
        self.data = data
        self.callbackUrl = callbackUrl
    }

    private static let base32 = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// A fresh event id: `evt_` and 26 characters of Crockford base 32 (130 random bits) from the
    /// system CSPRNG.
    public static func newID() -> String {
        var rng = SystemRandomNumberGenerator()
        return "evt_" + String((0..<26).map { _ in base32[Int(rng.next() % 32)] })
    }
}
