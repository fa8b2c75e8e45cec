import HeraldService
import Logging
import ServiceLifecycle
import Synchronization

/// herald-signer as its executable runs it: waits for the store herald-ingest creates
/// (`SignerStore.open`), then runs a `SignerService` on it. Not ready (`/readyz`) until that
/// signer is consuming, so an orchestrator sees a signer waiting for its store as starting.
///
/// ```swift
/// let signer = SignerProcess(configuration: configuration, logger: logger)
/// let ops = OpsServer.application(port: configuration.opsPort, logger: logger) { signer.isReady }
/// // run both in a ServiceGroup
/// ```
public final class SignerProcess: Service, Sendable {
    public let configuration: SignerConfiguration
    let logger: Logger
    private let signer = Mutex<SignerService?>(nil)

    public init(configuration: SignerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Whether the store is open and the signer connected and consuming.
    public var isReady: Bool { signer.withLock { $0 }?.isReady ?? false }

    public func run() async throws {
        guard let store = try await SignerStore.open(path: configuration.databasePath, logger: logger) else { return }
        let signer = SignerService(configuration: configuration, directory: store, logger: logger)
        self.signer.withLock { $0 = signer }
        try await signer.run()
    }
}
