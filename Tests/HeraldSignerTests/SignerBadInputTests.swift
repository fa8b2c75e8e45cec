import AMQP
import Foundation
import HeraldCore
import HeraldSigner
import HeraldSigning
import HeraldStore
import HeraldTestSupport
import Testing

@Suite("Signer bad input and store outage (real broker, real SQLite store)")
struct SignerBadInputTests {
    @Test("poison messages go to herald.dead with a reason, and the events behind them still flow")
    func poison() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_ok")
        try await h.endpoint("ep_ok", account: "acct_ok")
        let (signer, _) = try await h.startSigner()

        try await h.publishRaw([0xFF, 0x00, 0xC3, 0x28])
        try await h.publishRaw(Array("{\"kind\":\"herald.event\",".utf8))
        try await h.publishRaw(
            Array(
                #"{"kind":"herald.event","v":1,"id":"evt_x","account":"acct_ok","occurredAt":"2026-06-20T05:51:00.000Z","data":{}}"#
                    .utf8))
        try await h.publish(Event.status(account: "acct_nobody"))
        let good = Event.status(account: "acct_ok")
        try await h.publish(good)

        let jobs = try await h.jobs(1)
        #expect(jobs.map(\.event.id) == [good.id])
        let dead = try await h.take(4, from: HeraldNames.deadQueue)
        let reasons = dead.compactMap { $0.properties.headers[DeadLetterHeaders.reason]?.stringValue }.sorted()
        #expect(reasons == ["invalid-event", "invalid-event", "invalid-event", "unknown-account"])
        #expect(dead.allSatisfy { $0.properties.headers[DeadLetterHeaders.error]?.stringValue?.isEmpty == false })
        #expect(dead.first { $0.body == Data([0xFF, 0x00, 0xC3, 0x28]) } != nil, "the raw bytes are kept as they were")
        #expect(signer.statistics.snapshot.deadLettered == ["invalid-event": 3, "unknown-account": 1])
        #expect(try await h.connection.inspect(queue: HeraldNames.signQueue).messageCount == 0)
    }

    @Test("a dead letter keeps the input's message id and headers, so an operator finds it by its own id")
    func deadLetterKeepsProperties() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.startSigner()
        try await h.connection.publish(
            AMQPPublication(
                exchange: HeraldNames.eventsExchange, routingKey: "message.delivered", body: Data("not json".utf8),
                properties: AMQPProperties(
                    contentType: "text/plain", headers: ["x-platform-trace": "trace-42"],
                    messageId: "platform-msg-7", appId: "platform")))
        let dead = try #require(try await h.take(1, from: HeraldNames.deadQueue).first)
        #expect(dead.properties.messageId == "platform-msg-7")
        #expect(dead.properties.headers["x-platform-trace"]?.stringValue == "trace-42")
        #expect(dead.properties.contentType == "text/plain")
        #expect(dead.properties.headers[DeadLetterHeaders.reason]?.stringValue == "invalid-event")
        #expect(dead.body == Data("not json".utf8))
    }

    @Test("while the store is unreachable events are requeued, not dropped or dead-lettered; once back they are signed")
    func storeOutage() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_out")
        try await h.endpoint("ep_out", account: "acct_out")
        h.directory.down.store(true, ordering: .relaxed)
        let (signer, _) = try await h.startSigner()
        let events = (0..<3).map { _ in Event.status(account: "acct_out") }
        for event in events { try await h.publish(event) }

        let retried = await eventually { h.directory.failedReads.load(ordering: .relaxed) >= 6 }
        #expect(retried, "store reads attempted: \(h.directory.failedReads.load(ordering: .relaxed))")
        #expect(signer.statistics.snapshot.requeued["store", default: 0] >= 3)
        #expect(try await h.connection.inspect(queue: HeraldNames.deliverQueue).messageCount == 0)
        #expect(try await h.connection.inspect(queue: HeraldNames.deadQueue).messageCount == 0)

        h.directory.down.store(false, ordering: .relaxed)
        let jobs = try await h.jobs(3)
        #expect(Set(jobs.map(\.event.id)) == Set(events.map(\.id)))
        #expect(try await h.staysEmpty(HeraldNames.deadQueue, for: .milliseconds(10)))
    }

    @Test("a signer killed mid-batch loses nothing: another signer finishes, duplicates are possible and counted")
    func killedMidBatch() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_k")
        try await h.endpoint("ep_k1", account: "acct_k")
        try await h.endpoint("ep_k2", account: "acct_k", profile: "sinch")
        let events = (0..<400).map { _ in Event.status(account: "acct_k") }
        for chunk in stride(from: 0, to: events.count, by: 50) {
            try await h.connection.publish(
                events[chunk..<min(chunk + 50, events.count)].map {
                    AMQPPublication(exchange: HeraldNames.eventsExchange, routingKey: $0.type, body: Data($0.wireEncoded()))
                })
        }
        let (first, firstTask) = try await h.startSigner(prefetch: 128)
        let midway = await eventually(timeout: .seconds(30)) { first.statistics.snapshot.jobsSigned >= 100 }
        #expect(midway)
        firstTask.cancel()
        _ = try? await firstTask.value
        let signedBeforeKill = first.statistics.snapshot.jobsSigned
        #expect(signedBeforeKill < 800, "killed mid-batch, not after: \(signedBeforeKill) jobs")

        let (second, _) = try await h.startSigner(prefetch: 128)
        var seen: [String: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(60)
        while seen.count < 800, ContinuousClock.now < deadline {
            for job in try await h.jobs(100, timeout: .milliseconds(500)) {
                seen["\(job.event.id):\(job.endpointId)", default: 0] += 1
            }
        }
        let total = seen.values.reduce(0, +)
        let duplicates = total - seen.count
        #expect(seen.count == 800, "every (event, endpoint) pair got a job: \(seen.count) of 800")
        #expect(Set(seen.keys.map { String($0.split(separator: ":")[0]) }) == Set(events.map(\.id)))
        #expect(try await h.connection.inspect(queue: HeraldNames.signQueue).messageCount == 0)
        // Duplicates come only from inputs redelivered after the kill, and the new signer counts those.
        if duplicates > 0 {
            #expect(second.statistics.snapshot.redelivered > 0)
        }
        #expect(
            duplicates <= 2 * second.statistics.snapshot.redelivered,
            "duplicates \(duplicates), redelivered inputs \(second.statistics.snapshot.redelivered)")
        print(
            "signer killed mid-batch: \(signedBeforeKill) jobs before the kill, \(duplicates) duplicate jobs, "
                + "\(second.statistics.snapshot.redelivered) redelivered inputs")
    }
}
