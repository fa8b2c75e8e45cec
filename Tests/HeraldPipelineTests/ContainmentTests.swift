import AMQP
import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// What one tenant or one bad message does must not hurt anyone else (issue 12): run through
/// the real pipeline (ingest, signer, worker) on a real broker.
@Suite("Containment across the pipeline", .serialized)
struct ContainmentTests {
    /// 25 failing catch-all endpoints, one failing endpoint that also names `attempt.exhausted`,
    /// one healthy endpoint that names only `attempt.exhausted`; one event.
    @Test("operational events reach only endpoints that name them, never the one they are about, and never beget more")
    func operationalEventsDoNotFeedOnThemselves() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await PipelineHarness.start()
        do {
            let key = try await h.account("acct_ops")
            let catchAll = (1...25).map { "ep_fail_\($0)" }
            for id in catchAll { try await h.endpoint(id, key: key, url: receiver.url("/status/500")) }
            try await h.endpoint(
                "ep_watch_fail", key: key, url: receiver.url("/status/500"),
                eventTypes: ["message.*", "attempt.exhausted"])
            try await h.endpoint("ep_watch_ok", key: key, url: receiver.url("/status/200"), eventTypes: ["attempt.exhausted"])
            let all = catchAll + ["ep_watch_fail", "ep_watch_ok"]

            let sent = try await h.call("POST", "/v1/events", key: key, json: #"{"id":"evt_one","type":"message.failed"}"#)
            #expect(sent.status == 202, "\(sent)")

            // The event: 26 dead attempts. Their 26 attempt.exhausted events: 26 to ep_watch_ok,
            // 25 to ep_watch_fail (not the one about itself), none to a catch-all; those 25 fail
            // and announce nothing more. 77 attempts in all, and it stays there.
            let expected = 26 + 26 + 25
            _ = await eventually(timeout: .seconds(30)) {
                (try? await h.attempts(account: "acct_ops", endpoints: all).count) ?? 0 >= expected
            }
            try await Task.sleep(for: .seconds(4))
            let attempts = try await h.attempts(account: "acct_ops", endpoints: all)
            #expect(attempts.count == expected, "attempts recorded: expected \(expected), got \(attempts.count)")
            let toCatchAll = attempts.filter { $0.endpointId.hasPrefix("ep_fail_") && $0.eventId != "evt_one" }
            #expect(toCatchAll.isEmpty, "operational events delivered to catch-all endpoints: \(toCatchAll.count)")
            let watched = Set(attempts.filter { $0.endpointId == "ep_watch_ok" && $0.outcome == .delivered }.map(\.eventId))
            #expect(watched.count == 26, "exhausted events delivered to the subscriber: expected 26, got \(watched.count)")
            let aboutItself = attempts.filter { $0.endpointId == "ep_watch_fail" && $0.eventId != "evt_one" }
            #expect(aboutItself.count == 25, "exhausted events to the failing subscriber: expected 25, got \(aboutItself.count)")
            let signQueue = try await h.depth(HeraldNames.signQueue)
            #expect(signQueue == 0, "events still waiting for the signer: \(signQueue)")
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test("128-byte event, endpoint and account ids go through end to end, and a bystander account is unaffected")
    func longIdentifiersEndToEnd() async throws {
        let receiver = try await TestReceiver.start()
        let h = try await PipelineHarness.start()
        do {
            let long = { (prefix: String) in prefix + String(repeating: "x", count: 128 - prefix.count) }
            let longAccount = long("acct_"), longOK = long("ep_ok_"), longFail = long("ep_fail_"), longEvent = long("evt_")
            let hostile = try await h.account(longAccount)
            try await h.endpoint(longOK, key: hostile, url: receiver.url("/status/200"))
            try await h.endpoint(longFail, key: hostile, url: receiver.url("/status/500"))
            let bystander = try await h.account("acct_bystander")
            try await h.endpoint("ep_bystander", key: bystander, url: receiver.url("/status/200"))

            let sent = try await h.call(
                "POST", "/v1/events", key: hostile,
                json: #"{"id":"\#(longEvent)","type":"message.delivered"}"#)
            #expect(sent.status == 202, "\(sent)")
            var bystanderIds: [String] = []
            for n in 1...20 {
                let reply = try await h.call(
                    "POST", "/v1/events", key: bystander,
                    json: #"{"id":"evt_by_\#(n)","type":"message.delivered"}"#)
                #expect(reply.status == 202, "bystander event \(n): \(reply)")
                bystanderIds.append("evt_by_\(n)")
            }

            func attempts() async throws -> [AttemptRecord] {
                try await h.attempts(account: longAccount, endpoints: [longOK, longFail])
                    + h.attempts(account: "acct_bystander", endpoints: ["ep_bystander"])
            }
            let settled = await eventually(timeout: .seconds(30)) {
                let a = (try? await attempts()) ?? []
                return a.contains { $0.endpointId == longOK && $0.outcome == .delivered }
                    && a.contains { $0.endpointId == longFail && $0.outcome == .dead }
                    && Set(a.filter { $0.endpointId == "ep_bystander" && $0.outcome == .delivered }.map(\.eventId)).count == 20
            }
            let attempts = try await attempts()
            #expect(
                settled, "attempts: \(attempts.map { "\($0.endpointId.prefix(12))/\($0.eventId.prefix(12)): \($0.outcome)" })")
            let bystanderDelivered = Set(
                attempts.filter { $0.endpointId == "ep_bystander" && $0.outcome == .delivered }.map(\.eventId))
            #expect(bystanderDelivered == Set(bystanderIds), "bystander deliveries: \(bystanderDelivered.count) of 20")
            #expect(
                !attempts.contains { $0.endpointId == "ep_bystander" && $0.outcome != .delivered },
                "a bystander delivery failed")

            // The dead letter keeps the long ids in its headers (AMQP long strings).
            let letters = try await h.connection.take(1, from: HeraldNames.deadQueue, timeout: .seconds(10))
            #expect(letters.count == 1, "dead letters: expected 1, got \(letters.count)")
            let headers = letters.first?.properties.headers ?? [:]
            #expect(headers[DeadLetterHeaders.eventId]?.stringValue == longEvent)
            #expect(headers[DeadLetterHeaders.endpointId]?.stringValue == EndpointKey.key(account: longAccount, id: longFail))
            #expect(headers[DeadLetterHeaders.account]?.stringValue == longAccount)
            #expect((letters.first?.properties.messageId?.utf8.count ?? 0) <= 255)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
