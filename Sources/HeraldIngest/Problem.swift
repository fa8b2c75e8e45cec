import Foundation
import HeraldCore
import Hummingbird

/// An RFC 9457 problem document: every 4xx (and 503) herald-ingest answers is one.
///
/// ```json
/// {"type":"https://herald.dev/problems/invalid-field","title":"Invalid field","status":422,
///  "detail":"'Message.Sent' is not a dotted lowercase event type","field":"events[3].type",
///  "rule":"pattern [a-z0-9_]+(\\.[a-z0-9_]+)*"}
/// ```
public struct Problem: Error, Sendable, Hashable {
    public var status: HTTPResponse.Status
    /// Short stable slug; `type` is `https://herald.dev/problems/<slug>`.
    public var slug: String
    public var title: String
    public var detail: String
    /// The request field at fault, as a path (`events[3].type`), when there is one.
    public var field: String?
    /// The rule the field broke (`required`, `type string`, `pattern …`, `max 1000 items`).
    public var rule: String?
    /// Seconds the client should wait (503).
    public var retryAfter: Int?

    public init(
        _ status: HTTPResponse.Status, _ slug: String, _ title: String, detail: String, field: String? = nil,
        rule: String? = nil, retryAfter: Int? = nil
    ) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.field = field
        self.rule = rule
        self.retryAfter = retryAfter
    }

    public var document: JSONObject {
        var o: JSONObject = [
            "type": .string("https://herald.dev/problems/" + slug), "title": .string(title),
            "status": .number(Double(status.code)), "detail": .string(detail),
        ]
        o.set("field", field.map(JSONValue.string))
        o.set("rule", rule.map(JSONValue.string))
        return o
    }

    public var response: Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: status, headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: JSONValue.object(document).serialized())))
    }

    // MARK: the problems herald-ingest answers with

    static func invalid(_ field: String, rule: String, _ detail: String) -> Problem {
        Problem(.unprocessableContent, "invalid-field", "Invalid field", detail: detail, field: field, rule: rule)
    }
    static func missing(_ field: String) -> Problem {
        Problem(
            .unprocessableContent, "invalid-field", "Invalid field", detail: "'\(field)' is required", field: field,
            rule: "required")
    }
    static func wrongType(_ field: String, expected: String, got: JSONValue) -> Problem {
        wrongType(field, expected: expected, gotKind: got.kindName)
    }
    static func wrongType(_ field: String, expected: String, gotKind: String) -> Problem {
        Problem(
            .unprocessableContent, "invalid-field", "Invalid field",
            detail: "'\(field)' must be \(expected), got \(gotKind)", field: field, rule: "type \(expected)")
    }
    static func malformedJSON(_ error: JSONParseError) -> Problem {
        Problem(.badRequest, "malformed-json", "Malformed JSON", detail: error.description, field: "body", rule: "valid JSON")
    }
    static func tooLarge(limit: Int) -> Problem {
        Problem(
            .contentTooLarge, "body-too-large", "Request body too large",
            detail: "the body is larger than \(limit) bytes", field: "body", rule: "max \(limit) bytes")
    }
    static let unauthenticated = Problem(
        .unauthorized, "unauthenticated", "Unauthenticated",
        detail: "send 'Authorization: Bearer <api key>'", field: "Authorization", rule: "valid bearer key")
    static func forbidden(_ detail: String) -> Problem {
        Problem(.forbidden, "forbidden", "Forbidden", detail: detail, field: "Authorization", rule: "admin key")
    }
    static func notFound(_ what: String) -> Problem {
        Problem(.notFound, "not-found", "Not found", detail: "\(what) does not exist")
    }
    static func conflict(_ detail: String, field: String) -> Problem {
        Problem(.conflict, "conflict", "Conflict", detail: detail, field: field, rule: "unique")
    }
    static func unavailable(_ detail: String) -> Problem {
        Problem(.serviceUnavailable, "unavailable", "Service unavailable", detail: detail, retryAfter: 5)
    }
    static func unsupportedMediaType(_ got: String?) -> Problem {
        Problem(
            .unsupportedMediaType, "unsupported-media-type", "Unsupported media type",
            detail: "send 'Content-Type: application/json' (got \(got.map { "'\($0)'" } ?? "none"))",
            field: "Content-Type", rule: "application/json")
    }
}
