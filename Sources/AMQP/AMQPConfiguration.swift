import Foundation

/// Where and how to connect: parsed from an AMQP URI.
///
/// ```swift
/// let config = try AMQPConfiguration(url: "amqp://herald:secret@rabbit:5672/herald?heartbeat=30",
///                                    connectionName: "herald-worker-1")
/// ```
///
/// Accepted query options: `heartbeat` (seconds, default 30), `connection_timeout` (ms, default 5000),
/// and for `amqps://`: `cacertfile`, `certfile`, `keyfile`, `verify` (`verify_peer` (default) or `verify_none`).
public struct AMQPConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String
    /// TLS settings; nil for plain `amqp://`.
    public var tls: TLS?
    /// Shown in the management UI's connection list ("connection_name" client property).
    public var connectionName: String
    /// Heartbeat interval negotiated with the broker; 0 disables heartbeats.
    public var heartbeatSeconds: Int
    /// Longest time to open the TCP/TLS connection and finish the handshake.
    public var connectTimeout: Duration
    /// How long a publish waits for its confirm, across reconnects, before it fails: with
    /// `.timeout` if it was never sent (nothing was accepted), `.unconfirmed` if it was.
    public var publishTimeout: Duration
    /// How long a publish waits while the broker blocks publishing (a memory or disk alarm)
    /// before it fails: `.blocked` if it was not sent (nothing was accepted), `.unconfirmed` if
    /// it was already on the wire (the broker may deliver it once the alarm clears). Short, so
    /// that callers answer quickly instead of holding requests for the whole `publishTimeout`.
    public var blockedPublishTimeout: Duration
    /// Reconnect backoff: the first delay, doubled on each failure up to `reconnectMaxDelay`.
    public var reconnectInitialDelay: Duration
    public var reconnectMaxDelay: Duration

    /// TLS options for `amqps://`.
    public struct TLS: Sendable {
        public var caCertificatePath: String?
        public var certificatePath: String?
        public var keyPath: String?
        public var verifyPeer: Bool
        public init(
            caCertificatePath: String? = nil, certificatePath: String? = nil,
            keyPath: String? = nil, verifyPeer: Bool = true
        ) {
            self.caCertificatePath = caCertificatePath
            self.certificatePath = certificatePath
            self.keyPath = keyPath
            self.verifyPeer = verifyPeer
        }
    }

    /// Parses `amqp://user:pass@host:port/vhost` or `amqps://…`.
    ///
    /// - Throws: `AMQPError.invalidConfiguration` naming what is wrong.
    public init(url: String, connectionName: String = "herald") throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw AMQPError(
                .invalidConfiguration, "invalid AMQP URL '\(Self.redacted(url))': expected amqp://user:pass@host:port/vhost")
        }
        guard scheme == "amqp" || scheme == "amqps" else {
            throw AMQPError(
                .invalidConfiguration, "invalid AMQP URL '\(Self.redacted(url))': scheme must be amqp or amqps, not '\(scheme)'")
        }
        let isTLS = scheme == "amqps"
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        port = components.port ?? (isTLS ? 5671 : 5672)
        guard (1...65_535).contains(port) else {
            throw AMQPError(.invalidConfiguration, "invalid AMQP URL: port \(port) is out of range")
        }
        user = components.user?.removingPercentEncoding ?? "guest"
        password = components.password?.removingPercentEncoding ?? "guest"
        // The path is "/vhost" with the vhost percent-encoded; no path means the default vhost "/".
        let path = components.percentEncodedPath
        if path.isEmpty || path == "/" {
            vhost = "/"
        } else {
            let raw = String(path.dropFirst())
            guard !raw.contains("/"), let decoded = raw.removingPercentEncoding else {
                throw AMQPError(
                    .invalidConfiguration, "invalid AMQP URL: vhost '\(raw)' must be one path segment (encode '/' as %2F)")
            }
            vhost = decoded
        }
        self.connectionName = connectionName
        heartbeatSeconds = 30
        connectTimeout = .seconds(5)
        publishTimeout = .seconds(30)
        blockedPublishTimeout = .seconds(1)
        reconnectInitialDelay = .milliseconds(100)
        reconnectMaxDelay = .seconds(10)
        tls = isTLS ? TLS() : nil

        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "heartbeat":
                guard let seconds = Int(value), seconds >= 0 else {
                    throw AMQPError(
                        .invalidConfiguration, "invalid AMQP URL: heartbeat must be a number of seconds, not '\(value)'")
                }
                heartbeatSeconds = seconds
            case "connection_timeout":
                guard let ms = Int(value), ms > 0 else {
                    throw AMQPError(
                        .invalidConfiguration, "invalid AMQP URL: connection_timeout must be milliseconds, not '\(value)'")
                }
                connectTimeout = .milliseconds(ms)
            case "cacertfile", "certfile", "keyfile", "verify":
                guard isTLS else {
                    throw AMQPError(.invalidConfiguration, "invalid AMQP URL: '\(item.name)' needs an amqps:// URL")
                }
                switch item.name {
                case "cacertfile": tls?.caCertificatePath = value
                case "certfile": tls?.certificatePath = value
                case "keyfile": tls?.keyPath = value
                default:
                    guard value == "verify_peer" || value == "verify_none" else {
                        throw AMQPError(
                            .invalidConfiguration, "invalid AMQP URL: verify must be verify_peer or verify_none, not '\(value)'")
                    }
                    tls?.verifyPeer = value == "verify_peer"
                }
            default:
                throw AMQPError(.invalidConfiguration, "invalid AMQP URL: unknown option '\(item.name)'")
            }
        }
    }

    /// The URL with its password hidden, for logs.
    public var description: String {
        let encodedVhost =
            vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_.~"))) ?? vhost
        return "\(tls == nil ? "amqp" : "amqps")://\(user):***@\(host):\(port)/\(encodedVhost)"
    }

    private static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
