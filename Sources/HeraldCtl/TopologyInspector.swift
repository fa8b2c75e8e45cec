import AMQP
import Foundation
import HeraldTopology
import Logging

/// Compares the broker with `HeraldTopology.all` without creating anything that is missing.
///
/// Each probe runs on a throwaway connection because a failed declare closes its channel:
/// - a queue: passive declare (`inspect`) says whether it exists; if it does, redeclaring it with
///   the code's arguments succeeds when they agree and fails with 406 `inequivalent arg` when not;
/// - an exchange: binding a temporary exclusive queue to it fails with 404 when it is missing
///   (a binding never creates its exchange); if it exists, redeclaring it with the code's type
///   and flags reveals a mismatch the same way.
public struct TopologyInspector: Sendable {
    /// One object's state on the broker.
    public struct Finding: Sendable, Equatable {
        public enum State: String, Sendable { case ok, missing, mismatch, error }
        public var kind: String
        public var name: String
        public var state: State
        public var detail: String?
    }

    public let configuration: AMQPConfiguration
    public let logger: Logger

    public init(configuration: AMQPConfiguration, logger: Logger = Logger(label: "heraldctl.amqp")) {
        self.configuration = configuration
        self.logger = logger
    }

    public func check(_ topology: AMQPTopology = HeraldTopology.all) async throws -> [Finding] {
        var findings: [Finding] = []
        for exchange in topology.exchanges {
            findings.append(try await probeExchange(exchange))
        }
        for queue in topology.queues {
            findings.append(try await probeQueue(queue))
        }
        return findings
    }

    private func withConnection<T>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
        try await AMQPConnection.connect(configuration, logger: logger).closing(body)
    }

    private func probeQueue(_ queue: AMQPTopology.Queue) async throws -> Finding {
        do {
            _ = try await withConnection { try await $0.inspect(queue: queue.name) }
        } catch let error as AMQPError where error.kind == .notFound {
            return Finding(kind: "queue", name: queue.name, state: .missing, detail: nil)
        }
        return try await redeclare(kind: "queue", name: queue.name, AMQPTopology(queues: [queue]))
    }

    private func probeExchange(_ exchange: AMQPTopology.Exchange) async throws -> Finding {
        let probe = AMQPTopology.Queue(
            name: "heraldctl.check.\(UUID().uuidString.prefix(8))", durable: false,
            exclusive: true, autoDelete: true)
        do {
            try await withConnection {
                try await $0.declare(
                    AMQPTopology(
                        queues: [probe],
                        bindings: [
                            .init(exchange: exchange.name, queue: probe.name, routingKey: probe.name)
                        ]))
            }
        } catch let error as AMQPError where error.kind == .notFound {
            return Finding(kind: "exchange", name: exchange.name, state: .missing, detail: nil)
        }
        return try await redeclare(kind: "exchange", name: exchange.name, AMQPTopology(exchanges: [exchange]))
    }

    private func redeclare(kind: String, name: String, _ topology: AMQPTopology) async throws -> Finding {
        do {
            try await withConnection { try await $0.declare(topology) }
            return Finding(kind: kind, name: name, state: .ok, detail: nil)
        } catch let error as AMQPError where error.kind == .preconditionFailed {
            return Finding(kind: kind, name: name, state: .mismatch, detail: error.message)
        } catch let error as AMQPError where error.kind == .accessRefused || error.kind == .brokerError {
            return Finding(kind: kind, name: name, state: .error, detail: error.message)
        }
    }
}
