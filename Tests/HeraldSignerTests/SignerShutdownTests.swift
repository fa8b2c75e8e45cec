import AMQP
import Foundation
import HeraldCore
import HeraldSigner
import HeraldTestSupport
import Logging
import ServiceLifecycle
import Testing

@Suite("Signer graceful shutdown (real broker, real SQLite store)")
struct SignerShutdownTests {
    @Test("a graceful shutdown finishes the inputs in flight: each event is signed exactly once or still queued")
    func gracefulShutdown() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_s")
        try await h.endpoint("ep_s", account: "acct_s")
        let events = (0..<300).map { _ in Event.status(account: "acct_s") }
        for chunk in stride(from: 0, to: events.count, by: 50) {
            try await h.connection.publish(
                events[chunk..<min(chunk + 50, events.count)].map {
                    AMQPPublication(exchange: HeraldNames.eventsExchange, routingKey: $0.type, body: Data($0.wireEncoded()))
                })
        }
        let signer = SignerService(
            configuration: SignerConfiguration(amqpURL: h.url, prefetch: 64, connectionName: "signer-graceful"),
            directory: h.directory)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: signer)],
                logger: Logger(label: "test.signer.group")))
        let run = Task { try await group.run() }
        let started = await eventually(timeout: .seconds(30)) { signer.statistics.snapshot.jobsSigned >= 30 }
        #expect(started)
        await group.triggerGracefulShutdown()
        try await run.value

        let signed = signer.statistics.snapshot.jobsSigned
        let settled = await eventually {
            (try? await h.connection.inspect(queue: HeraldNames.signQueue).messageCount) == events.count - signed
        }
        let queued = try await h.connection.inspect(queue: HeraldNames.signQueue).messageCount
        #expect(settled, "signed \(signed) + still queued \(queued) should be \(events.count)")
        let published = await eventually(timeout: .seconds(30)) {
            (try? await h.connection.inspect(queue: HeraldNames.deliverQueue).messageCount) == signed
        }
        #expect(published, "jobs in herald.deliver should equal the \(signed) the signer counted")
        let jobs = try await h.jobs(signed, timeout: .seconds(60))
        #expect(jobs.count == signed)
        #expect(Set(jobs.map(\.event.id)).count == signed, "no event signed twice")
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue, for: .milliseconds(200)))
    }
}
