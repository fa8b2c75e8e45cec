import Foundation
import Hummingbird
import Logging

/// The operations HTTP server every service runs: `/healthz` (the process is alive),
/// `/readyz` (its dependencies answer) and `/metrics` (Prometheus text format).
///
/// ```swift
/// let ops = OpsServer.application(port: 9091, logger: logger) { connection.isConnected }
/// // run it in the service's ServiceGroup
/// ```
public enum OpsServer {
    /// A Hummingbird application serving the three routes; run it as a `Service`.
    ///
    /// - Parameters:
    ///   - host: address to bind (127.0.0.1 by default; 0.0.0.0 in containers).
    ///   - port: port to listen on; 0 picks a free one.
    ///   - ready: answers whether the service can do its work (broker connected, store open).
    public static func application(
        host: String = "127.0.0.1", port: Int, logger: Logger,
        ready: @escaping @Sendable () async -> Bool
    ) -> some ApplicationProtocol {
        let router = Router()
        addRoutes(to: router, ready: ready)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }

    /// Adds `/healthz`, `/readyz` and `/metrics` to an existing router (herald-ingest serves them
    /// next to its API).
    public static func addRoutes<Context: RequestContext>(
        to router: Router<Context>,
        ready: @escaping @Sendable () async -> Bool
    ) {
        router.get("/healthz") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        }
        router.get("/readyz") { _, _ in
            let isReady = await ready()
            return Response(
                status: isReady ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: isReady ? "{\"status\":\"ready\"}" : "{\"status\":\"not ready\"}")))
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: Observability.registry.emitToBuffer())))
        }
    }
}
