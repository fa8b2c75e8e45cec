import AMQP
import Foundation
import HeraldCore
import HeraldSigner
import HeraldSigning
import HeraldStore
import HeraldTestSupport
import Testing

@Suite("Signer fan-out (real broker, real SQLite store)")
struct SignerFanOutTests {
    @Test("an event goes to every enabled endpoint whose event-type and recipient filters match, one job each")
    func fanOutWithFilters() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_f")
        try await h.endpoint("ep_all", account: "acct_f")
        try await h.endpoint("ep_glob", account: "acct_f", eventTypes: ["message.*"])
        try await h.endpoint("ep_sms", account: "acct_f", eventTypes: ["sms.*"])
        try await h.endpoint("ep_number", account: "acct_f", recipients: ["977-9818000000"])
        try await h.endpoint("ep_other_number", account: "acct_f", recipients: ["+15550000000"])
        try await h.endpoint("ep_off", account: "acct_f", state: .disabled(reason: "admin", at: .now()))
        try await h.account("acct_g")
        try await h.endpoint("ep_g", account: "acct_g")
        let (signer, _) = try await h.startSigner()

        let event = Event.status(account: "acct_f", recipient: "+9779818000000")
        try await h.publish(event)
        let messages = try await h.take(3, from: HeraldNames.deliverQueue)
        let jobs = try messages.map { try DeliveryJob.wireDecoded($0.body) }
        #expect(Set(jobs.map(\.endpointId)) == ["ep_all", "ep_glob", "ep_number"])
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue))
        for (message, job) in zip(messages, jobs) {
            #expect(job.attempt == 1)
            #expect(job.event == event)
            #expect(job.url == "https://receiver.example/\(job.endpointId)")
            #expect(message.properties.messageId == "\(event.id):\(job.endpointId)")
            #expect(message.properties.contentType == "application/json")
            #expect(message.properties.persistent)
            #expect(message.properties.headers["herald-event-id"]?.stringValue == event.id)
            #expect(message.properties.headers["herald-endpoint-id"]?.stringValue == job.endpointId)
            #expect(message.properties.headers["herald-attempt"]?.intValue == 1)
        }
        #expect(signer.statistics.snapshot.jobsSigned == 3)
        #expect(try await h.staysEmpty(HeraldNames.signQueue, for: .milliseconds(10)))
    }

    @Test("an event's callbackUrl gets a job too, signed with the account's default profile and secret")
    func callbackUrl() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        let account = try await h.account("acct_cb", profile: "eksms")
        let endpoint = try await h.endpoint("ep_cb", account: "acct_cb")
        try await h.startSigner()

        let event = Event.status(account: "acct_cb", callbackUrl: "https://customer.example/one-off")
        try await h.publish(event)
        let jobs = try await h.jobs(2)
        #expect(jobs.count == 2)
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue))
        let callback = try #require(jobs.first { $0.url == "https://customer.example/one-off" })
        let stored = try #require(jobs.first { $0.endpointId == "ep_cb" })
        #expect(callback.profile == "eksms")
        #expect(callback.endpointId == "callback:acct_cb")
        #expect(callback.headers[header: "X-EKSMS-Signature"] != nil)
        #expect(stored.url == endpoint.url, "the stored endpoint keeps its own URL")
        #expect(stored.profile == "standard")
        let asEndpoint = Endpoint(
            id: callback.endpointId, account: account.id, url: callback.url, profile: "eksms",
            secrets: account.defaultSecrets)
        #expect(throws: Never.self) {
            try Signer.verify(
                ReceivedWebhook(body: callback.body, headers: callback.headers, url: callback.url),
                for: asEndpoint, now: .now())
        }
        #expect(throws: Never.self) {
            try Signer.verify(
                ReceivedWebhook(body: stored.body, headers: stored.headers, url: stored.url),
                for: endpoint, now: .now())
        }
    }

    @Test("each profile's signature headers are on its job, and every signature verifies")
    func profileHeaders() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_p")
        // Every registered profile gets an endpoint; these are the headers each shipped one is known to send.
        let profiles = ProfileRegistry.standard.names
        let expected: [String: [String]] = [
            "standard": ["webhook-id", "webhook-timestamp", "webhook-signature"],
            "eksms": ["X-EKSMS-Signature", "X-EKSMS-Event"],
            "ekdsend": ["X-EKDSend-Signature"],
            "httpsms": ["Authorization", "X-Event-Type"],
            "sinch": [
                "x-sinch-webhook-signature", "x-sinch-webhook-signature-timestamp",
                "x-sinch-webhook-signature-nonce", "x-sinch-webhook-signature-algorithm",
            ],
            "teekrr": ["X-Teekrr-Signature", "X-Teekrr-Event"],
        ]
        var endpoints: [String: Endpoint] = [:]
        for profile in profiles {
            endpoints["ep_\(profile)"] = try await h.endpoint("ep_\(profile)", account: "acct_p", profile: profile)
        }
        try await h.startSigner()
        try await h.publish(Event.status(account: "acct_p"))
        let jobs = try await h.jobs(profiles.count)
        #expect(Set(jobs.map(\.profile)) == Set(profiles), "expected a job per profile \(profiles), got \(jobs.map(\.profile))")
        for job in jobs {
            let names = Set(job.headers.map { $0.name.lowercased() })
            for name in expected[job.profile] ?? [] {
                #expect(names.contains(name.lowercased()), "\(job.profile): missing \(name); got \(names.sorted())")
            }
            let endpoint = try #require(endpoints[job.endpointId])
            #expect(throws: Never.self, "\(job.profile) signature verifies") {
                try Signer.verify(ReceivedWebhook(body: job.body, headers: job.headers, url: job.url), for: endpoint, now: .now())
            }
        }
    }

    @Test("an event no endpoint wants is acknowledged and counted, and produces no job")
    func noMatch() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_n")
        try await h.endpoint("ep_n", account: "acct_n", eventTypes: ["call.*"])
        let (signer, _) = try await h.startSigner()
        try await h.publish(Event.status(account: "acct_n"))
        let counted = await eventually { signer.statistics.snapshot.noMatch == 1 }
        #expect(counted, "no-match count: \(signer.statistics.snapshot.noMatch)")
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue))
        #expect(try await h.connection.inspect(queue: HeraldNames.signQueue).messageCount == 0)
    }

    @Test("a control notice drops the account's cached endpoints, so a new endpoint gets the next event")
    func controlNotice() async throws {
        let h = try await SignerHarness.make()
        defer { Task { await h.finish() } }
        try await h.account("acct_c")
        try await h.endpoint("ep_c1", account: "acct_c")
        let (signer, _) = try await h.startSigner()
        try await h.publish(Event.status(account: "acct_c"))
        #expect(try await h.jobs(1).map(\.endpointId) == ["ep_c1"])

        try await h.endpoint("ep_c2", account: "acct_c")
        try await h.publish(Event.status(account: "acct_c"))
        #expect(try await h.jobs(1).map(\.endpointId) == ["ep_c1"], "still cached: the notice was not sent yet")
        #expect(try await h.staysEmpty(HeraldNames.deliverQueue))

        try await h.connection.publish(
            AMQPPublication(
                exchange: HeraldNames.controlExchange, routingKey: "",
                body: Data(ControlNotice(notice: .endpointChanged, account: "acct_c", endpointId: "ep_c2").wireEncoded())))
        let dropped = await eventually { signer.statistics.snapshot.cacheInvalidations >= 1 }
        #expect(dropped)
        try await h.publish(Event.status(account: "acct_c"))
        #expect(Set(try await h.jobs(2).map(\.endpointId)) == ["ep_c1", "ep_c2"])
    }
}
