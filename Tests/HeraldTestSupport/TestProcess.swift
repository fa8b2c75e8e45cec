import Foundation

/// Runs helper programs (rabbitmqctl, node, curl, the built binaries) from tests.
///
/// Output goes to temporary files, never pipes: tests run in parallel, and a pipe's write end
/// inherited by a child that another test spawns at the same moment (a receiver that lives for
/// the whole test) keeps the pipe open, so reading it to end-of-file never returns.
public enum TestProcess {
    public struct SpawnFailed: Error, CustomStringConvertible {
        public let command: String
        public let errno: Int32
        public var description: String { "could not start `\(command)`: \(String(cString: strerror(errno)))" }
    }

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
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        input: Data? = nil, mergeErrors: Bool = false
    ) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("out"), errURL = directory.appendingPathComponent("err")
        let inURL = directory.appendingPathComponent("in")
        for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        _ = FileManager.default.createFile(atPath: inURL.path, contents: input ?? Data())

        // posix_spawn and waitpid, not Foundation's Process: `waitUntilExit` needs a libdispatch
        // thread to notice the exit, and with every thread of a 2-core pool blocked in it the
        // suite deadlocked.
        let argv = (executable.hasPrefix("/") ? [executable] : ["/usr/bin/env", executable]) + arguments
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inURL.path, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outURL.path, O_WRONLY | O_TRUNC, 0o600)
        if mergeErrors {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, errURL.path, O_WRONLY | O_TRUNC, 0o600)
        }
        var pid: pid_t = 0
        let spawned = withCStrings(argv) { cArgv in
            withCStrings(env) { cEnv in posix_spawn(&pid, argv[0], &actions, nil, cArgv, cEnv) }
        }
        guard spawned == 0 else {
            throw SpawnFailed(command: argv.joined(separator: " "), errno: spawned)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, spelled out (they are macros); a signal shows as 128 + signal.
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(
            status: exitStatus,
            stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: mergeErrors ? Data() : (try? Data(contentsOf: errURL)) ?? Data())
    }
}

/// Runs `body` with `strings` as a NULL-terminated C array.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}

extension Process {
    /// Waits for the process to end without blocking a thread: async tests must never call
    /// `waitUntilExit()`, which parks a thread of the small cooperative pool until libdispatch
    /// (which may need that very thread) reports the exit.
    public func waitForExit(timeout: Duration = .seconds(60)) async {
        let deadline = ContinuousClock.now + timeout
        while isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
