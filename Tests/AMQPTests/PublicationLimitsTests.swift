import Foundation
import Testing

@testable import AMQP

/// The Swift-side check of AMQP's encoding limits, with fixed vectors (no broker).
@Suite("Checking a publication against AMQP's encoding limits")
struct PublicationLimitsTests {
    static let frameMax = 131_072

    func problem(_ publication: AMQPPublication, reserved: Int = 0) -> String? {
        publication.encodingProblem(frameMax: Self.frameMax, reservedHeaderBytes: reserved)
    }

    @Test("short strings of exactly 255 bytes, long header values and a big body are fine")
    func withinLimits() {
        let s255 = String(repeating: "a", count: 255)
        let publication = AMQPPublication(
            exchange: s255, routingKey: s255, body: Data(count: 1_000_000),
            properties: AMQPProperties(
                contentType: s255, contentEncoding: s255, headers: [s255: .string(String(repeating: "v", count: 10_000))],
                correlationId: s255, replyTo: s255, expiration: s255, messageId: s255,
                type: s255, userId: s255, appId: s255))
        let got = problem(publication)
        #expect(got == nil, "expected no problem, got \(String(describing: got))")
    }

    @Test(
        "each short-string field over 255 bytes is named with its length and the limit",
        arguments: [
            "exchange name", "routing key", "content type", "content encoding", "correlation id",
            "reply-to", "expiration", "message id", "type", "user id", "app id",
        ])
    func overlongField(_ field: String) {
        let long = String(repeating: "é", count: 150)  // 300 bytes of UTF-8
        var publication = AMQPPublication(exchange: "", routingKey: "q", body: Data())
        switch field {
        case "exchange name": publication.exchange = long
        case "routing key": publication.routingKey = long
        case "content type": publication.properties.contentType = long
        case "content encoding": publication.properties.contentEncoding = long
        case "correlation id": publication.properties.correlationId = long
        case "reply-to": publication.properties.replyTo = long
        case "expiration": publication.properties.expiration = long
        case "message id": publication.properties.messageId = long
        case "type": publication.properties.type = long
        case "user id": publication.properties.userId = long
        default: publication.properties.appId = long
        }
        let got = problem(publication)
        #expect(
            got == "the \(field) is 300 bytes, over AMQP's 255-byte limit for short strings", "got: \(String(describing: got))")
    }

    @Test("a header name over 255 bytes is refused, even nested in a table inside an array")
    func overlongHeaderName() {
        let key = String(repeating: "h", count: 256)
        let top = problem(
            AMQPPublication(exchange: "", routingKey: "q", body: Data(), properties: AMQPProperties(headers: [key: 1])))
        #expect(top?.contains("is 256 bytes") == true, "got: \(String(describing: top))")
        let nested = problem(
            AMQPPublication(
                exchange: "", routingKey: "q", body: Data(),
                properties: AMQPProperties(headers: ["list": .array([.table([key: true])])])))
        #expect(nested?.contains("header name") == true, "got: \(String(describing: nested))")
    }

    @Test("headers that do not fit the frame are refused with their size; the mandatory publish's own header counts")
    func headersTooBig() {
        // One string header: 4 (table) + 1 + 1 (key "k") + 1 (type) + 4 + n; properties 2 + 1 + that.
        let fits = Self.frameMax - AMQPPublication.contentHeaderOverhead - 3 - 4 - 1 - 1 - 1 - 4
        let exact = AMQPPublication(
            exchange: "", routingKey: "q", body: Data(),
            properties: AMQPProperties(headers: ["k": .string(String(repeating: "x", count: fits))]))
        #expect(problem(exact) == nil, "got: \(String(describing: problem(exact)))")
        let over = problem(exact, reserved: 1)
        #expect(
            over
                == "the properties and headers take \(Self.frameMax + 1) bytes, more than the \(Self.frameMax)-byte frame that must carry them",
            "got: \(String(describing: over))")
    }
}
