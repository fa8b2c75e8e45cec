import Foundation
import HeraldService
import HeraldSigner
import HeraldStore
import Logging
import Synchronization
import Testing

@Suite("Signer store opening (SQLite files in a temp directory, no broker)")
struct SignerStoreTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-signer-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @Test("a store that does not exist yet is waited for, and opened once herald-ingest has created it")
    func waitsForTheStore() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = path("herald.sqlite")
        try SignerStore.checkPath(path)  // missing is fine
        let returned = Atomic<Bool>(false)
        let opening = Task {
            defer { returned.store(true, ordering: .sequentiallyConsistent) }
            return try await SignerStore.open(
                path: path, logger: Logger(label: "test"),
                initialDelay: .milliseconds(20), maxDelay: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))
        let returnedEarly = returned.load(ordering: .sequentiallyConsistent)
        #expect(!returnedEarly, "open returned before the store existed")
        _ = try SQLiteStore(path: path)  // what herald-ingest does: create and migrate
        let store = try await opening.value
        #expect(store?.isReadOnly == true, "expected a read-only store, got \(String(describing: store))")
    }

    @Test("waiting ends without a store when the task is cancelled (shutdown)")
    func cancelledWhileWaiting() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let opening = Task {
            try await SignerStore.open(
                path: path("never.sqlite"), logger: Logger(label: "test"),
                initialDelay: .milliseconds(20), maxDelay: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(100))
        opening.cancel()
        let store = try await opening.value
        #expect(store == nil, "expected no store after cancellation, got one")
    }

    @Test("a path that can never become a store fails naming HERALD_DATABASE_PATH")
    func hopelessPaths() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let notSQLite = path("notes.txt")
        try Data(String(repeating: "not a database ", count: 4).utf8).write(to: URL(fileURLWithPath: notSQLite))
        let cases = [
            (path("no-such-dir/herald.sqlite"), "does not exist"),
            (notSQLite + "/herald.sqlite", "not a directory"),
            (notSQLite, "not an SQLite database"),
            (directory.path, "not a regular file"),
        ]
        for (path, expected) in cases {
            do {
                try SignerStore.checkPath(path)
                Issue.record("\(path): expected a configuration error containing '\(expected)', got none")
            } catch {
                #expect(
                    error.key == "HERALD_DATABASE_PATH" && error.problem.contains(expected),
                    "\(path): expected HERALD_DATABASE_PATH and '\(expected)', got \(error)")
            }
        }
        await #expect(throws: ConfigurationError.self) {
            _ = try await SignerStore.open(path: notSQLite, logger: Logger(label: "test"))
        }
    }
}
