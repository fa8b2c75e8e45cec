import Foundation

/// A real HTTP server on 127.0.0.1 for one test: `Fixtures/receiver.py` in a child process
/// (its modes are listed at the top of that file). It exits when its stdin closes, i.e. when this
/// object is released or the test process dies.
///
/// ```swift
/// let receiver = try await TestReceiver.start()
/// let url = receiver.url("/status/503")   // http://127.0.0.1:<port>/status/503
/// ```
public final class TestReceiver: Sendable {
    public let port: Int
    private let process: Process
    private let stdin: Pipe

    /// Starts a receiver; the blocking spawn and port read happen off the cooperative pool, which
    /// the engine needs free to resume callers on time.
    public static func start() async throws -> TestReceiver {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try TestReceiver() }) }.start()
        }
    }

    private init() throws {
        // Found through this source file's path: the fixture is excluded from the target, so it
        // is read from the source tree rather than a resource bundle.
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
        // Only the first line: reading the pipe to end-of-file would wait for the receiver to exit.
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

    /// The receiver's URL for `path`, e.g. `url("/slow/300")`.
    public func url(_ path: String, host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    public struct ReceiverError: Error, CustomStringConvertible {
        public let message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }
}

/// What `/stats` reports: connections accepted and requests answered (excluding `/stats`).
public struct ReceiverStats: Decodable, Equatable, Sendable {
    public let connections: Int
    public let requests: Int

    public init(connections: Int, requests: Int) {
        self.connections = connections
        self.requests = requests
    }
}

/// What `/echo` reports about the request it got.
public struct EchoReply: Decodable, Sendable {
    public let headers: [[String]]
    public let bodyHex: String
    public let length: Int

    /// receiver.py's keys.
    enum CodingKeys: String, CodingKey {
        case headers, length
        case bodyHex = "body_hex"
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0[0].lowercased() == name.lowercased() }?[1]
    }

    public var bodyBytes: [UInt8] {
        var bytes: [UInt8] = []
        var index = bodyHex.startIndex
        while index < bodyHex.endIndex {
            let next = bodyHex.index(index, offsetBy: 2)
            bytes.append(UInt8(bodyHex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
