// herald-signer: events → one signed delivery job per subscribed endpoint; retries re-signed.
// Configuration: see SignerConfiguration (HERALD_AMQP_URL, HERALD_DATABASE_PATH, HERALD_OPS_PORT,
// HERALD_SIGNER_PREFETCH, HERALD_SIGNER_STORE_BACKOFF, HERALD_LOG_LEVEL, HERALD_LOG_FORMAT).
import Foundation
import HeraldService
import HeraldSigner
import HeraldStore
import Logging
import ServiceLifecycle

let process = ServiceMain("herald-signer")
let configuration = process.configuration { try SignerConfiguration(environment: $0) }

let logger = Logger(label: "herald.signer")
let store: SQLiteStore
do {
    store = try SQLiteStore(path: configuration.databasePath, readOnly: true)
} catch {
    logger.critical("cannot open the endpoint store", metadata: ["error": "\(error)"])
    exit(1)
}
let signer = SignerService(configuration: configuration, directory: store, logger: logger)
let ops = OpsServer.application(host: configuration.opsHost, port: configuration.opsPort, logger: logger) { signer.isReady }
let group = ServiceGroup(
    configuration: .init(services: [.init(service: signer), .init(service: ops)],
                         gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
await process.run(logger: logger) { _ in try await group.run() }
