import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics bootstrap, done once by each executable's `main`
/// (libraries never bootstrap).
public enum Observability {
    /// The registry every metric lands in; `/metrics` renders it.
    public static let registry = PrometheusCollectorRegistry()

    /// Sets up swift-log (human-readable, or one JSON object per line when `json` is true) and
    /// swift-metrics backed by Prometheus.
    public static func bootstrap(service: String, level: Logger.Level, json: Bool) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                json
                ? JSONLogHandler(label: label, service: service)
                : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// Reads `HERALD_LOG_LEVEL` (default info) and `HERALD_LOG_FORMAT` (`text` or `json`).
    public static func bootstrap(service: String, environment: ServiceEnvironment) throws(ConfigurationError) {
        let levelText = try environment.choice(
            "HERALD_LOG_LEVEL", default: "info",
            among: Logger.Level.allCases.map(\.rawValue))
        let format = try environment.choice("HERALD_LOG_FORMAT", default: "text", among: ["text", "json"])
        bootstrap(service: service, level: Logger.Level(rawValue: levelText) ?? .info, json: format == "json")
    }
}

/// Writes each log record as one JSON object on standard error, for log shippers.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let service: String

    public init(label: String, service: String) {
        self.label = label
        self.service = service
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var record: [String: String] = [
            "time": ISO8601DateFormatter().string(from: Date()),
            "level": event.level.rawValue,
            "service": service,
            "logger": label,
            "message": "\(event.message)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            record[key] = "\(value)"
        }
        guard var line = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        line.append(0x0A)
        FileHandle.standardError.write(line)
    }
}
