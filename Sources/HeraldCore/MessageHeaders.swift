/// The AMQP headers Herald sets on the messages it publishes, besides the dead-letter ones
/// (`DeadLetterHeaders`). Values are AMQP long strings or integers, so they carry ids of any
/// length; only the keys and the message properties are AMQP short strings (≤ 255 bytes).
public enum MessageHeaders {
    /// The event a message is about (jobs, attempt records, dead letters).
    public static let eventId = "herald-event-id"
    /// The endpoint a job or attempt record is for.
    public static let endpointId = "herald-endpoint-id"
    /// The attempt number a job is on (1 for the first).
    public static let attempt = "herald-attempt"
    /// The account (tenant) an event belongs to.
    public static let account = "herald-account"
    /// Why a job was parked in a delay tier without spending an attempt (`circuit_open`,
    /// `endpoint_busy`, `rate_limit`, `not_before`); absent on retries after a failed attempt.
    public static let parked = "herald-parked"
    /// The failure's stable label on a worker's dead letter (`timeout`, `http_status`…).
    public static let failureLabel = "herald-failure-label"
}
