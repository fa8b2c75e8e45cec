// herald-worker: consumes herald.deliver and POSTs each job. Configuration: see WorkerConfiguration.
import HeraldService
import HeraldWorker
import Logging

let process = ServiceMain("herald-worker")
let configuration = process.configuration { try WorkerConfiguration(environment: $0) }
await process.run(logger: Logger(label: "herald.worker")) { logger in
    try await WorkerService.run(configuration: configuration, logger: logger)
}
