import AMQP
import Foundation

/// The private RabbitMQ node the integration tests run against.
///
/// `scripts/test.sh` starts the node (own name, ports and data directory) and exports
/// `HERALD_TEST_AMQP_URL` and `HERALD_TEST_RABBIT_NODE`. Without them a broker test fails with a
/// message saying so: it never silently passes or skips.
public enum TestBroker {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "HERALD_TEST_AMQP_URL is not set: run the tests with scripts/test.sh, which starts a private RabbitMQ node"
        }
    }

    /// The test node's AMQP URL, e.g. `amqp://guest:guest@127.0.0.1:25672/?connection_timeout=30000`.
    ///
    /// The generous handshake timeout is for the first seconds of a run, when every suite starts
    /// at once and the node is busy creating vhosts and quorum queues.
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["HERALD_TEST_AMQP_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        return url.contains("?") ? url : url + "?connection_timeout=30000"
    }

    /// The test node's Erlang node name, for `rabbitmqctl -n`.
    public static func nodeName() throws -> String {
        guard let node = ProcessInfo.processInfo.environment["HERALD_TEST_RABBIT_NODE"], !node.isEmpty else {
            throw NotConfigured()
        }
        return node
    }

    /// A configuration for the test node with fast reconnects, named after the test.
    public static func configuration(name: String = #function) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url(), connectionName: "test-\(name)")
        configuration.reconnectInitialDelay = .milliseconds(100)
        configuration.reconnectMaxDelay = .seconds(1)
        return configuration
    }

    /// Connects to the test node.
    public static func connect(name: String = #function) async throws -> AMQPConnection {
        try await AMQPConnection.connect(configuration(name: name))
    }

    /// A fresh vhost on the test node, for a test that runs Herald's real topology (`herald.*`
    /// names) without seeing other tests' messages. Returns its AMQP URL; hand it to
    /// `deleteVhost` when done.
    public static func isolatedVhost(_ prefix: String = "t") throws -> (vhost: String, url: String) {
        let vhost = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        try rabbitmqctl("add_vhost", vhost)
        try rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        guard var components = URLComponents(string: try url()) else { throw NotConfigured() }
        components.percentEncodedPath = "/" + (vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost)
        return (vhost, components.string ?? "")
    }

    /// A fresh vhost (as `isolatedVhost` makes) with `topology` declared in it, and the test's
    /// own connection to it (quick reconnects), for a harness that runs a service there.
    ///
    /// ```swift
    /// let (vhost, url, connection) = try await TestBroker.isolatedConnection(
    ///     "worker", connectionName: "worker-test", declaring: DeliveryWorker.topology)
    /// ```
    public static func isolatedConnection(
        _ prefix: String, connectionName: String, declaring topology: AMQPTopology
    ) async throws -> (vhost: String, url: String, connection: AMQPConnection) {
        let (vhost, url) = try isolatedVhost(prefix)
        var configuration = try AMQPConfiguration(url: url, connectionName: connectionName)
        configuration.reconnectInitialDelay = .milliseconds(100)
        let connection = try await AMQPConnection.connect(configuration)
        try await connection.declare(topology)
        return (vhost, url, connection)
    }

    /// Called when a test is done with a vhost made by `isolatedVhost`. It deliberately leaves
    /// the vhost in place: RabbitMQ 3.10 can loop forever deleting a vhost whose quorum queues
    /// dead-letter at-least-once (the delay tiers), and the stuck deletion stalls every other
    /// connection to the node. The whole test node is thrown away after the run instead.
    public static func deleteVhost(_ vhost: String) {}

    /// A name no other test uses, e.g. `test.roundtrip.5F3A…`.
    public static func uniqueName(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8))"
    }

    /// Runs `rabbitmqctl -n <test node> <arguments>` and returns its standard output.
    @discardableResult
    public static func rabbitmqctl(_ arguments: String...) throws -> String {
        try run("rabbitmqctl", ["-n", nodeName()] + arguments)
    }

    /// Runs a program found on PATH; throws with its output when it exits non-zero.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String]) throws -> String {
        let result = try TestProcess.run(program, arguments, mergeErrors: true)
        guard result.status == 0 else {
            throw CommandFailed(
                command: ([program] + arguments).joined(separator: " "), status: result.status, output: result.output)
        }
        return result.output
    }

    public struct CommandFailed: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let output: String
        public var description: String { "`\(command)` exited with \(status): \(output)" }
    }
}

/// Waits until `condition` holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
