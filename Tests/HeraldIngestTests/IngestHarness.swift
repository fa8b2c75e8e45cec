import AMQP
import Foundation
import HeraldCore
import HeraldIngest
import HeraldSigning
import HeraldTestSupport
import Logging

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real herald-ingest (HTTP on a free 127.0.0.1 port, a fresh SQLite file, its own vhost on
/// the test broker) and a plain HTTP client for it.
final class IngestHarness: Sendable {
    static let adminKey = "test-admin-key-0123456789"
    let vhost: String?
    let amqpURL: String
    let port: Int
    let service: IngestService
    let task: Task<Void, Error>

    /// - Parameters:
    ///   - amqpURL: a broker URL to use instead of a fresh vhost (e.g. a closed port).
    ///   - profiles: the profiles the API accepts (tests add `ExampleProfile`).
    static func start(
        amqpURL: String? = nil, maxBodyBytes: Int = 262_144, readTimeout: Duration = .seconds(10),
        profiles: ProfileRegistry = .standard
    ) async throws -> IngestHarness {
        var vhost: String?
        let url: String
        if let amqpURL {
            url = amqpURL
        } else {
            let isolated = try TestBroker.isolatedVhost("ingest")
            vhost = isolated.vhost
            url = isolated.url
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = IngestConfiguration(
            amqpURL: url, databasePath: dir.appendingPathComponent("herald.sqlite").path, host: "127.0.0.1", port: 0,
            adminKey: adminKey, maxBodyBytes: maxBodyBytes, publishTimeout: .seconds(3), readTimeout: readTimeout)
        var logger = Logger(label: "test.ingest")
        logger.logLevel = .critical  // cancelling the service at the end logs expected shutdown errors
        let service = try IngestService(configuration: config, profiles: profiles, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task { try await service.run(signals: []) { continuation.yield($0) } }
        var port = 0
        for await p in ports { port = p; break }
        if amqpURL == nil {
            guard await service.broker.waitUntilConnected(timeout: .seconds(10)) else {
                task.cancel()
                throw HarnessError(description: "ingest did not connect to the test broker at \(url)")
            }
        }
        return IngestHarness(vhost: vhost, amqpURL: url, port: port, service: service, task: task)
    }

    init(vhost: String?, amqpURL: String, port: Int, service: IngestService, task: Task<Void, Error>) {
        self.vhost = vhost
        self.amqpURL = amqpURL
        self.port = port
        self.service = service
        self.task = task
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        if let vhost { TestBroker.deleteVhost(vhost) }
    }

    struct HarnessError: Error, CustomStringConvertible { let description: String }

    struct Reply: CustomStringConvertible {
        let status: Int
        let headers: [String: String]
        let body: Data
        var json: JSONValue { (try? JSONValue.parse(Array(body))) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
        subscript(_ key: String) -> JSONValue? { json[key] }
        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
        var description: String { "\(status) \(text)" }
    }

    /// Sends a request; `json` is sent as the body with `Content-Type: application/json`.
    func call(
        _ method: String, _ path: String, key: String?, json: String? = nil, body: Data? = nil,
        headers: [String: String] = [:]
    ) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 20
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let body { request.httpBody = body }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    /// Creates an account through the API and returns (id, api key).
    func account(_ id: String, profile: String = "standard") async throws -> (id: String, key: String) {
        let reply = try await call(
            "POST", "/v1/accounts", key: Self.adminKey,
            json: #"{"id":"\#(id)","name":"Account \#(id)","defaultProfile":"\#(profile)"}"#)
        guard reply.status == 201, let key = reply["apiKey"]?.stringValue else {
            throw HarnessError(description: "account creation answered \(reply)")
        }
        return (id, key)
    }

    /// A connection to this harness's vhost, to look at what ingest published.
    func connect() async throws -> AMQPConnection {
        try await AMQPConnection.connect(try AMQPConfiguration(url: amqpURL, connectionName: "test-ingest-observer"))
    }

    /// Drains a queue (basic.get until empty), acking everything.
    static func drain(_ connection: AMQPConnection, queue: String) async throws -> [AMQPDelivery] {
        var out: [AMQPDelivery] = []
        while let d = try await connection.get(queue: queue) {
            d.ack()
            out.append(d)
        }
        return out
    }
}

/// Runs `body` with a started harness and always stops it.
func withIngest(
    amqpURL: String? = nil, maxBodyBytes: Int = 262_144, readTimeout: Duration = .seconds(10),
    profiles: ProfileRegistry = .standard, _ body: (IngestHarness) async throws -> Void
) async throws {
    let harness = try await IngestHarness.start(
        amqpURL: amqpURL, maxBodyBytes: maxBodyBytes, readTimeout: readTimeout,
        profiles: profiles)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}
