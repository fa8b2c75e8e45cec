/// Why a delivery attempt got no usable response.
///
/// A struct over a small set of codes: `code` for branching, `label` for metric labels,
/// `message` for people (attempt records, dead-letter headers, logs).
public struct DeliveryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure. Compare with `==`: `error.code == .timeout`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String {
            case timeout, connectionRefused = "connection_refused", dns, tls
            case connectionFailed = "connection_failed", refusedDestination = "refused_destination"
            case invalidRequest = "invalid_request", cancelled, other
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The connect or total timeout expired.
        public static let timeout = Code(.timeout)
        /// Nothing listened at the address (TCP RST) or no route to it.
        public static let connectionRefused = Code(.connectionRefused)
        /// The host name did not resolve.
        public static let dns = Code(.dns)
        /// The TLS handshake or certificate check failed.
        public static let tls = Code(.tls)
        /// The connection broke mid-request (reset, empty reply, HTTP/2 stream error).
        public static let connectionFailed = Code(.connectionFailed)
        /// The destination guard refused the address or the URL scheme. Permanent.
        public static let refusedDestination = Code(.refusedDestination)
        /// The request itself is unusable (malformed URL, CR/LF in a header). Permanent.
        public static let invalidRequest = Code(.invalidRequest)
        /// The transfer was abandoned (task cancelled, client shut down): not an attempt.
        public static let cancelled = Code(.cancelled)
        /// Any other curl failure; treated like a connection error.
        public static let other = Code(.other)

        /// Short, stable form for metric labels and headers, e.g. `connection_refused`.
        public var description: String { base.rawValue }
    }

    public let code: Code
    /// A sentence saying what happened, e.g. "timed out after 1000 ms waiting for the response".
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Same as `code.description`: low-cardinality, for metrics.
    public var label: String { code.description }
    public var description: String { "\(code): \(message)" }
}
