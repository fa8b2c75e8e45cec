import Foundation
import GRDB
import HeraldCore

/// The embedded store: one SQLite file in WAL mode through a GRDB `DatabasePool`, so readers
/// (the API's GETs, the signer in another process) never wait for the writer.
///
/// ```swift
/// let store = try SQLiteStore(path: "herald.sqlite")                  // herald-ingest: migrates, writes
/// let directory = try SQLiteStore(path: "herald.sqlite", readOnly: true) // herald-signer: reads only
/// let endpoints = try await directory.endpoints(account: "acct_1")
/// ```
public final class SQLiteStore: IngestStore {
    let pool: DatabasePool
    /// Whether this handle was opened read-only (no migrations, no writes).
    public let isReadOnly: Bool

    /// Opens (and, unless `readOnly`, creates and migrates) the database at `path`.
    ///
    /// - Parameters:
    ///   - readOnly: open without write access, for processes that only read (the signer); the
    ///     file must exist and have been migrated by a writer.
    /// - Throws: `StoreError` of kind `.database` naming the path.
    public init(path: String, readOnly: Bool = false) throws(StoreError) {
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(5)
        config.label = "herald.store"
        do {
            pool = try DatabasePool(path: path, configuration: config)
            if !readOnly { try SQLiteStore.migrator.migrate(pool) }
        } catch {
            throw StoreError(.database, "cannot open '\(path)'\(readOnly ? " read-only" : ""): \(error)")
        }
        isReadOnly = readOnly
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await storeErrors { try await pool.write(body) }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        try await storeErrors { try await pool.read(body) }
    }

    /// Runs a database access, passing `StoreError`s through and wrapping any other error (GRDB's,
    /// a decoding failure) as `.database`.
    private func storeErrors<T>(_ access: () async throws -> T) async throws(StoreError) -> T {
        do { return try await access() } catch let error as StoreError { throw error } catch {
            throw StoreError(.database, "\(error)")
        }
    }

    public func ping() async -> Bool {
        (try? await read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }
}
