import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import HeraldTopology
import Testing

/// Bad input and unreachable services: one clear line and a non-zero exit.
@Suite("heraldctl errors and topology")
struct CLIErrorTests {
    @Test("a bad flag exits 64 with a usage message")
    func badFlag() throws {
        let r = try CtlBinary.run(["dlq", "list", "--no-such-flag"], amqpURL: nil)
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr.contains("Unknown option '--no-such-flag'"), "\(r)")
        let rate = try CtlBinary.run(["dlq", "replay", "--all", "--rate", "fast"], amqpURL: nil)
        #expect(rate.status == 64 && rate.stderr.contains("--rate 'fast' is not a rate"), "\(rate)")
        let nothing = try CtlBinary.run(["dlq", "replay"], amqpURL: nil)
        #expect(nothing.status == 64 && nothing.stderr.contains("say what to replay"), "\(nothing)")
    }

    @Test("an unreachable broker is one line naming the URL, exit 1")
    func unreachableBroker() throws {
        let r = try CtlBinary.run(["dlq", "list"], amqpURL: "amqp://guest:guest@127.0.0.1:1/")
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/"), "\(r)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
    }

    @Test("an unreachable herald-ingest is one line naming it, exit 1")
    func unreachableIngest() throws {
        let r = try CtlBinary.run(["endpoints", "list"], amqpURL: nil, extra: ["HERALD_INGEST_URL": "http://127.0.0.1:1"])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("cannot reach herald-ingest"), "\(r)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r)")
    }

    @Test("topology export reproduces HeraldTopology.definitionsJSON exactly")
    func export() throws {
        let r = try CtlBinary.run(["topology", "export"], amqpURL: nil)
        #expect(r.status == 0)
        #expect(Data(r.stdout.utf8) == (try HeraldTopology.definitionsJSON()))
    }

    @Test("topology check reports missing objects, apply declares them, and a mismatch is named")
    func applyAndCheck() async throws {
        let (vhost, url) = try TestBroker.isolatedVhost("ctl-topo")
        defer { TestBroker.deleteVhost(vhost) }
        let empty = try CtlBinary.run(["topology", "check", "--json"], amqpURL: url)
        #expect(empty.status == 1, "\(empty)")
        let states = empty.strings("state")
        #expect(states.count == HeraldTopology.all.exchanges.count + HeraldTopology.all.queues.count)
        #expect(Set(states) == ["missing"], "\(states)")

        let apply = try CtlBinary.run(["topology", "apply"], amqpURL: url)
        #expect(apply.status == 0, "\(apply)")
        let ok = try CtlBinary.run(["topology", "check"], amqpURL: url)
        #expect(ok.status == 0, "\(ok)")

        // A queue declared by hand with other arguments is a mismatch.
        var configuration = try AMQPConfiguration(url: url, connectionName: "test-topo")
        configuration.connectTimeout = .seconds(3)
        let connection = try await AMQPConnection.connect(configuration)
        try await connection.delete(queue: HeraldNames.attemptsQueue)
        try await connection.declare(AMQPTopology(queues: [.classic(HeraldNames.attemptsQueue)]))
        await connection.close()
        let bad = try CtlBinary.run(["topology", "check"], amqpURL: url)
        #expect(bad.status == 1, "\(bad)")
        #expect(
            bad.stdout.contains("herald.attempts") && bad.stdout.contains("mismatch") && bad.stdout.contains("inequivalent arg"),
            "\(bad)")
    }
}
