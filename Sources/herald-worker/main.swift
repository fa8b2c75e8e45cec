// herald-worker: consumes herald.deliver and POSTs each job. Configuration: see WorkerConfiguration.
import Foundation
import HeraldService
import HeraldWorker
import Logging

let configuration: WorkerConfiguration
do {
    let environment = try ServiceEnvironment()
    try Observability.bootstrap(service: "herald-worker", environment: environment)
    configuration = try WorkerConfiguration(environment: environment)
    try environment.checkAMQPURL()
} catch {
    FileHandle.standardError.write(Data("herald-worker: \(error)\n".utf8))
    exit(2)
}
await ServiceMain("herald-worker").run(logger: Logger(label: "herald.worker")) { logger in
    try await WorkerService.run(configuration: configuration, logger: logger)
}
