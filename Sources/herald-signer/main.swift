// herald-signer: events → one signed delivery job per subscribed endpoint; retries re-signed.
// Configuration: see SignerConfiguration (HERALD_AMQP_URL, HERALD_DATABASE_PATH, HERALD_OPS_PORT,
// HERALD_SIGNER_PREFETCH, HERALD_SIGNER_STORE_BACKOFF, HERALD_LOG_LEVEL, HERALD_LOG_FORMAT).
import HeraldService
import HeraldSigner
import Logging
import ServiceLifecycle

let process = ServiceMain("herald-signer")
let configuration = process.configuration { environment in
    let configuration = try SignerConfiguration(environment: environment)
    try SignerStore.checkPath(configuration.databasePath)
    return configuration
}
await process.run(logger: Logger(label: "herald.signer")) { logger in
    // The store may not exist yet (ingest creates it): the signer waits for it, not ready meanwhile.
    let signer = SignerProcess(configuration: configuration, logger: logger)
    let ops = OpsServer.application(host: configuration.opsHost, port: configuration.opsPort, logger: logger) {
        signer.isReady
    }
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: signer), .init(service: ops)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}
