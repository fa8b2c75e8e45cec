import HeraldCore

/// What a worker does with a job after one attempt.
public enum DeliveryOutcome: Sendable, Hashable {
    /// 2xx: ack.
    case delivered
    /// Publish to `plan.tier` with the next attempt number and `plan.notBefore`, then ack.
    case retry(RetryPlan)
    /// Publish to `herald.dead` with the reason, then ack. Disable the endpoint when
    /// `reason.disablesEndpoint`.
    case dead(FailureReason)
    /// The transfer was abandoned (shutdown, cancellation): not an attempt. Hand the job back
    /// unacked so another worker delivers it.
    case abandoned(FailureReason)

    /// The circuit breaker's verdict on the attempt, decided with the outcome: false when it says
    /// the endpoint is unhealthy (timed out, unreachable, 5xx, 429, whatever the policy then made
    /// of it), true when the receiver answered sanely (2xx, or a 4xx rejecting one request), nil
    /// when there was no attempt (abandoned).
    public var endpointHealthy: Bool? {
        switch self {
        case .delivered: return true
        case .retry(let plan): return !plan.reason.indicatesUnhealthyEndpoint
        case .dead(let reason): return !reason.indicatesUnhealthyEndpoint
        case .abandoned: return nil
        }
    }
}

/// Classifies attempts: pure, so the worker and the tests share one definition of success.
///
/// Rules, in order:
/// 1. A cancelled transfer is `.abandoned` (no attempt spent).
/// 2. A 2xx status is `.delivered`, even if the body then stalled (the receiver said yes).
/// 3. 410 Gone is `.dead` and disables the endpoint; other 4xx (except 429), 3xx (redirects are
///    not followed), refused destinations and invalid requests are `.dead` at once.
/// 4. 5xx, 429, timeouts and connection errors retry only when the policy's `retryOn` names them,
///    only while `attempt < policy.maxAttempts`, and never sooner than `Retry-After` asks.
///
/// The outcome also carries the circuit breaker's verdict (`DeliveryOutcome.endpointHealthy`),
/// so a worker judges the endpoint's health from the same decision.
///
/// ```swift
/// switch DeliveryDecision.decide(response, policy: job.policy, attempt: job.attempt, now: Timestamp()) {
/// case .delivered: ack()
/// case .retry(let plan): publishRetry(tier: plan.tier, attempt: plan.nextAttempt, notBefore: plan.notBefore)
/// case .dead(let reason): publishDead(reason)
/// case .abandoned: nackRequeue()
/// }
/// ```
public enum DeliveryDecision {
    /// Why `response` is not a delivery, or nil when it is (2xx). Independent of any policy.
    public static func failure(of response: DeliveryResponse, now: Timestamp) -> FailureReason? {
        if let status = response.status {
            if (200..<300).contains(status) { return nil }
            if response.error == nil || status >= 300 {
                return failure(status: status, response: response, now: now)
            }
        }
        guard let error = response.error else {
            return FailureReason(label: "no_response", message: "no response and no error", condition: .connectionError)
        }
        switch error.code {
        case .timeout:
            return FailureReason(label: error.label, message: error.message, condition: .timeout, errorCode: error.code)
        case .connectionRefused, .dns, .tls, .connectionFailed, .other:
            return FailureReason(label: error.label, message: error.message, condition: .connectionError, errorCode: error.code)
        default:  // refused destination, invalid request, cancelled: nothing to retry
            return FailureReason(label: error.label, message: error.message, errorCode: error.code)
        }
    }

    private static func failure(status: Int, response: DeliveryResponse, now: Timestamp) -> FailureReason {
        let retryAfter = response.header("Retry-After").flatMap { RetryAfter.seconds(from: $0, now: now) }
        let label = "http_\(status)"
        switch status {
        case 410:
            return FailureReason(
                label: label, message: "receiver answered 410 Gone: the endpoint is gone for good", status: status,
                disablesEndpoint: true)
        case 429:
            return FailureReason(
                label: label, message: "receiver answered 429 Too Many Requests", status: status,
                condition: .tooManyRequests, retryAfterSeconds: retryAfter)
        case 500..<600:
            return FailureReason(
                label: label, message: "receiver answered \(status)", status: status, condition: .serverError,
                retryAfterSeconds: retryAfter)
        case 300..<400:
            let location = response.header("Location").map { " to \($0.prefix(200))" } ?? ""
            return FailureReason(
                label: label, message: "receiver answered \(status) redirect\(location); redirects are not followed",
                status: status)
        default:
            return FailureReason(label: label, message: "receiver answered \(status)", status: status)
        }
    }

    /// The outcome of attempt number `attempt` (1 = the first), given the job's policy.
    ///
    /// - Parameters:
    ///   - now: the wall-clock time, for `Retry-After` dates and `RetryPlan.notBefore`.
    ///   - backoff: jitter and limits; the default suits production.
    ///   - rng: randomness for the jitter; pass a seeded generator in tests.
    public static func decide(
        _ response: DeliveryResponse, policy: RetryPolicy, attempt: Int, now: Timestamp,
        backoff: Backoff = Backoff(), using rng: inout some RandomNumberGenerator
    ) -> DeliveryOutcome {
        if response.error?.code == .cancelled, response.status.map({ (200..<300).contains($0) }) != true {
            return .abandoned(FailureReason(label: "cancelled", message: response.error!.message))
        }
        guard var reason = failure(of: response, now: now) else { return .delivered }
        guard let condition = reason.condition else { return .dead(reason) }
        guard policy.retryOn.contains(condition) else {
            reason.message += "; the endpoint's retry policy does not retry \(condition.rawValue)"
            return .dead(reason)
        }
        guard attempt < policy.maxAttempts else {
            reason.exhausted = true
            reason.message = "gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"); last: \(reason.message)"
            return .dead(reason)
        }
        if let asked = reason.retryAfterSeconds, asked > backoff.maxRetryAfterSeconds {
            reason.message +=
                "; it asked to wait \(Int(min(asked, 1e15))) s (Retry-After), longer than the \(Int(backoff.maxRetryAfterSeconds)) s Herald waits"
            return .dead(reason)
        }
        let plan = backoff.plan(
            afterAttempt: attempt, policy: policy, retryAfterSeconds: reason.retryAfterSeconds, now: now, using: &rng)
        return .retry(RetryPlan(reason: reason, nextAttempt: attempt + 1, delay: plan))
    }

    /// `decide` with the system's random number generator.
    public static func decide(
        _ response: DeliveryResponse, policy: RetryPolicy, attempt: Int, now: Timestamp, backoff: Backoff = Backoff()
    ) -> DeliveryOutcome {
        var rng = SystemRandomNumberGenerator()
        return decide(response, policy: policy, attempt: attempt, now: now, backoff: backoff, using: &rng)
    }
}

/// When and how a failed job is tried again.
public struct RetryPlan: Sendable, Hashable {
    /// Why the last attempt failed.
    public var reason: FailureReason
    /// The number of the attempt to make next (2 after the first failure).
    public var nextAttempt: Int
    /// The wait, its tier and the absolute time.
    public var delay: RetryDelay

    /// The delay queue to park the job in.
    public var tier: DelayTier { delay.tier }
    /// The earliest time the next attempt may be made.
    public var notBefore: Timestamp { delay.notBefore }
}
