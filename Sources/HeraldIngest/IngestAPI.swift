import AMQP
import Foundation
import HeraldCore
import HeraldService
import HeraldStore
import Hummingbird
import Logging
import Metrics

/// The HTTP API of herald-ingest: events in, endpoints, accounts, the delivery log.
///
/// ```swift
/// let api = IngestAPI(configuration: config, store: store, broker: broker, logger: logger)
/// let app = Application(router: api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// ```
/// Every handler answers problems (RFC 9457) for client errors, 503 + `Retry-After` when the
/// broker cannot confirm, and never sends 202 before the broker confirmed the publish.
public struct IngestAPI: Sendable {
    public let configuration: IngestConfiguration
    public let store: any IngestStore
    public let broker: BrokerLink
    /// Publishes what a request left in the outbox (events it could not see confirmed).
    let relay: OutboxRelay
    let logger: Logger
    let accepted = Counter(label: "herald_ingest_events_accepted_total")
    let duplicates = Counter(label: "herald_ingest_events_duplicate_total")

    public init(configuration: IngestConfiguration, store: any IngestStore, broker: BrokerLink, relay: OutboxRelay,
                logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.broker = broker
        self.relay = relay
        self.logger = logger
    }

    /// Every route, plus `/healthz`, `/readyz` and `/metrics`.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(RequestMetricsMiddleware())
        OpsServer.addRoutes(to: router) { [broker, store] in
            let storeOK = await store.ping()
            return storeOK && broker.isReady
        }
        let v1 = router.group("v1")
        v1.post("accounts") { req, ctx in await handle(req) { try await createAccount(req) } }
        v1.post("events") { req, ctx in await handle(req) { try await postEvents(req) } }
        v1.post("messages/:messageId/status") { req, ctx in
            await handle(req) { try await postStatus(req, messageId: ctx.parameters.get("messageId") ?? "") }
        }
        v1.get("events/:id") { req, ctx in await handle(req) { try await getEvent(req, id: ctx.parameters.get("id") ?? "") } }
        v1.get("events/:id/attempts") { req, ctx in
            await handle(req) { try await eventAttempts(req, id: ctx.parameters.get("id") ?? "") }
        }
        v1.post("endpoints") { req, ctx in await handle(req) { try await createEndpoint(req) } }
        v1.get("endpoints") { req, ctx in await handle(req) { try await listEndpoints(req) } }
        v1.get("endpoints/:id") { req, ctx in await handle(req) { try await getEndpoint(req, id: ctx.parameters.get("id") ?? "") } }
        v1.patch("endpoints/:id") { req, ctx in
            await handle(req) { try await updateEndpoint(req, id: ctx.parameters.get("id") ?? "") }
        }
        v1.delete("endpoints/:id") { req, ctx in
            await handle(req) { try await deleteEndpoint(req, id: ctx.parameters.get("id") ?? "") }
        }
        v1.post("endpoints/:id/rotate-secret") { req, ctx in
            await handle(req) { try await rotateSecret(req, id: ctx.parameters.get("id") ?? "") }
        }
        v1.post("endpoints/:id/enable") { req, ctx in
            await handle(req) { try await setEnabled(req, id: ctx.parameters.get("id") ?? "", enabled: true) }
        }
        v1.post("endpoints/:id/disable") { req, ctx in
            await handle(req) { try await setEnabled(req, id: ctx.parameters.get("id") ?? "", enabled: false) }
        }
        v1.post("endpoints/:id/test") { req, ctx in
            await handle(req) { try await testEndpoint(req, id: ctx.parameters.get("id") ?? "") }
        }
        v1.get("endpoints/:id/attempts") { req, ctx in
            await handle(req) { try await endpointAttempts(req, id: ctx.parameters.get("id") ?? "") }
        }
        return router
    }

    /// Runs a handler, turning thrown problems and store failures into problem responses.
    func handle(_ request: Request, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let problem as Problem {
            return problem.response
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            return Problem.tooLarge(limit: configuration.maxBodyBytes).response
        } catch let error as StoreError where error.kind == .notFound {
            // Deleted between our read and our write (a concurrent DELETE): as if never there.
            return Problem.notFound("the resource").response
        } catch let error as StoreError {
            logger.error("store failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return Problem(.internalServerError, "store-failed", "Store failure", detail: "the store could not complete the request")
                .response
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return Problem(.internalServerError, "internal", "Internal error", detail: "unexpected error").response
        }
    }

    // MARK: bodies

    /// Reads a JSON object body within the size limit.
    func jsonBody(_ request: Request) async throws -> JSONValue {
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json"),
           !type.lowercased().contains("+json") {
            throw Problem.unsupportedMediaType(type)
        }
        let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        let bytes = buffer.readableBytesView
        guard !bytes.isEmpty else {
            throw Problem(.badRequest, "malformed-json", "Malformed JSON", detail: "the body is empty", field: "body", rule: "valid JSON")
        }
        do { return try JSONValue.parse(bytes) } catch { throw Problem.malformedJSON(error) }
    }

    func jsonObjectBody(_ request: Request, allowEmpty: Bool = false) async throws -> JSONObject {
        if allowEmpty {
            let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
            if buffer.readableBytes == 0 { return JSONObject() }
            if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
                throw Problem.unsupportedMediaType(type)
            }
            let value: JSONValue
            do { value = try JSONValue.parse(buffer.readableBytesView) } catch { throw Problem.malformedJSON(error) }
            guard let o = value.objectValue else { throw Problem.wrongType("body", expected: "object", got: value) }
            return o
        }
        let value = try await jsonBody(request)
        guard let o = value.objectValue else { throw Problem.wrongType("body", expected: "object", got: value) }
        return o
    }

    /// Pagination: `limit` (1…200, default 50) and an opaque `cursor`.
    func page(_ request: Request) throws(Problem) -> (limit: Int, cursor: String?) {
        let query = request.uri.queryParameters
        var limit = 50
        if let text = query.get("limit") {
            guard let n = Int(text), (1...200).contains(n) else {
                throw Problem.invalid("limit", rule: "range 1...200", "'limit' must be a whole number from 1 to 200")
            }
            limit = n
        }
        let cursor = query.get("cursor").flatMap { $0.isEmpty ? nil : $0 }
        if let cursor, cursor.utf8.count > 200 {
            throw Problem.invalid("cursor", rule: "max 200 bytes", "'cursor' is not a cursor this server issued")
        }
        return (limit, cursor)
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: value.serialized())))
    }
}

/// Counts requests by method and status class (low cardinality: no paths).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        Counter(label: "herald_ingest_http_requests_total",
                dimensions: [("method", request.method.rawValue), ("status", "\(response.status.code / 100)xx")]).increment()
        Timer(label: "herald_ingest_http_request_duration_seconds", dimensions: [("method", request.method.rawValue)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }
}
