import AMQP
import Foundation
import HeraldCore
import HeraldSigner
import HeraldSigning
import HeraldStore
import HeraldTestSupport
import HeraldTopology
import Synchronization

/// The store as the signer sees it, with a switch that makes every read fail (a store outage).
final class SwitchableDirectory: EndpointDirectory {
    let store: SQLiteStore
    let down = Atomic<Bool>(false)
    let failedReads = Atomic<Int>(0)

    init(_ store: SQLiteStore) { self.store = store }

    struct Outage: Error, CustomStringConvertible { var description: String { "store unreachable (test outage)" } }

    private func check() throws {
        if down.load(ordering: .relaxed) {
            failedReads.add(1, ordering: .relaxed)
            throw Outage()
        }
    }

    func endpoints(account: String) async throws -> [Endpoint] { try check(); return try await store.endpoints(account: account) }
    func endpoint(id: String) async throws -> Endpoint? { try check(); return try await store.endpoint(id: id) }
    func account(id: String) async throws -> Account? { try check(); return try await store.account(id: id) }
}

/// One test's world: an isolated vhost with Herald's topology, a real SQLite store, a signer
/// running in-process, and a connection for the test to publish and read with.
final class SignerHarness: Sendable {
    let vhost: String
    let url: String
    let path: String
    let store: SQLiteStore
    let directory: SwitchableDirectory
    let connection: AMQPConnection
    private let signers = Mutex<[(SignerService, Task<Void, any Error>)]>([])

    private init(
        vhost: String, url: String, path: String, store: SQLiteStore, directory: SwitchableDirectory,
        connection: AMQPConnection
    ) {
        self.vhost = vhost
        self.url = url
        self.path = path
        self.store = store
        self.directory = directory
        self.connection = connection
    }

    static func make() async throws -> SignerHarness {
        let (vhost, url, connection) = try await TestBroker.isolatedConnection(
            "signer", connectionName: "signer-test", declaring: HeraldTopology.all)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("signer-\(UUID().uuidString).sqlite").path
        let writer = try SQLiteStore(path: path)
        let reader = try SQLiteStore(path: path, readOnly: true)
        return SignerHarness(
            vhost: vhost, url: url, path: path, store: writer, directory: SwitchableDirectory(reader),
            connection: connection)
    }

    /// Starts a signer (another one each call, like processes side by side) and waits until it consumes.
    @discardableResult
    func startSigner(prefetch: Int = 64, cacheTTL: Duration = .seconds(30)) async throws -> (SignerService, Task<Void, any Error>)
    {
        let signer = SignerService(
            configuration: SignerConfiguration(
                amqpURL: url, prefetch: prefetch, failureBackoff: .milliseconds(100),
                endpointCacheTTL: cacheTTL, connectionName: "signer-under-test"),
            directory: directory)
        let task = Task { try await signer.run() }
        signers.withLock { $0.append((signer, task)) }
        let ready = await eventually(timeout: .seconds(30)) { signer.isReady }
        guard ready else { throw HarnessError("the signer did not become ready") }
        return (signer, task)
    }

    func finish() async {
        for (_, task) in signers.withLock({ $0 }) {
            task.cancel()
            _ = try? await task.value
        }
        await connection.close()
        TestBroker.deleteVhost(vhost)
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + "-wal")
        try? FileManager.default.removeItem(atPath: path + "-shm")
    }

    // MARK: store

    /// Creates an account whose default profile and secret sign callbackUrl deliveries.
    @discardableResult
    func account(_ id: String, profile: String = "standard") async throws -> Account {
        let secret = try Signer.generateSecret(profile: profile)
        let account = Account(
            id: id, name: id, defaultProfile: profile,
            defaultSecrets: [EndpointSecret(value: secret.stored, createdAt: .now())])
        try await store.createAccount(account, apiKey: "key_\(UUID().uuidString)", now: .now())
        return account
    }

    @discardableResult
    func endpoint(
        _ id: String, account: String, profile: String = "standard", eventTypes: [String] = [],
        recipients: [String] = [], state: EndpointState = .enabled
    ) async throws -> Endpoint {
        let secret = try Signer.generateSecret(profile: profile)
        let endpoint = Endpoint(
            id: id, account: account, url: "https://receiver.example/\(id)", profile: profile,
            eventTypes: eventTypes, recipients: recipients,
            secrets: [EndpointSecret(value: secret.stored, createdAt: .now())], state: state)
        try await store.createEndpoint(EndpointRecord(endpoint: endpoint, createdAt: .now(), updatedAt: .now()))
        return endpoint
    }

    // MARK: broker

    func publish(_ event: Event) async throws {
        try await connection.publish(
            AMQPPublication(
                exchange: HeraldNames.eventsExchange, routingKey: event.type, body: Data(event.wireEncoded()),
                properties: AMQPProperties(contentType: "application/json", messageId: event.id)))
    }

    func publishRaw(_ bytes: [UInt8], routingKey: String = "message.delivered") async throws {
        try await connection.publish(
            AMQPPublication(
                exchange: HeraldNames.eventsExchange, routingKey: routingKey,
                body: Data(bytes)))
    }

    func publishResign(_ job: DeliveryJob) async throws {
        try await connection.publish(
            AMQPPublication(
                exchange: HeraldNames.resignExchange, routingKey: HeraldNames.resignRoutingKey, body: Data(job.wireEncoded())))
    }

    /// Takes messages from `queue` (acking them) until `count` arrived or `timeout` passed.
    func take(_ count: Int, from queue: String, timeout: Duration = .seconds(15)) async throws -> [AMQPDelivery] {
        try await connection.take(count, from: queue, timeout: timeout)
    }

    /// Signed jobs from herald.deliver.
    func jobs(_ count: Int, timeout: Duration = .seconds(15)) async throws -> [DeliveryJob] {
        try await take(count, from: HeraldNames.deliverQueue, timeout: timeout).map { try DeliveryJob.wireDecoded($0.body) }
    }

    /// Whether `queue` stays empty for `quiet`.
    func staysEmpty(_ queue: String, for quiet: Duration = .milliseconds(500)) async throws -> Bool {
        try await Task.sleep(for: quiet)
        return try await connection.inspect(queue: queue).messageCount == 0
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Event {
    /// A status-change event of `type` for `account`, to `recipient`.
    static func status(
        _ type: String = "message.delivered", account: String, recipient: String = "+9779818000000",
        callbackUrl: String? = nil
    ) -> Event {
        let status = type.split(separator: ".").last.map { $0.uppercased() } ?? "DELIVERED"
        return Event(
            type: type, account: account, occurredAt: .now(),
            data: [
                "messageId": .string("m_\(UUID().uuidString.prefix(8))"), "recipient": .string(recipient),
                "status": .string(status), "channel": "sms",
            ],
            callbackUrl: callbackUrl)
    }
}
