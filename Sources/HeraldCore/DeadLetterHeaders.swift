/// The headers on every message in `herald.dead`, saying why it died. The body is the message
/// as it was (a `DeliveryJob` for delivery failures; the raw input for events the signer
/// could not read), so it can be inspected and replayed unchanged.
///
/// Header values are AMQP strings, except `attempts` and `lastStatus` (integers).
public enum DeadLetterHeaders {
    /// Short, stable reason: `retries-exhausted`, `permanent-failure`, `gone`, `destination-refused`,
    /// `endpoint-disabled`, `invalid-event`, `unknown-account`, `invalid-job`…
    public static let reason = "herald-reason"
    /// A sentence describing the last failure.
    public static let error = "herald-error"
    /// The receiver's last HTTP status code, when it answered.
    public static let lastStatus = "herald-last-status"
    /// Attempts made so far.
    public static let attempts = "herald-attempts"
    public static let endpointId = "herald-endpoint-id"
    public static let eventId = "herald-event-id"
    public static let eventType = "herald-event-type"
    public static let account = "herald-account"
    /// ISO 8601 time the message was dead-lettered.
    public static let deadAt = "herald-dead-at"
    /// Which process dead-lettered it: `herald-worker`, `herald-signer`.
    public static let source = "herald-source"
}
