import HeraldCore

/// What came back from one delivery attempt: a response, a transport error, or (rarely) both.
///
/// - `status != nil, error == nil`: the receiver answered.
/// - `status == nil, error != nil`: no response (timeout before headers, refused, DNS, TLS …).
/// - both set: the status line arrived, then the transfer failed (e.g. the body stalled until the
///   timeout). Classification trusts the status the receiver sent.
public struct DeliveryResponse: Sendable, Hashable {
    /// The HTTP status of the final response, if one arrived.
    public var status: Int?
    /// The final response's headers (up to 100), in order.
    public var headers: [HTTPHeader]
    /// The first bytes of the response body (1 KB by default), for the attempt record.
    public var bodyPrefix: [UInt8]
    /// Time from handing the transfer to curl until it finished.
    public var latency: Duration
    /// Why the transfer failed, if it did.
    public var error: DeliveryError?
    /// New connections this transfer opened: 0 when it reused a kept-alive one.
    public var newConnections: Int
    /// The HTTP version used (`"1.1"`, `"2"`), if a response arrived.
    public var httpVersion: String?

    public init(
        status: Int?, headers: [HTTPHeader] = [], bodyPrefix: [UInt8] = [], latency: Duration = .zero,
        error: DeliveryError? = nil, newConnections: Int = 0, httpVersion: String? = nil
    ) {
        self.status = status
        self.headers = headers
        self.bodyPrefix = bodyPrefix
        self.latency = latency
        self.error = error
        self.newConnections = newConnections
        self.httpVersion = httpVersion
    }

    /// A response that never started, e.g. refused before any I/O.
    public static func failed(_ error: DeliveryError, latency: Duration = .zero) -> DeliveryResponse {
        DeliveryResponse(status: nil, latency: latency, error: error)
    }

    /// The value of the first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }

    /// `latency` in whole nanoseconds (the latency histogram); the attempt record's
    /// milliseconds are this divided by 1 000 000.
    public var latencyNanoseconds: Int64 {
        let (seconds, attoseconds) = latency.components
        return Int64(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// The body prefix as text (invalid UTF-8 repaired), for logs and attempt records.
    public var bodySnippet: String { String(decoding: bodyPrefix, as: UTF8.self) }
}
