/// How a delivery is timed out and retried: a profile's default, overridable per endpoint.
///
/// Wire form (inside a delivery job and an endpoint), e.g. EKDSend's default:
/// ```json
/// {"connectTimeoutMs":5000,"timeoutMs":5000,"delaysSeconds":[5,30,120,600,3600],
///  "retryOn":["connectionError","serverError","timeout","tooManyRequests"]}
/// ```
public struct RetryPolicy: Codable, Sendable, Hashable {
    /// Longest time to establish the connection (TCP + TLS), in milliseconds.
    public var connectTimeoutMs: Int
    /// Longest time for the whole request, connect included, in milliseconds.
    public var timeoutMs: Int
    /// The delay before each retry, in seconds: `delaysSeconds[0]` before attempt 2, and so on.
    /// Its count is the number of retries; empty means the first attempt is the only one.
    public var delaysSeconds: [Int]
    /// Which failures are worth another attempt; any other failure is permanent.
    public var retryOn: Set<RetryCondition>

    public init(connectTimeoutMs: Int, timeoutMs: Int, delaysSeconds: [Int], retryOn: Set<RetryCondition>) {
        self.connectTimeoutMs = connectTimeoutMs
        self.timeoutMs = timeoutMs
        self.delaysSeconds = delaysSeconds
        self.retryOn = retryOn
    }

    /// Attempts in all, the first one included.
    public var maxAttempts: Int { delaysSeconds.count + 1 }
}

/// A class of failed attempt that a policy may choose to retry.
public enum RetryCondition: String, Codable, Sendable, Hashable, CaseIterable {
    /// The receiver answered 5xx.
    case serverError
    /// The receiver answered 429 (its `Retry-After` is honoured).
    case tooManyRequests
    /// The request did not finish within the policy's timeout.
    case timeout
    /// DNS failure, connection refused or reset, TLS failure.
    case connectionError
}
