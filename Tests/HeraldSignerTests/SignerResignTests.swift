import AMQP
import Foundation
import HeraldCore
import HeraldSigner
import HeraldSigning
import HeraldStore
import HeraldTestSupport
import Testing

@Suite("Signer re-signing of retries and replays (real broker, real SQLite store)")
struct SignerResignTests {
    @Test("a retry is re-signed with a fresh timestamp and signature, keeps its attempt, and both verify")
    func freshSignature() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_r")
        let endpoint = try await h.endpoint("ep_r", account: "acct_r")
        try await h.startSigner()
        try await h.publish(Event.status(account: "acct_r"))
        let first = try #require(try await h.jobs(1).first)

        // Standard Webhooks timestamps have whole seconds: wait for the next one.
        try await Task.sleep(for: .milliseconds(1_100))
        var retry = first
        retry.attempt = 2
        try await h.publishResign(retry)
        let second = try #require(try await h.jobs(1).first)

        #expect(second.attempt == 2)
        #expect(second.firstAttemptAt == first.firstAttemptAt)
        #expect(second.signedAt > first.signedAt)
        #expect(second.event == first.event)
        #expect(first.headers[header: "webhook-timestamp"] != second.headers[header: "webhook-timestamp"])
        #expect(first.headers[header: "webhook-signature"] != second.headers[header: "webhook-signature"])
        for job in [first, second] {
            #expect(throws: Never.self) {
                try Signer.verify(ReceivedWebhook(body: job.body, headers: job.headers, url: job.url), for: endpoint, now: .now())
            }
        }
    }

    @Test("without a change notice, a changed endpoint is picked up once the cache's time to live has passed")
    func cacheExpiresWithoutNotice() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_ttl")
        var endpoint = try await h.endpoint("ep_ttl", account: "acct_ttl")
        try await h.startSigner(cacheTTL: .seconds(1))
        try await h.publish(Event.status(account: "acct_ttl"))
        let first = try #require(try await h.jobs(1).first)
        #expect(first.url == endpoint.url)

        // The notice is lost (no control message at all): only the time to live can help.
        endpoint.url = "https://moved.example/ttl"
        try await h.store.updateEndpoint(EndpointRecord(endpoint: endpoint, createdAt: .now(), updatedAt: .now()))
        try await Task.sleep(for: .milliseconds(1_500))
        try await h.publish(Event.status(account: "acct_ttl"))
        let second = try #require(try await h.jobs(1).first)
        #expect(second.url == "https://moved.example/ttl", "a stale cached URL was used: \(second.url)")
    }

    @Test("after the change notice, a retry picks up the rotated secret and new URL from the store")
    func currentSecretAndURL() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_rot")
        var endpoint = try await h.endpoint("ep_rot", account: "acct_rot", profile: "eksms")
        let (signer, _) = try await h.startSigner()
        try await h.publish(Event.status(account: "acct_rot"))
        let first = try #require(try await h.jobs(1).first)

        endpoint.rotate(to: try Signer.generateSecret(profile: "eksms").stored, at: .now(), graceSeconds: 0)
        endpoint.url = "https://moved.example/hook"
        try await h.store.updateEndpoint(EndpointRecord(endpoint: endpoint, createdAt: .now(), updatedAt: .now()))
        // What herald-ingest publishes after every endpoint change; the signer drops its cache.
        try await h.connection.publish(
            AMQPPublication(
                exchange: HeraldNames.controlExchange, routingKey: "",
                body: Data(ControlNotice(notice: .endpointChanged, account: "acct_rot", endpointId: "ep_rot").wireEncoded())))
        let dropped = await eventually { signer.statistics.snapshot.cacheInvalidations >= 1 }
        #expect(dropped)
        var retry = first
        retry.attempt = 2
        try await h.publishResign(retry)
        let second = try #require(try await h.jobs(1).first)
        #expect(second.url == "https://moved.example/hook")
        #expect(second.headers[header: "X-EKSMS-Signature"] != first.headers[header: "X-EKSMS-Signature"])
        #expect(throws: Never.self) {
            try Signer.verify(
                ReceivedWebhook(body: second.body, headers: second.headers, url: second.url),
                for: endpoint, now: .now())
        }
    }

    @Test("a job not due yet is parked in the delay tier that covers the wait, attempt unchanged")
    func parksUntilNotBefore() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_park")
        let endpoint = try await h.endpoint("ep_park", account: "acct_park")
        let (signer, _) = try await h.startSigner()
        var job = try Signer.sign(Event.status(account: "acct_park"), for: endpoint, now: .now())
        job.attempt = 3
        job.notBefore = Timestamp.now().adding(seconds: 90)
        try await h.publishResign(job)
        let parked = try await h.take(1, from: DelayTier.atLeast(seconds: 90).queueName)
        #expect(parked.count == 1, "expected the job in \(DelayTier.atLeast(seconds: 90).queueName)")
        let back = try DeliveryJob.wireDecoded(try #require(parked.first).body)
        #expect(back.attempt == 3)
        #expect(back.notBefore == job.notBefore)
        #expect(signer.statistics.snapshot.parked == 1)
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue))
    }

    @Test("a retry for a deleted endpoint is recorded as dropped and dead-lettered with reason endpoint-deleted, not delivered")
    func deletedEndpoint() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_del")
        let endpoint = try await h.endpoint("ep_del", account: "acct_del")
        var job = try Signer.sign(Event.status(account: "acct_del"), for: endpoint, now: .now())
        job.attempt = 2
        #expect(try await h.store.deleteEndpoint(id: "ep_del"))
        try await h.startSigner()
        try await h.publishResign(job)
        let records = try await h.take(1, from: HeraldNames.attemptsQueue)
        let record = try AttemptRecord.wireDecoded(try #require(records.first).body)
        #expect(record.outcome == .dropped)
        #expect(record.endpointId == "ep_del")
        #expect(record.eventId == job.event.id)
        #expect(record.attempt == 2)
        // Nothing that reaches a Herald queue vanishes: the job is kept where an operator finds it.
        let dead = try #require(try await h.take(1, from: HeraldNames.deadQueue).first, "no dead letter for the deleted endpoint")
        #expect(dead.properties.headers[DeadLetterHeaders.reason]?.stringValue == "endpoint-deleted")
        #expect(dead.properties.headers[DeadLetterHeaders.endpointId]?.stringValue == "ep_del")
        #expect(try DeliveryJob.wireDecoded(dead.body) == job, "the dead letter is the job as it was")
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue))
        #expect(try await h.connection.inspect(queue: HeraldNames.resignQueue).messageCount == 0)
    }

    @Test("a retry for a disabled endpoint is dead-lettered with reason endpoint-disabled, job unchanged")
    func disabledEndpoint() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_dis")
        let endpoint = try await h.endpoint(
            "ep_dis", account: "acct_dis",
            state: .disabled(reason: "410 Gone", at: .now()))
        var job = try Signer.sign(Event.status(account: "acct_dis"), for: endpoint, now: .now())
        job.attempt = 4
        try await h.startSigner()
        try await h.publishResign(job)
        let dead = try #require(try await h.take(1, from: HeraldNames.deadQueue).first)
        #expect(dead.properties.headers[DeadLetterHeaders.reason]?.stringValue == "endpoint-disabled")
        #expect(dead.properties.headers[DeadLetterHeaders.endpointId]?.stringValue == "ep_dis")
        #expect(dead.properties.headers[DeadLetterHeaders.attempts]?.intValue == 3)
        #expect(dead.properties.headers[DeadLetterHeaders.source]?.stringValue == "herald-signer")
        #expect(try DeliveryJob.wireDecoded(dead.body) == job, "the dead letter is the job as it was, ready to replay")
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue))
    }
}
