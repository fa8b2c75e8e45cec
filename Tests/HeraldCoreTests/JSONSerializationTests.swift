import Testing

@testable import HeraldCore

@Suite("The canonical serializer prints what JavaScript's JSON.stringify prints")
struct JSONSerializationTests {
    @Test(
        "numbers follow Number.prototype.toString",
        arguments: [
            (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (100.0, "100"), (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"), (1e-7, "1e-7"), (1e-6, "0.000001"),
            (1.5e-7, "1.5e-7"), (12345678901234567890.0, "12345678901234567000"),
            (9007199254740993.0, "9007199254740992"), (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (2.5e25, "2.5e+25"), (123.456, "123.456"),
            (-1e-7, "-1e-7"), (1e16, "10000000000000000"), (4.35, "4.35"), (0.000123, "0.000123"),
        ])
    func numbers(value: Double, expected: String) {
        #expect(JSNumberFormat.string(value) == expected)
    }

    @Test("non-finite numbers print as null")
    func nonFinite() {
        #expect(JSONValue.number(.nan).serializedString() == "null")
        #expect(JSONValue.number(.infinity).serializedString() == "null")
    }

    @Test("strings escape only quote, backslash and control characters")
    func strings() {
        let s = "q\"b\\/\u{08}\u{0C}\n\r\t\u{01}\u{1F}\u{7F}\u{2028}\u{2029}नमस्ते👋🏽"
        let got = JSONValue.string(s).serializedString()
        #expect(got == "\"q\\\"b\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\u{7F}\u{2028}\u{2029}नमस्ते👋🏽\"")
    }

    @Test("objects put array-index keys first, ascending, then insertion order")
    func keyOrder() {
        let v: JSONValue = ["b": 1, "10": 2, "a": 3, "2": 4, "01": 5, "4294967295": 6, "4294967294": 7, "-1": 8]
        #expect(v.serializedString() == #"{"2":4,"10":2,"4294967294":7,"b":1,"a":3,"01":5,"4294967295":6,"-1":8}"#)
    }

    @Test("nested and empty values print compactly")
    func nested() {
        let v: JSONValue = ["a": [], "b": [:], "c": "", "d": [1, [2, ["e": nil]], true, false]]
        #expect(v.serializedString() == #"{"a":[],"b":{},"c":"","d":[1,[2,{"e":null}],true,false]}"#)
    }

    @Test("serialize(parse(x)) is x for canonical text")
    func roundTrip() throws {
        let text = #"{"id":"evt_1","n":-12.5,"big":1e+21,"s":"a\"b\u0000","arr":[{},[],null],"2":1}"#
        let v = try JSONValue.parse(text)
        #expect(v.serializedString() == #"{"2":1,"id":"evt_1","n":-12.5,"big":1e+21,"s":"a\"b\u0000","arr":[{},[],null]}"#)
        #expect(try JSONValue.parse(v.serialized()).serialized() == v.serialized())
    }
}

@Suite("The parser refuses bad JSON with a reason, never crashing")
struct JSONParsingTests {
    @Test(
        "malformed input is an error with an offset",
        arguments: [
            "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"abc", "tru", "{} x", "\"\u{01}\"", "\"\\x\"",
            "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud800\\u0041\"", "1e400", "NaN", "[1 2]",
        ])
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("invalid UTF-8 is refused")
    func invalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    @Test("nesting beyond the limit is refused instead of overflowing the stack")
    func deepNesting() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("surrogate pairs and escapes decode")
    func escapes() throws {
        let v = try JSONValue.parse(#"["\ud83d\udc4b","\u0928\/","\n"]"#)
        #expect(v == ["👋", "न/", "\n"])
    }

    @Test("a repeated key keeps its first position and its last value, like JSON.parse")
    func duplicateKeys() throws {
        let v = try JSONValue.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(v.serializedString() == #"{"a":3,"b":2}"#)
    }
}
