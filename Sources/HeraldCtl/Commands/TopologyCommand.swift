import AMQP
import ArgumentParser
import Foundation
import HeraldCore
import HeraldTopology

/// `heraldctl topology …`: declare, compare and export Herald's exchanges and queues.
struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Declare, check or export Herald's RabbitMQ topology (exchanges, queues, bindings, delay tiers).",
        subcommands: [TopologyApply.self, TopologyCheck.self, TopologyExport.self])
}

struct TopologyApply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Declare every exchange, queue and binding Herald uses (idempotent).")

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let configuration = try CtlConfiguration.fromEnvironment()
        let connection = try await configuration.connect(purpose: "topology apply")
        try await connection.closing { connection in
            do {
                try await connection.declare(HeraldTopology.all)
            } catch {
                throw CtlError("declaring the topology failed: \(error) (run `heraldctl topology check` to see what differs)")
            }
        }
        let t = HeraldTopology.all
        if json {
            Output.json(
                .object([
                    "exchanges": .number(Double(t.exchanges.count)), "queues": .number(Double(t.queues.count)),
                    "bindings": .number(Double(t.bindings.count)),
                ]))
        } else {
            Output.line(
                "declared \(t.exchanges.count) exchanges, \(t.queues.count) queues, \(t.bindings.count) bindings on \(connection.configuration)"
            )
        }
    }
}

struct TopologyCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare the broker with the code: report missing exchanges/queues and argument mismatches.",
        discussion:
            "Creates nothing. Exits 1 when anything is missing or differs. Policies are not checked (see topology/definitions.json)."
    )

    @Flag(help: "Print one JSON object per exchange/queue.")
    var json = false

    func run() async throws {
        let configuration = try CtlConfiguration.fromEnvironment()
        // Fail with the usual one line when the broker is unreachable, before probing.
        await (try configuration.connect(purpose: "topology check")).close()
        var amqp = try AMQPConfiguration(url: configuration.amqpURL, connectionName: "heraldctl topology check")
        amqp.connectTimeout = .seconds(3)
        let findings = try await TopologyInspector(configuration: amqp, logger: configuration.amqpLogger).check()
        if json {
            for f in findings {
                Output.json(
                    .object([
                        "kind": .string(f.kind), "name": .string(f.name), "state": .string(f.state.rawValue),
                        "detail": f.detail.map(JSONValue.string) ?? .null,
                    ]))
            }
        } else {
            Output.table(
                ["KIND", "NAME", "STATE", "DETAIL"], findings.map { [$0.kind, $0.name, $0.state.rawValue, $0.detail ?? ""] })
        }
        let bad = findings.filter { $0.state != .ok }
        if !bad.isEmpty {
            throw CtlError(
                "\(bad.count) of \(findings.count) objects differ from the code: run `heraldctl topology apply` for missing ones; a mismatch needs the queue deleted and redeclared (or a new name)"
            )
        }
    }
}

struct TopologyExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print the topology as a RabbitMQ definitions file (heraldctl topology export > topology/definitions.json).")

    @Option(help: "The vhost to write into the definitions.")
    var vhost: String = "/"

    func run() async throws {
        FileHandle.standardOutput.write(try HeraldTopology.definitionsJSON(vhost: vhost))
    }
}
