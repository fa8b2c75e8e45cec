import AMQP
import Foundation

/// Reads a service's settings from environment variables, failing with a message that names the
/// setting and the problem.
///
/// ```swift
/// var env = ServiceEnvironment()
/// let url = env.string("HERALD_AMQP_URL", default: "amqp://guest:guest@127.0.0.1:5672/")
/// let concurrency = try env.integer("HERALD_WORKER_CONCURRENCY", default: 256, range: 1...4096)
/// ```
public struct ServiceEnvironment: Sendable {
    public let values: [String: String]

    /// - Parameter values: the variables to read; the process environment by default. When
    ///   `HERALD_CONFIG_FILE` names a file of `KEY=VALUE` lines, those fill in what the
    ///   environment does not set.
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        var merged = values
        if let path = values["HERALD_CONFIG_FILE"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError(key: "HERALD_CONFIG_FILE", problem: "cannot read '\(path)'")
            }
            for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                guard let equals = line.firstIndex(of: "=") else {
                    throw ConfigurationError(
                        key: "HERALD_CONFIG_FILE", problem: "line \(number + 1) of '\(path)' is not KEY=VALUE")
                }
                let key = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
                var value = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
                if merged[key] == nil { merged[key] = value }
            }
        }
        self.values = merged
    }

    /// The raw value, or nil when unset or empty.
    public func raw(_ key: String) -> String? {
        guard let value = values[key], !value.isEmpty else { return nil }
        return value
    }

    public func string(_ key: String, default defaultValue: String) -> String {
        raw(key) ?? defaultValue
    }

    public func integer(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = raw(key) else { return defaultValue }
        guard let value = Int(text) else {
            throw ConfigurationError(key: key, problem: "'\(text)' is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: key, problem: "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    public func bool(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let text = raw(key)?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(key: key, problem: "'\(text)' is not a boolean (use true or false)")
        }
    }

    /// A duration written as `250ms`, `5s`, `2m`, `1h` or `5d` (a bare number means seconds).
    public func duration(_ key: String, default defaultValue: Duration) throws(ConfigurationError) -> Duration {
        guard let text = raw(key) else { return defaultValue }
        guard let value = Self.parseDuration(text) else {
            throw ConfigurationError(key: key, problem: "'\(text)' is not a duration (e.g. 500ms, 10s, 5m, 1h, 5d)")
        }
        return value
    }

    /// One of `choices`.
    public func choice(_ key: String, default defaultValue: String, among choices: [String]) throws(ConfigurationError) -> String
    {
        guard let text = raw(key) else { return defaultValue }
        guard choices.contains(text) else {
            throw ConfigurationError(key: key, problem: "'\(text)' is not one of \(choices.joined(separator: ", "))")
        }
        return text
    }

    /// Checks the form of `HERALD_AMQP_URL` (scheme, port, vhost, options) when it is set, so a
    /// mistyped URL stops the service at startup naming the key, not at its first connection.
    public func checkAMQPURL() throws(ConfigurationError) {
        guard let url = raw("HERALD_AMQP_URL") else { return }
        do {
            _ = try AMQPConfiguration(url: url)
        } catch {
            throw ConfigurationError(key: "HERALD_AMQP_URL", problem: "\(error)")
        }
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400)]
        for (suffix, seconds) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return .milliseconds(Int64((number * seconds * 1000).rounded()))
        }
        guard let number = Double(text), number >= 0 else { return nil }
        return .milliseconds(Int64((number * 1000).rounded()))
    }
}

/// An invalid setting: printed at startup, and the service exits non-zero.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let key: String
    public let problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { "invalid configuration: \(key): \(problem)" }
}
