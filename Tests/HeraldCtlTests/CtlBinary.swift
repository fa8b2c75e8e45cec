import Foundation
import HeraldCore
import HeraldTestSupport

/// Runs the built `heraldctl` executable, as an operator would.
///
/// The binary sits in the build products directory next to the test bundle, whatever the
/// scratch path (`.build`, `.build-ctl`, a mirror package in /tmp): search upward from this
/// test process's own executable.
enum CtlBinary {
    struct NotFound: Error, CustomStringConvertible {
        let searched: [String]
        var description: String {
            "heraldctl executable not found (looked in \(searched.joined(separator: ", "))); build it with the tests"
        }
    }

    static func path() throws -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        var searched: [String] = []
        for _ in 0..<8 {
            for candidate in [dir.appendingPathComponent("heraldctl"), dir.appendingPathComponent("debug/heraldctl")] {
                searched.append(candidate.path)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            }
            dir = dir.deletingLastPathComponent()
        }
        throw NotFound(searched: searched)
    }

    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

        /// stdout read as one JSON value per line (unparsable lines dropped).
        var jsonLines: [JSONValue] {
            var values: [JSONValue] = []
            for line in stdout.split(separator: "\n") {
                if let v = try? JSONValue.parse(String(line)) { values.append(v) }
            }
            return values
        }

        /// The string field `key` of every JSON line.
        func strings(_ key: String) -> [String] {
            var out: [String] = []
            for v in jsonLines { if let s = v[key]?.stringValue { out.append(s) } }
            return out
        }
    }

    /// The environment for a child: only what heraldctl reads, pointed at `amqpURL`.
    static func environment(amqpURL: String?, extra: [String: String] = [:]) -> [String: String] {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        if let amqpURL { env["HERALD_AMQP_URL"] = amqpURL }
        env.merge(extra) { _, new in new }
        return env
    }

    /// Runs to completion and captures both streams.
    static func run(_ arguments: [String], amqpURL: String?, extra: [String: String] = [:], stdin: String? = nil) throws -> Result
    {
        let result = try TestProcess.run(
            try path(), arguments, environment: environment(amqpURL: amqpURL, extra: extra),
            input: stdin.map { Data($0.utf8) })
        return Result(status: result.status, stdout: result.output, stderr: result.errors)
    }

    /// Starts without waiting; the caller kills or waits.
    /// `stdout`/`stderr` are a `Pipe` or a `FileHandle` (a file is safer to read to its end: see `TestProcess`).
    static func spawn(_ arguments: [String], amqpURL: String?, stdout: Any? = nil, stderr: Any? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        process.environment = environment(amqpURL: amqpURL)
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        try process.run()
        return process
    }
}
