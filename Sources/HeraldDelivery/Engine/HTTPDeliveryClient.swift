import Foundation
import Logging

/// Delivers webhooks over HTTP with libcurl's multi interface: hundreds of concurrent POSTs on
/// one dedicated thread, kept-alive connections per host, HTTP/2 where the receiver offers it
/// over TLS, a shared DNS cache, no redirects followed, and every connection's address checked
/// by a `DestinationGuard` after DNS resolution.
///
/// curl's handles are single-owner and blocking, so they live on the engine's own thread and
/// never touch the cooperative pool; `send` queues the request, wakes the thread and suspends
/// until the transfer finishes.
///
/// ```swift
/// let client = HTTPDeliveryClient(configuration: .init(destinationGuard: guard))
/// let response = await client.send(DeliveryRequest(url: url, body: bytes, headers: headers, policy: policy))
/// let outcome = DeliveryDecision.decide(response, policy: policy, attempt: job.attempt, now: .now())
/// …
/// await client.shutdown(gracePeriod: .seconds(10))
/// ```
public final class HTTPDeliveryClient: Sendable {
    /// How the engine behaves; the defaults suit a worker delivering to many hosts.
    public struct Configuration: Sendable {
        /// Sent unless the request carries its own `User-Agent`.
        public var userAgent: String
        /// Which addresses and schemes may be used.
        public var destinationGuard: DestinationGuard
        /// Connections per host:port (CURLMOPT_MAX_HOST_CONNECTIONS); more transfers to the
        /// same host wait inside curl for a free connection (their timeout keeps running).
        public var maxConnectionsPerHost: Int
        /// Idle connections kept alive across all hosts (CURLMOPT_MAXCONNECTS).
        public var maxCachedConnections: Int
        /// How long a resolved address is reused (CURLOPT_DNS_CACHE_TIMEOUT). The guard still
        /// checks every connection, so caching cannot bypass it.
        public var dnsCacheSeconds: Int
        /// How much of the response body is kept for the attempt record.
        public var responseBodyPrefixBytes: Int
        /// Beyond this many body bytes curl stops reading (the status is kept; the connection is
        /// closed), so a receiver cannot keep a transfer busy by streaming.
        public var maxResponseBytes: Int
        /// Easy handles kept for reuse once their transfer finishes.
        public var idleHandlePoolSize: Int
        /// A CA bundle to trust instead of the system's (tests with a private CA).
        public var caBundlePath: String?

        public init(
            userAgent: String = "Herald/\(heraldVersion)",
            destinationGuard: DestinationGuard = DestinationGuard(),
            maxConnectionsPerHost: Int = 128,
            maxCachedConnections: Int = 1024,
            dnsCacheSeconds: Int = 60,
            responseBodyPrefixBytes: Int = 1024,
            maxResponseBytes: Int = 1 << 20,
            idleHandlePoolSize: Int = 512,
            caBundlePath: String? = nil
        ) {
            self.userAgent = userAgent
            self.destinationGuard = destinationGuard
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.maxCachedConnections = maxCachedConnections
            self.dnsCacheSeconds = dnsCacheSeconds
            self.responseBodyPrefixBytes = responseBodyPrefixBytes
            self.maxResponseBytes = maxResponseBytes
            self.idleHandlePoolSize = idleHandlePoolSize
            self.caBundlePath = caBundlePath
        }
    }

    public let configuration: Configuration
    private let inbox = EngineInbox()

    /// Starts the engine thread.
    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "herald.delivery")) {
        self.configuration = configuration
        let inbox = self.inbox
        let thread = Thread {
            var loop: CurlMultiLoop? = CurlMultiLoop(configuration: configuration, inbox: inbox, logger: logger)
            let waiters = loop!.run()
            loop = nil  // frees the multi handle before anyone hears the engine stopped
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "herald-curl"
        thread.start()
    }

    deinit {
        // No `send` can be in flight (each holds the client), so nothing is left to finish.
        inbox.beginDraining(deadline: .now)
    }

    /// POSTs `request` and returns what happened. Never throws: failures are values in
    /// `DeliveryResponse.error` (timeouts, refusals, TLS …).
    ///
    /// Cancelling the calling task abandons the transfer (`error.code == .cancelled`).
    /// After `shutdown` begins, returns `.cancelled` at once.
    public func send(_ request: DeliveryRequest) async -> DeliveryResponse {
        if let refusal = configuration.destinationGuard.refusal(forURL: request.url) {
            return .failed(DeliveryError(.refusedDestination, refusal.reason))
        }
        // Scalars, not Characters: "\r\n" is a single Character that equals neither "\r" nor "\n".
        for header in request.headers
        where header.name.isEmpty || header.name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" })
            || header.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" })
        {
            return .failed(
                DeliveryError(
                    .invalidRequest,
                    "header '\(header.name.prefix(64))' contains CR, LF or ':' in its name, or CR, LF or NUL in its value"))
        }
        let id = inbox.makeID()
        let inbox = self.inbox
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let submission = EngineInbox.Submission(id: id, request: request, continuation: continuation)
                if !inbox.submit(submission) {
                    let reason = Task.isCancelled ? "cancelled before it started" : "the delivery engine is shutting down"
                    continuation.resume(returning: .failed(DeliveryError(.cancelled, reason)))
                }
            }
        } onCancel: {
            inbox.cancel(id)
        }
    }

    /// Stops accepting requests, lets in-flight transfers finish for up to `gracePeriod`, then
    /// abandons the rest (their callers get `.cancelled`) and frees every curl handle.
    /// Returns when the engine thread is done. Safe to call more than once.
    public func shutdown(gracePeriod: Duration) async {
        inbox.beginDraining(deadline: .now + gracePeriod)
        await inbox.waitUntilStopped()
    }
}
