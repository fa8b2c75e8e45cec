import Foundation

/// A real HTTP server on 127.0.0.1 for one test: `Fixtures/receiver.py` in a child process.
/// It exits when its stdin closes, i.e. when this object is released or the test process dies.
final class TestReceiver: Sendable {
    let port: Int
    private let process: Process
    private let stdin: Pipe

    /// Starts a receiver; the blocking spawn and port read happen off the cooperative pool, which
    /// the engine needs free to resume callers on time.
    static func start() async throws -> TestReceiver {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try TestReceiver() }) }.start()
        }
    }

    private init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/receiver.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw ReceiverError(message: "receiver.py did not print its port (got '\(String(decoding: line, as: UTF8.self))')")
        }
        self.port = port
        self.process = process
        self.stdin = stdin
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        process.terminate()
    }

    func url(_ path: String, host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    struct ReceiverError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// What `/stats` reports: connections accepted and requests answered (excluding `/stats`).
struct ReceiverStats: Decodable, Equatable {
    let connections: Int
    let requests: Int
}

