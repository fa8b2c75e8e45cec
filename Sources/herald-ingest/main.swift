// herald-ingest: the HTTP API, the endpoint store and the delivery log. See IngestConfiguration.
import Foundation
import HeraldIngest
import HeraldService
import Logging

let configuration: IngestConfiguration
do {
    let environment = try ServiceEnvironment()
    configuration = try IngestConfiguration(environment: environment)
    try environment.checkAMQPURL()
    try Observability.bootstrap(service: "herald-ingest", environment: environment)
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(2)
}
await ServiceMain("herald-ingest").run(logger: Logger(label: "herald.ingest")) { logger in
    let service = try IngestService(configuration: configuration, logger: logger)
    try await service.run { port in logger.info("herald-ingest listening", metadata: ["http.port": "\(port)"]) }
}
