import HeraldDelivery

/// How a worker names a delivery failure in a dead letter's `herald-reason` header.
enum WorkerMessages {
    /// The short dead-letter reason for a failure.
    static func deadReason(_ reason: FailureReason) -> String {
        if reason.disablesEndpoint { return "gone" }
        if reason.exhausted { return "retries-exhausted" }
        if reason.label == DeliveryError.Code.refusedDestination.description { return "destination-refused" }
        if reason.label == DeliveryError.Code.invalidRequest.description { return "invalid-request" }
        return "permanent-failure"
    }
}
