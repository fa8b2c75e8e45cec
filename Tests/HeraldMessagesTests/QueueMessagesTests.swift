import AMQP
import Foundation
import HeraldCore
import HeraldMessages
import Testing

@Suite("Message ids that always fit AMQP short strings")
struct MessageIDTests {
    @Test("short parts are joined with ':' as they are")
    func shortIdsPassThrough() {
        #expect(MessageID.job(eventId: "evt_1", endpointId: "ep_1") == "evt_1:ep_1")
        #expect(MessageID.attempt(eventId: "evt_1", endpointId: "ep_1", attempt: 3) == "evt_1:ep_1:3")
        #expect(MessageID.event("evt_1") == "evt_1")
    }

    @Test("exactly 255 bytes is kept; 256 becomes the SHA-256 of the joined text")
    func boundary() {
        let fits = String(repeating: "a", count: 127) + ":" + String(repeating: "b", count: 127)
        #expect(MessageID.derive([String(repeating: "a", count: 127), String(repeating: "b", count: 127)]) == fits)
        let long = MessageID.derive([String(repeating: "a", count: 200), String(repeating: "b", count: 100)])
        #expect(long == "sha256:57bfdfb975f6183d1f59df0ab0957d15ce6b5d04c648a664c18ad27a94544b34")
    }

    @Test("128-byte event and endpoint ids give a hashed attempt id (fixed vector)")
    func maximalIds() {
        let id = MessageID.attempt(
            eventId: "evt_" + String(repeating: "x", count: 124),
            endpointId: "ep_" + String(repeating: "y", count: 125), attempt: 1)
        #expect(id == "sha256:8701df262d217a3194a12f8f1622af090e08ebc39d7be7db941f6a4f19167a22")
    }

    @Test("an informative property is cut to 255 bytes on a character boundary")
    func fitted() {
        #expect(MessageID.fitted("message.sent") == "message.sent")
        let cut = MessageID.fitted(String(repeating: "é", count: 200))  // 400 bytes
        #expect(cut.utf8.count == 254, "got \(cut.utf8.count) bytes")
    }
}

@Suite("Queue messages built in one place")
struct QueueMessagesTests {
    let longEvent = Event(
        id: "evt_" + String(repeating: "e", count: 124), type: "message.delivered",
        account: "acct_" + String(repeating: "a", count: 123), occurredAt: Timestamp(millisecondsSinceEpoch: 0),
        data: ["messageId": "m1"])

    func job(endpointId: String) -> DeliveryJob {
        DeliveryJob(
            endpointId: endpointId, url: "https://example.com/hook", profile: "standard", attempt: 2,
            firstAttemptAt: Timestamp(millisecondsSinceEpoch: 0), signedAt: Timestamp(millisecondsSinceEpoch: 0),
            policy: RetryPolicy(connectTimeoutMs: 1_000, timeoutMs: 5_000, delaysSeconds: [1], retryOn: []),
            headers: [HTTPHeader("webhook-id", longEvent.id)], body: Array("{}".utf8),
            event: longEvent)
    }

    /// Every AMQP short string of a publication: what rabbitmq-c refuses beyond 255 bytes.
    func shortStrings(_ p: AMQPPublication) -> [String] {
        let q = p.properties
        return [p.exchange, p.routingKey] + Array(q.headers.keys)
            + [
                q.contentType, q.contentEncoding, q.correlationId, q.replyTo, q.expiration, q.messageId, q.type, q.userId,
                q.appId,
            ]
            .compactMap { $0 }
    }

    @Test("with 128-byte ids everywhere, every message's short strings fit in 255 bytes")
    func everythingFits() {
        let job = job(endpointId: "callback:" + longEvent.account)
        let record = AttemptRecord(
            eventId: longEvent.id, endpointId: job.endpointId, attempt: 2, at: .now(), outcome: .dead,
            latencyMs: 1, url: job.url, account: longEvent.account, eventType: longEvent.type)
        let letter = DeadLetterCause.about(job, reason: "retries-exhausted", error: "HTTP 500", attempts: 2, lastStatus: 500)
        let all = [
            QueueMessages.event(longEvent, from: .ingest),
            QueueMessages.job(job, to: .deliver, from: .signer),
            QueueMessages.job(job, to: .tier(DelayTier.all[0]), from: .worker, parkedBecause: "endpoint_busy"),
            QueueMessages.job(job, to: .resign, from: .ctl),
            QueueMessages.attempt(record, from: .worker),
            QueueMessages.dead(job, letter, from: .worker, now: .now()),
            QueueMessages.control(ControlNotice(notice: .endpointChanged, account: longEvent.account), from: .ingest),
        ]
        for publication in all {
            for text in shortStrings(publication) {
                #expect(
                    text.utf8.count <= MessageID.shortStringLimit,
                    "\(publication.exchange): '\(text.prefix(40))…' is \(text.utf8.count) bytes")
            }
        }
    }

    @Test("a job carries its ids, attempt and account as headers, and its route")
    func jobProperties() throws {
        let p = QueueMessages.job(
            job(endpointId: "ep_1"), to: .tier(DelayTier.all[0]), from: .worker, parkedBecause: "rate_limit")
        #expect(p.exchange == HeraldNames.retryExchange)
        #expect(p.routingKey == DelayTier.all[0].name)
        #expect(p.properties.headers[MessageHeaders.eventId]?.stringValue == longEvent.id)
        #expect(p.properties.headers[MessageHeaders.endpointId]?.stringValue == "ep_1")
        #expect(p.properties.headers[MessageHeaders.attempt]?.intValue == 2)
        #expect(p.properties.headers[MessageHeaders.account]?.stringValue == longEvent.account)
        #expect(p.properties.headers[MessageHeaders.parked]?.stringValue == "rate_limit")
        #expect(p.properties.appId == "herald-worker")
        #expect(p.properties.persistent)
        #expect(try DeliveryJob.wireDecoded(p.body).event == longEvent, "the original ids stay in the body")
    }

    @Test("a dead input keeps its bytes, message id and headers, and says why")
    func deadInput() {
        let original = AMQPProperties(headers: ["x-trace": "t1"], persistent: false, messageId: "platform-7")
        let p = QueueMessages.dead(
            input: Data([0xFF, 0x00]), properties: original,
            DeadLetterCause(reason: "invalid-event", error: "not JSON"), from: .signer,
            now: Timestamp(millisecondsSinceEpoch: 1_000))
        #expect(p.exchange == HeraldNames.deadExchange)
        #expect(p.body == Data([0xFF, 0x00]))
        #expect(p.properties.messageId == "platform-7")
        #expect(p.properties.headers["x-trace"]?.stringValue == "t1")
        #expect(p.properties.headers[DeadLetterHeaders.reason]?.stringValue == "invalid-event")
        #expect(p.properties.headers[DeadLetterHeaders.source]?.stringValue == "herald-signer")
        #expect(p.properties.headers[DeadLetterHeaders.deadAt]?.stringValue == "1970-01-01T00:00:01.000Z")
        #expect(p.properties.persistent, "a dead letter survives a broker restart")
        #expect(p.properties.contentType == "application/octet-stream")
    }
}
