// herald-ingest: the HTTP API, the endpoint store and the delivery log. See IngestConfiguration.
import HeraldIngest
import HeraldService
import Logging

let process = ServiceMain("herald-ingest")
let configuration = process.configuration { try IngestConfiguration(environment: $0) }
await process.run(logger: Logger(label: "herald.ingest")) { logger in
    let service = try IngestService(configuration: configuration, logger: logger)
    try await service.run { port in logger.info("herald-ingest listening", metadata: ["http.port": "\(port)"]) }
}
