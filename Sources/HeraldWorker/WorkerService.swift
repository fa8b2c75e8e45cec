import Foundation
import HeraldService
import Logging
import ServiceLifecycle

/// The whole `herald-worker` process: the delivery worker and the ops server in one
/// `ServiceGroup` that shuts down gracefully on SIGTERM or SIGINT.
public enum WorkerService {
    /// Runs until a signal (or a fatal error) stops it.
    public static func run(configuration: WorkerConfiguration, logger: Logger) async throws {
        let worker = DeliveryWorker(configuration: configuration, logger: logger)
        let ops = OpsServer.application(host: configuration.opsHost, port: configuration.opsPort, logger: logger) {
            worker.isReady
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: ops),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
