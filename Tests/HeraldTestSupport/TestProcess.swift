import Foundation

/// Runs helper programs (rabbitmqctl, node, curl, the built binaries) from tests.
///
/// Output goes to temporary files, never pipes: tests run in parallel, and a pipe's write end
/// inherited by a child that another test spawns at the same moment (a receiver that lives for
/// the whole test) keeps the pipe open, so reading it to end-of-file never returns.
public enum TestProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: Data
        public let stderr: Data
        /// Standard output as text.
        public var output: String { String(decoding: stdout, as: UTF8.self) }
        /// Standard error as text.
        public var errors: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `executable` to completion.
    ///
    /// - Parameters:
    ///   - executable: an absolute path, or a program name looked up on PATH.
    ///   - environment: the child's whole environment; the test's own when nil.
    ///   - input: bytes for its standard input (empty input when nil).
    ///   - mergeErrors: write standard error into the same file as standard output.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           input: Data? = nil, mergeErrors: Bool = false) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("out"), errURL = directory.appendingPathComponent("err")
        let inURL = directory.appendingPathComponent("in")
        for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        _ = FileManager.default.createFile(atPath: inURL.path, contents: input ?? Data())

        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let environment { process.environment = environment }
        let out = try FileHandle(forWritingTo: outURL)
        let err = mergeErrors ? out : try FileHandle(forWritingTo: errURL)
        let stdin = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        process.waitUntilExit()
        try? out.close()
        if !mergeErrors { try? err.close() }
        try? stdin.close()
        return Result(status: process.terminationStatus,
                      stdout: (try? Data(contentsOf: outURL)) ?? Data(),
                      stderr: mergeErrors ? Data() : (try? Data(contentsOf: errURL)) ?? Data())
    }
}
