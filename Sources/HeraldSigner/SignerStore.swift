import Foundation
import HeraldService
import HeraldStore
import Logging
import ServiceLifecycle

/// Opening the store herald-signer reads. herald-ingest creates and migrates it, and services
/// start in any order (systemd, compose, Kubernetes), so a store that does not exist yet is waited
/// for, not an error. A path that can never become a readable store is a configuration error
/// naming `HERALD_DATABASE_PATH`.
///
/// ```swift
/// try SignerStore.checkPath(configuration.databasePath)         // at startup: exit 2 if hopeless
/// guard let store = try await SignerStore.open(path: configuration.databasePath, logger: logger)
/// else { return }                                                // shut down while waiting
/// ```
public enum SignerStore {
    /// What is at the store's path now, when nothing is wrong with it.
    enum State: Equatable, Sendable {
        /// No file yet: herald-ingest has not created it.
        case missing
        /// A file that is, or is becoming, an SQLite database.
        case present
    }

    /// Fails when `path` can never become a readable store: its directory does not exist, is not
    /// a directory or cannot be searched; or the file is not a regular file, not readable, or not
    /// an SQLite database. A missing file is fine (herald-ingest creates it).
    public static func checkPath(_ path: String) throws(ConfigurationError) {
        _ = try state(of: path)
    }

    static func state(of path: String) throws(ConfigurationError) -> State {
        func unusable(_ problem: String) -> ConfigurationError {
            ConfigurationError(key: "HERALD_DATABASE_PATH", problem: problem)
        }
        func reason() -> String { String(cString: strerror(errno)) }
        let file = URL(fileURLWithPath: path)
        let directory = file.deletingLastPathComponent().path
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw unusable(
                errno == ENOENT || errno == ENOTDIR
                    ? "the directory \(directory) does not exist (herald-ingest creates the store file, not its directory)"
                    : "cannot reach the directory \(directory): \(reason())")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw unusable("\(directory) is not a directory") }
        guard access(directory, X_OK) == 0 else { throw unusable("cannot enter the directory \(directory): \(reason())") }
        guard stat(file.path, &info) == 0 else {
            if errno == ENOENT { return .missing }
            throw unusable("cannot reach \(file.path): \(reason())")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw unusable("\(file.path) is not a regular file") }
        guard access(file.path, R_OK) == 0 else { throw unusable("cannot read \(file.path): \(reason())") }
        // Shorter than the header: herald-ingest is creating it right now.
        let header = FileHandle(forReadingAtPath: file.path).flatMap { try? $0.read(upToCount: 16) } ?? Data()
        if header.count == 16, header != Data("SQLite format 3\0".utf8) {
            throw unusable("\(file.path) is not an SQLite database")
        }
        return .present
    }

    /// Waits until herald-ingest has created and migrated the store at `path`, then opens it
    /// read-only. Checks again after `initialDelay`, doubling up to `maxDelay`; says what it waits
    /// for when that changes, and again every `remindEvery`.
    ///
    /// - Returns: the store, or nil when a graceful shutdown (or cancellation) came first.
    /// - Throws: `ConfigurationError` naming `HERALD_DATABASE_PATH` when the path turns out
    ///   unusable (see `checkPath`).
    public static func open(
        path: String, logger: Logger, initialDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(5), remindEvery: Duration = .seconds(30)
    ) async throws -> SQLiteStore? {
        let started = ContinuousClock.now
        var delay = initialDelay
        var waitingFor: String?
        var lastSaid = started
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now: String
            var error: (any Error)?
            switch try state(of: path) {
            case .missing:
                now = "waiting for the store at \(path) (created by herald-ingest)"
            case .present:
                do {
                    let store = try SQLiteStore(path: path, readOnly: true)
                    if await store.isMigrated() {
                        if waitingFor != nil { logger.info("store ready", metadata: ["store.path": "\(path)"]) }
                        return store
                    }
                    now = "waiting for herald-ingest to finish creating the store at \(path)"
                } catch let failure {
                    // Opened while ingest creates it, or a passing lock: try again.
                    now = "cannot open the store at \(path) yet; retrying"
                    error = failure
                }
            }
            let clock = ContinuousClock.now
            if now != waitingFor || clock - lastSaid >= remindEvery {
                var metadata: Logger.Metadata = ["store.path": "\(path)"]
                if let error { metadata["error"] = "\(error)" }
                if waitingFor != nil { metadata["signer.waited"] = "\((clock - started).components.seconds)s" }
                // A reminder of the same wait, or a failure, is a warning.
                logger.log(level: error != nil || now == waitingFor ? .warning : .info, "\(now)", metadata: metadata)
                waitingFor = now
                lastSaid = clock
            }
            let pause = delay
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            delay = min(delay * 2, maxDelay)
        }
        return nil
    }
}
