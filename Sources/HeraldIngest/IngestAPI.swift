import AMQP
import Foundation
import HTTPTypes
import HeraldCore
import HeraldService
import HeraldSigning
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
    /// The profiles endpoints and accounts may name (`ProfileRegistry.standard` outside tests).
    public let profiles: ProfileRegistry
    /// Publishes what a request left in the outbox (events it could not see confirmed).
    let relay: OutboxRelay
    let logger: Logger
    let accepted = Counter(label: "herald_ingest_events_accepted_total")
    let duplicates = Counter(label: "herald_ingest_events_duplicate_total")

    public init(
        configuration: IngestConfiguration, store: any IngestStore, broker: BrokerLink, relay: OutboxRelay,
        profiles: ProfileRegistry = .standard, logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.broker = broker
        self.profiles = profiles
        self.relay = relay
        self.logger = logger
    }

    /// Every route, plus `/healthz`, `/readyz` and `/metrics`. Unknown paths answer a problem
    /// 404, known paths with another method a problem 405 with `Allow`.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(RequestMetricsMiddleware())
        router.middlewares.add(UnroutedMiddleware(routes: Self.routeTable))
        OpsServer.addRoutes(to: router) { [broker, store] in
            let storeOK = await store.ping()
            return storeOK && broker.isReady
        }
        let v1 = router.group("v1")
        for route in Self.routes {
            v1.on(RouterPath(route.path), method: route.method) { req, ctx in
                await handle(req) { try await route.handler(self, req, ctx.parameters) }
            }
        }
        return router
    }

    typealias Handler = @Sendable (IngestAPI, Request, Parameters) async throws -> Response

    /// The API's routes under `/v1`: one list, so the router and the 405 `Allow` header agree.
    static let routes: [(method: HTTPRequest.Method, path: String, handler: Handler)] = [
        (.post, "accounts", { api, req, _ in try await api.createAccount(req) }),
        (.post, "events", { api, req, _ in try await api.postEvents(req) }),
        (
            .post, "messages/:messageId/status",
            { api, req, p in try await api.postStatus(req, messageId: p.get("messageId") ?? "") }
        ),
        (.get, "events/:id", { api, req, p in try await api.getEvent(req, id: p.get("id") ?? "") }),
        (.get, "events/:id/attempts", { api, req, p in try await api.eventAttempts(req, id: p.get("id") ?? "") }),
        (.post, "endpoints", { api, req, _ in try await api.createEndpoint(req) }),
        (.get, "endpoints", { api, req, _ in try await api.listEndpoints(req) }),
        (.get, "endpoints/:id", { api, req, p in try await api.getEndpoint(req, id: p.get("id") ?? "") }),
        (.patch, "endpoints/:id", { api, req, p in try await api.updateEndpoint(req, id: p.get("id") ?? "") }),
        (.delete, "endpoints/:id", { api, req, p in try await api.deleteEndpoint(req, id: p.get("id") ?? "") }),
        (.post, "endpoints/:id/rotate-secret", { api, req, p in try await api.rotateSecret(req, id: p.get("id") ?? "") }),
        (.post, "endpoints/:id/enable", { api, req, p in try await api.setEnabled(req, id: p.get("id") ?? "", enabled: true) }),
        (.post, "endpoints/:id/disable", { api, req, p in try await api.setEnabled(req, id: p.get("id") ?? "", enabled: false) }),
        (.post, "endpoints/:id/test", { api, req, p in try await api.testEndpoint(req, id: p.get("id") ?? "") }),
        (.get, "endpoints/:id/attempts", { api, req, p in try await api.endpointAttempts(req, id: p.get("id") ?? "") }),
    ]

    static let routeTable: RouteTable = {
        var table = RouteTable()
        for path in ["/healthz", "/readyz", "/metrics"] { table.add(.get, path) }
        for route in routes { table.add(route.method, "/v1/" + route.path) }
        return table
    }()

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
            return Problem(
                .internalServerError, "store-failed", "Store failure", detail: "the store could not complete the request"
            )
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
            !type.lowercased().contains("+json")
        {
            throw Problem.unsupportedMediaType(type)
        }
        let buffer = try await body(request)
        let bytes = buffer.readableBytesView
        guard !bytes.isEmpty else {
            throw Problem(
                .badRequest, "malformed-json", "Malformed JSON", detail: "the body is empty", field: "body", rule: "valid JSON")
        }
        do { return try JSONValue.parse(bytes) } catch { throw Problem.malformedJSON(error) }
    }

    /// The whole body, within the size limit. A body that stops short (the client closed the
    /// connection, or sent nothing for the read timeout) is the client's doing: a 400 that is
    /// logged at debug, never a 500.
    func body(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw error
        } catch {
            logger.debug("request body incomplete", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            throw Problem(
                .badRequest, "incomplete-body", "Incomplete body",
                detail: "the connection ended before the whole body arrived", field: "body", rule: "Content-Length bytes")
        }
    }

    func jsonObjectBody(_ request: Request, allowEmpty: Bool = false) async throws -> JSONObject {
        if allowEmpty {
            let buffer = try await body(request)
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

/// The paths the router serves, with their methods, to tell 404 from 405.
struct RouteTable: Sendable {
    private var entries: [(segments: [Substring], method: HTTPRequest.Method)] = []

    mutating func add(_ method: HTTPRequest.Method, _ path: String) {
        entries.append((path.split(separator: "/"), method))
    }

    /// The methods served at `path` (`:name` segments match any one segment), sorted.
    func methods(at path: String) -> [String] {
        let parts = path.split(separator: "/")
        let methods = entries.filter { entry in
            entry.segments.count == parts.count
                && zip(entry.segments, parts).allSatisfy { pattern, part in pattern.hasPrefix(":") || pattern == part }
        }.map(\.method.rawValue)
        return Set(methods).sorted()
    }
}

/// Turns the router's bare 404 into a problem: 404 for an unknown path, 405 with `Allow` for a
/// known path asked with another method.
struct UnroutedMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(at: request.uri.path)
            guard !allowed.isEmpty else { return Problem.notFound("the path '\(request.uri.path)'").response }
            var response = Problem(
                .methodNotAllowed, "method-not-allowed", "Method not allowed",
                detail: "\(request.method.rawValue) is not served at this path; use \(allowed.joined(separator: ", "))",
                rule: allowed.joined(separator: ", ")
            ).response
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        }
    }
}

/// Counts requests by method and status class (low cardinality: no paths).
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        Counter(
            label: "herald_ingest_http_requests_total",
            dimensions: [("method", request.method.rawValue), ("status", "\(response.status.code / 100)xx")]
        ).increment()
        Timer(label: "herald_ingest_http_request_duration_seconds", dimensions: [("method", request.method.rawValue)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }
}
