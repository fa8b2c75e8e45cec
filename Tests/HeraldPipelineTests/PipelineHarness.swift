import AMQP
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldIngest
import HeraldSigner
import HeraldStore
import HeraldTestSupport
import HeraldWorker
import Logging

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The whole pipeline in one test process: a real herald-ingest (HTTP on a free port, its
/// SQLite store), a real herald-signer reading that store, a real herald-worker allowed to POST
/// to 127.0.0.1, all on a fresh vhost of the test broker; plus a connection for the test.
final class PipelineHarness: Sendable {
    static let adminKey = "pipeline-admin-key-0123456789"
    let vhost: String
    let amqpURL: String
    let databasePath: String
    let ingest: IngestService
    let signer: SignerService
    let worker: DeliveryWorker
    let port: Int
    let connection: AMQPConnection
    private let tasks: [Task<Void, Error>]

    static func start() async throws -> PipelineHarness {
        let (vhost, url) = try TestBroker.isolatedVhost("pipeline")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("herald.sqlite").path
        var quiet = Logger(label: "test.pipeline")
        quiet.logLevel = .critical  // stopping the services at the end logs expected shutdown errors

        let ingest = try IngestService(
            configuration: IngestConfiguration(
                amqpURL: url, databasePath: path, host: "127.0.0.1", port: 0,
                adminKey: adminKey, publishTimeout: .seconds(3)),
            logger: quiet)
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let ingestTask = Task { try await ingest.run(signals: []) { portSink.yield($0) } }
        var port = 0
        for await p in ports { port = p; break }
        guard await ingest.broker.waitUntilConnected(timeout: .seconds(10)) else {
            ingestTask.cancel()
            throw HarnessError("ingest did not connect to \(url)")
        }

        let signer = SignerService(
            configuration: SignerConfiguration(
                amqpURL: url, databasePath: path, prefetch: 64,
                failureBackoff: .milliseconds(100), connectionName: "pipeline-signer"),
            directory: try SQLiteStore(path: path, readOnly: true), logger: quiet)
        let signerTask = Task { try await signer.run() }

        let worker = DeliveryWorker(
            configuration: WorkerConfiguration(
                amqpURL: url, opsPort: 0, concurrency: 64, perEndpoint: 16,
                breaker: .init(failureThreshold: 1_000, coolDown: .seconds(1)), shutdownGrace: .seconds(2),
                destinationGuard: DestinationGuard(allowed: [CIDR("127.0.0.1/32")!])), logger: quiet)
        let workerTask = Task { try await worker.run() }

        guard await eventually(timeout: .seconds(30), { signer.isReady }) else {
            throw HarnessError("the signer did not become ready")
        }
        var observer = try AMQPConfiguration(url: url, connectionName: "pipeline-observer")
        observer.reconnectInitialDelay = .milliseconds(100)
        let connection = try await AMQPConnection.connect(observer)
        return PipelineHarness(
            vhost: vhost, amqpURL: url, databasePath: path, ingest: ingest, signer: signer,
            worker: worker, port: port, connection: connection,
            tasks: [ingestTask, signerTask, workerTask])
    }

    private init(
        vhost: String, amqpURL: String, databasePath: String, ingest: IngestService, signer: SignerService,
        worker: DeliveryWorker, port: Int, connection: AMQPConnection, tasks: [Task<Void, Error>]
    ) {
        self.vhost = vhost
        self.amqpURL = amqpURL
        self.databasePath = databasePath
        self.ingest = ingest
        self.signer = signer
        self.worker = worker
        self.port = port
        self.connection = connection
        self.tasks = tasks
    }

    func stop() async {
        worker.beginShutdown()
        for task in tasks.reversed() {
            task.cancel()
            _ = try? await task.value
        }
        await connection.close()
        TestBroker.deleteVhost(vhost)
    }

    // MARK: HTTP

    struct Reply: CustomStringConvertible {
        let status: Int
        let body: Data
        var json: JSONValue { (try? JSONValue.parse(Array(body))) ?? .null }
        subscript(_ key: String) -> JSONValue? { json[key] }
        var description: String { "\(status) \(String(decoding: body, as: UTF8.self))" }
    }

    func call(_ method: String, _ path: String, key: String?, json: String? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 20
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as! HTTPURLResponse).statusCode, body: data)
    }

    /// Creates an account through the API; returns its API key.
    func account(_ id: String) async throws -> String {
        let reply = try await call(
            "POST", "/v1/accounts", key: Self.adminKey,
            json: JSONValue.object(["id": .string(id), "name": "Pipeline test"]).serializedString)
        guard reply.status == 201, let key = reply["apiKey"]?.stringValue else {
            throw HarnessError("account creation answered \(reply)")
        }
        return key
    }

    /// Creates an endpoint through the API (one attempt, 2 s timeout unless `policy` says otherwise).
    func endpoint(
        _ id: String, key: String, url: String, eventTypes: [String] = [],
        policy: JSONObject = ["maxAttempts": 1, "timeoutMs": 2_000]
    ) async throws {
        var body: JSONObject = ["id": .string(id), "url": .string(url), "policy": .object(policy)]
        if !eventTypes.isEmpty { body["eventTypes"] = .array(eventTypes.map(JSONValue.string)) }
        let reply = try await call("POST", "/v1/endpoints", key: key, json: JSONValue.object(body).serializedString)
        guard reply.status == 201 else { throw HarnessError("endpoint creation answered \(reply)") }
    }

    // MARK: what happened

    /// Every attempt recorded for these endpoints of `account` (the delivery log, read from the
    /// store), with the endpoint ids as the account chose them.
    func attempts(account: String, endpoints: [String]) async throws -> [AttemptRecord] {
        let store = try SQLiteStore(path: databasePath, readOnly: true)
        var out: [AttemptRecord] = []
        for endpoint in endpoints {
            var before: Int64?
            while true {
                let page = try await store.attempts(
                    endpointId: EndpointKey.key(account: account, id: endpoint), before: before,
                    limit: 500)
                out += page.map { stored in
                    var record = stored.record
                    record.endpointId = EndpointKey.id(ofKey: record.endpointId)
                    return record
                }
                guard page.count == 500, let last = page.last else { break }
                before = last.cursor
            }
        }
        return out
    }

    func depth(_ queue: String) async throws -> Int {
        Int(try await connection.inspect(queue: queue).messageCount)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension JSONValue {
    var serializedString: String { String(decoding: serialized(), as: UTF8.self) }
}
