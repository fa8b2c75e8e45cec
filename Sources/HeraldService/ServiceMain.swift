import Foundation
import Logging

/// What every executable's `main` does around its service, in one place so the three services
/// start and fail alike: an invalid setting prints `<service>: invalid configuration: KEY:
/// problem` on stderr and exits 2; a service that stops on an error (the broker unreachable at
/// startup, a port already taken) logs it and exits 1, never with an uncaught error (which traps
/// and leaves a crash dump).
///
/// ```swift
/// let main = ServiceMain("herald-worker")
/// let configuration = main.configuration { try WorkerConfiguration(environment: $0) }
/// await main.run(logger: Logger(label: "herald.worker")) {
///     try await WorkerService.run(configuration: configuration, logger: $0)
/// }
/// ```
public struct ServiceMain: Sendable {
    /// The executable's name, which prefixes its stderr messages and labels its logs.
    public let service: String

    public init(_ service: String) {
        self.service = service
    }

    /// Reads the environment (and `HERALD_CONFIG_FILE`), builds the configuration with `read`,
    /// checks `HERALD_AMQP_URL` and bootstraps logging and metrics (`Observability`).
    ///
    /// - Parameter read: builds the service's configuration; it may also check settings beyond
    ///   their form (a path whose directory does not exist). A thrown `ConfigurationError` names
    ///   the key.
    /// - Returns: the configuration; on any error this exits 2 instead.
    public func configuration<Configuration>(_ read: (ServiceEnvironment) throws -> Configuration) -> Configuration {
        do {
            let environment = try ServiceEnvironment()
            let configuration = try read(environment)
            try environment.checkAMQPURL()
            try Observability.bootstrap(service: service, environment: environment)
            return configuration
        } catch {
            exitConfigurationError(error)
        }
    }

    /// Runs the service until it returns (after a graceful shutdown) and exits 0; when it throws,
    /// logs the error as critical and exits 1 (2 when the error is a `ConfigurationError`, found
    /// only once the service started).
    ///
    /// - Parameter body: runs the service, on the caller's actor (top-level code's main actor),
    ///   so it may use what `main` built.
    public func run(
        isolation: isolated (any Actor)? = #isolation, logger: Logger,
        _ body: (Logger) async throws -> Void
    ) async -> Never {
        do {
            try await body(logger)
            exit(0)
        } catch let error as ConfigurationError {
            exitConfigurationError(error)
        } catch {
            logger.critical("\(service) stopped", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    private func exitConfigurationError(_ error: any Error) -> Never {
        FileHandle.standardError.write(Data("\(service): \(error)\n".utf8))
        exit(2)
    }
}
