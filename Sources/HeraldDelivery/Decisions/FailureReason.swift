import HeraldCore

/// Why an attempt did not deliver: a sentence for people, a stable label for metrics and
/// headers, and the facts the retry decision needs.
public struct FailureReason: Sendable, Hashable, CustomStringConvertible {
    /// Low-cardinality form: `http_503`, `http_410`, `timeout`, `connection_refused`,
    /// `refused_destination` …
    public var label: String
    /// A sentence for the attempt record and the dead letter's headers.
    public var message: String
    /// The receiver's status, when it answered.
    public var status: Int?
    /// The policy condition this failure falls under; nil for failures no policy retries
    /// (4xx other than 429, refused destinations, invalid requests).
    public var condition: RetryCondition?
    /// The receiver said the endpoint is gone for good (410): disable the endpoint.
    public var disablesEndpoint: Bool
    /// How long the receiver asked to wait (`Retry-After`), in seconds.
    public var retryAfterSeconds: Double?
    /// The job ran out of attempts (set on the dead outcome only).
    public var exhausted: Bool
    /// The transport error's code when the failure is one (no usable response), nil when the
    /// receiver answered.
    public var errorCode: DeliveryError.Code?

    public init(
        label: String, message: String, status: Int? = nil, condition: RetryCondition? = nil,
        disablesEndpoint: Bool = false, retryAfterSeconds: Double? = nil, exhausted: Bool = false,
        errorCode: DeliveryError.Code? = nil
    ) {
        self.label = label
        self.message = message
        self.status = status
        self.condition = condition
        self.disablesEndpoint = disablesEndpoint
        self.retryAfterSeconds = retryAfterSeconds
        self.exhausted = exhausted
        self.errorCode = errorCode
    }

    /// The short reason a dead letter for this failure carries (its `herald-reason` header and
    /// the workers' dead-letter metric): `gone` (410), `retries-exhausted`, `destination-refused`,
    /// `invalid-request`, else `permanent-failure`.
    public var deadLetterReason: String {
        if disablesEndpoint { return "gone" }
        if exhausted { return "retries-exhausted" }
        if errorCode == .refusedDestination { return "destination-refused" }
        if errorCode == .invalidRequest { return "invalid-request" }
        return "permanent-failure"
    }

    /// Whether this failure says the endpoint is unhealthy (for the circuit breaker): it timed
    /// out, could not be reached, failed (5xx) or pushed back (429). A 4xx answer is a healthy
    /// receiver rejecting one request.
    public var indicatesUnhealthyEndpoint: Bool { condition != nil }

    public var description: String { message }
}
