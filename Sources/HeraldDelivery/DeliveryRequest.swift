import HeraldCore

/// One POST to a receiver: the exact bytes and headers to send, and how long to wait.
///
/// The body and headers are sent as given (no re-encoding), so a signature computed over them
/// still verifies at the receiver. Herald adds only `User-Agent` (unless `headers` has one) and
/// `Content-Length`; it suppresses curl's `Expect: 100-continue` and its default form
/// `Content-Type`.
///
/// ```swift
/// let request = DeliveryRequest(
///     url: "https://example.com/hooks", body: Array(json.utf8),
///     headers: [HTTPHeader("Content-Type", "application/json")],
///     policy: endpoint.retryPolicy)
/// let response = await client.send(request)
/// ```
public struct DeliveryRequest: Sendable, Hashable {
    /// The receiver's URL (`https://…`, or `http://…` unless the guard is HTTPS-only).
    public var url: String
    /// The exact bytes to POST.
    public var body: [UInt8]
    /// Headers to send, in order (`HeraldCore.HTTPHeader`, as a `DeliveryJob` carries them).
    /// Names and values must not contain CR or LF.
    public var headers: [HTTPHeader]
    /// Longest time to establish the connection (TCP + TLS).
    public var connectTimeout: Duration
    /// Longest time for the whole request, connect included.
    public var timeout: Duration

    public init(
        url: String, body: [UInt8], headers: [HTTPHeader] = [],
        connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(10)
    ) {
        self.url = url
        self.body = body
        self.headers = headers
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    /// A request timed by a retry policy's `connectTimeoutMs` and `timeoutMs`.
    public init(url: String, body: [UInt8], headers: [HTTPHeader] = [], policy: RetryPolicy) {
        self.init(
            url: url, body: body, headers: headers,
            connectTimeout: .milliseconds(policy.connectTimeoutMs), timeout: .milliseconds(policy.timeoutMs))
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so a tiny positive timeout never becomes "no timeout" (0).
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(clamping: ms)
    }

    /// The duration in seconds as a `Double`.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
