import HeraldCore
import Testing

@testable import HeraldIngest

/// The problems request fields are refused with: the field path, the rule and the sentence the
/// API returns (FieldReader maps HeraldCore's `WireReader` errors onto them).
@Suite("A refused request field names its path, the rule it broke and why")
struct FieldReaderTests {
    struct Case: Sendable, CustomStringConvertible {
        let body: String
        let path: String
        let read: @Sendable (FieldReader) throws(Problem) -> Void
        let field: String, rule: String, detail: String
        var description: String { "\(detail) ← \(body)" }
    }

    static let cases: [Case] = [
        Case(
            body: #"{"b":1}"#, path: "", read: { r throws(Problem) in try r.allowOnly(["a"]) },
            field: "b", rule: "known field", detail: "'b' is not a field of this request"),
        Case(
            body: #"{"x":1}"#, path: "policy", read: { r throws(Problem) in try r.allowOnly(["a"]) },
            field: "policy.x", rule: "known field", detail: "'policy.x' is not a field of this request"),
        Case(
            body: #"{}"#, path: "", read: { r throws(Problem) in _ = try r.string("id") },
            field: "id", rule: "required", detail: "'id' is required"),
        Case(
            body: #"{"id":null}"#, path: "", read: { r throws(Problem) in _ = try r.string("id") },
            field: "id", rule: "required", detail: "'id' is required"),
        Case(
            body: #"{"id":""}"#, path: "", read: { r throws(Problem) in _ = try r.string("id") },
            field: "id", rule: "non-empty", detail: "'id' must not be empty"),
        Case(
            body: #"{"id":7}"#, path: "", read: { r throws(Problem) in _ = try r.string("id") },
            field: "id", rule: "type string", detail: "'id' must be string, got number"),
        Case(
            body: #"{"id":"abcd"}"#, path: "", read: { r throws(Problem) in _ = try r.optionalString("id", maxLength: 3) },
            field: "id", rule: "max 3 bytes", detail: "'id' is longer than 3 bytes"),
        Case(
            body: #"{"n":"1"}"#, path: "policy", read: { r throws(Problem) in _ = try r.optionalInt("n", range: 1...5) },
            field: "policy.n", rule: "type integer", detail: "'policy.n' must be integer, got string"),
        Case(
            body: #"{"n":9}"#, path: "policy", read: { r throws(Problem) in _ = try r.optionalInt("n", range: 1...5) },
            field: "policy.n", rule: "range 1...5", detail: "'policy.n' must be between 1 and 5"),
        Case(
            body: #"{"e":"yes"}"#, path: "", read: { r throws(Problem) in _ = try r.optionalBool("e") },
            field: "e", rule: "type boolean", detail: "'e' must be boolean, got string"),
        Case(
            body: #"{"o":[]}"#, path: "", read: { r throws(Problem) in _ = try r.optionalObject("o") },
            field: "o", rule: "type object", detail: "'o' must be object, got array"),
        Case(
            body: #"{"s":"a"}"#, path: "", read: { r throws(Problem) in _ = try r.optionalStrings("s") },
            field: "s", rule: "type array", detail: "'s' must be array, got string"),
        Case(
            body: #"{"s":["a","b","c"]}"#, path: "", read: { r throws(Problem) in _ = try r.optionalStrings("s", maxCount: 2) },
            field: "s", rule: "max 2 items", detail: "'s' has more than 2 items"),
        Case(
            body: #"{"s":["a",""]}"#, path: "", read: { r throws(Problem) in _ = try r.optionalStrings("s") },
            field: "s[1]", rule: "type non-empty string", detail: "'s[1]' must be non-empty string, got string"),
        Case(
            body: #"{"s":[1]}"#, path: "", read: { r throws(Problem) in _ = try r.optionalStrings("s") },
            field: "s[0]", rule: "type non-empty string", detail: "'s[0]' must be non-empty string, got number"),
        Case(
            body: #"{"s":["\#(String(repeating: "x", count: 257))"]}"#, path: "",
            read: { r throws(Problem) in _ = try r.optionalStrings("s") },
            field: "s[0]", rule: "type non-empty string", detail: "'s[0]' must be non-empty string, got string"),
        Case(
            body: #"{"t":"yesterday"}"#, path: "", read: { r throws(Problem) in _ = try r.optionalTime("t") },
            field: "t", rule: "RFC 3339 date-time", detail: "'yesterday' is not an RFC 3339 time (2026-06-20T05:51:00Z)"),
        Case(
            body: #"{"t":"\#(String(repeating: "9", count: 65))"}"#, path: "",
            read: { r throws(Problem) in _ = try r.optionalTime("t") },
            field: "t", rule: "max 64 bytes", detail: "'t' is longer than 64 bytes"),
    ]

    @Test("fixed vectors", arguments: cases)
    func refuses(_ c: Case) throws {
        let object = try #require(try JSONValue.parse(Array(c.body.utf8)).objectValue)
        do {
            try c.read(FieldReader(object, path: c.path))
            Issue.record("expected a problem for \(c.field), got none")
        } catch {
            #expect(error.status == .unprocessableContent)
            #expect(error.slug == "invalid-field")
            #expect(error.field == c.field, "field: expected \(c.field), got \(error.field ?? "nil")")
            #expect(error.rule == c.rule, "rule: expected \(c.rule), got \(error.rule ?? "nil")")
            #expect(error.detail == c.detail, "detail: expected \(c.detail), got \(error.detail)")
        }
    }

    @Test("accepted values come back as read")
    func accepts() throws {
        let body = #"{"id":"e1","n":3,"e":true,"o":{},"s":["a"],"t":"2026-06-20T05:51:00Z"}"#
        let r = FieldReader(try #require(try JSONValue.parse(Array(body.utf8)).objectValue))
        try r.allowOnly(["id", "n", "e", "o", "s", "t"])
        #expect(try r.string("id") == "e1")
        #expect(try r.optionalInt("n", range: 1...5) == 3)
        #expect(try r.optionalBool("e") == true)
        #expect(try r.optionalObject("o") == JSONObject())
        #expect(try r.optionalStrings("s") == ["a"])
        #expect(try r.optionalTime("t") == Timestamp(iso8601: "2026-06-20T05:51:00Z"))
        #expect(try r.optionalString("missing") == nil)
    }
}
