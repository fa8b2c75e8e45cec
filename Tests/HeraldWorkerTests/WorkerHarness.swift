import AMQP
import Foundation
import HeraldCore
import HeraldDelivery
import HeraldSigning
import HeraldTestSupport
import HeraldWorker

/// One test's world: a fresh vhost with Herald's topology, a connection for the test, and
/// (optionally) a `DeliveryWorker` running against it.
final class WorkerHarness: Sendable {
    let vhost: String
    let url: String
    let connection: AMQPConnection
    let worker: DeliveryWorker?
    private let task: Task<Void, Error>?

    /// Starts the harness; `configure` adjusts the worker's configuration (allowlist 127.0.0.1
    /// by default); `startWorker: false` leaves the worker to the test (child processes).
    static func start(
        startWorker: Bool = true, _ configure: (inout WorkerConfiguration) -> Void = { _ in }
    ) async throws -> WorkerHarness {
        let (vhost, url, connection) = try await TestBroker.isolatedConnection(
            "worker", connectionName: "worker-test", declaring: DeliveryWorker.topology)
        var configuration = WorkerConfiguration(
            amqpURL: url, opsPort: 0, concurrency: 64, perEndpoint: 16,
            breaker: .init(failureThreshold: 5, coolDown: .seconds(30)), shutdownGrace: .seconds(5),
            destinationGuard: DestinationGuard(allowed: [CIDR("127.0.0.1/32")!]))
        configure(&configuration)
        var worker: DeliveryWorker?
        var task: Task<Void, Error>?
        if startWorker {
            let w = DeliveryWorker(configuration: configuration)
            worker = w
            task = Task { try await w.run() }
        }
        return WorkerHarness(vhost: vhost, url: url, connection: connection, worker: worker, task: task)
    }

    private init(vhost: String, url: String, connection: AMQPConnection, worker: DeliveryWorker?, task: Task<Void, Error>?) {
        self.vhost = vhost
        self.url = url
        self.connection = connection
        self.worker = worker
        self.task = task
    }

    /// Publishes jobs as the signer does.
    func publish(_ jobs: [DeliveryJob]) async throws {
        try await connection.publish(
            jobs.map { job in
                AMQPPublication(
                    exchange: HeraldNames.deliveriesExchange, routingKey: HeraldNames.deliverRoutingKey,
                    body: Data(job.wireEncoded()),
                    properties: AMQPProperties(contentType: "application/json", messageId: "\(job.event.id):\(job.endpointId)"))
            })
    }

    /// Takes (and acks) messages from `queue` until `count` arrived or `timeout` passed.
    func take(_ queue: String, count: Int, timeout: Duration = .seconds(15)) async throws -> [AMQPDelivery] {
        try await connection.take(count, from: queue, timeout: timeout)
    }

    /// Attempt records from `herald.attempts`.
    func attempts(count: Int, timeout: Duration = .seconds(15)) async throws -> [AttemptRecord] {
        try await take(HeraldNames.attemptsQueue, count: count, timeout: timeout).map {
            try AttemptRecord.wireDecoded(Array($0.body))
        }
    }

    func depth(_ queue: String) async throws -> Int {
        Int(try await connection.inspect(queue: queue).messageCount)
    }

    /// Stops the worker gracefully and removes the vhost.
    func stop() async {
        worker?.beginShutdown()
        _ = try? await task?.value
        await connection.close()
        TestBroker.deleteVhost(vhost)
    }
}

/// Starts the built `herald-worker` executable (found next to the test bundle) against `url`:
/// 127.0.0.1 allowed, concurrency 10, a 5 s shutdown grace, warnings only; `overrides` replaces
/// any of those keys or adds others. Await its end with `waitForExit()`, never `waitUntilExit()`.
func spawnWorker(_ url: String, _ overrides: [String: String] = [:]) throws -> Process {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if dir.path.hasSuffix("/Contents/MacOS") {
        dir = dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    let binary = dir.appendingPathComponent("herald-worker")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw TestReceiver.ReceiverError(message: "herald-worker is not built next to the tests at \(binary.path)")
    }
    let p = Process()
    p.executableURL = binary
    var env = ProcessInfo.processInfo.environment
    env["HERALD_AMQP_URL"] = url
    env["HERALD_OPS_PORT"] = "0"
    env["HERALD_ALLOW_PRIVATE"] = "127.0.0.1/32"
    env["HERALD_WORKER_CONCURRENCY"] = "10"
    env["HERALD_SHUTDOWN_GRACE"] = "5s"
    env["HERALD_LOG_LEVEL"] = "warning"
    env.merge(overrides) { _, override in override }
    p.environment = env
    try p.run()
    return p
}

extension Duration {
    /// The duration in seconds, fractions included (for messages and comparisons).
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Signed jobs for tests: a standard-profile endpoint at `url` with a quick policy.
enum Jobs {
    static let quickPolicy = RetryPolicy(
        connectTimeoutMs: 1000, timeoutMs: 1000, delaysSeconds: [1, 1, 1], retryOn: Set(RetryCondition.allCases))

    static func endpoint(_ url: String, id: String = "ep_\(UUID().uuidString.prefix(8))", policy: RetryPolicy = quickPolicy)
        -> Endpoint
    {
        let secret = try! Signer.generateSecret(profile: "standard")
        return Endpoint(
            id: id, account: "acct_worker_test", url: url, profile: "standard",
            secrets: [EndpointSecret(value: secret.stored, createdAt: Timestamp(secondsSinceEpoch: 1_700_000_000))],
            policy: policy)
    }

    static func job(for endpoint: Endpoint, attempt: Int = 1) -> DeliveryJob {
        let event = Event(
            type: "message.delivered", account: endpoint.account, occurredAt: .now(),
            data: ["messageId": .string("msg_\(UUID().uuidString.prefix(6))")])
        var job = try! Signer.sign(event, for: endpoint, now: .now())
        job.attempt = attempt
        return job
    }
}
