import HeraldCore
import Testing

@Suite("Globs match event types the way endpoints and heraldctl filters mean them")
struct GlobTests {
    @Test(
        "fixed vectors",
        arguments: [
            ("", "", true), ("", "a", false), ("*", "", true), ("?", "", false),
            ("message.delivered", "message.delivered", true), ("message.delivered", "message.delivere", false),
            ("*", "message.delivered", true), ("**", "message.delivered", true),
            ("message.*", "message.delivered", true), ("message.*", "message.", true), ("message.*", "message", false),
            ("*.failed", "message.send.failed", true), ("*.failed", "failed", false),
            ("message.?ent", "message.sent", true), ("message.?ent", "message.spent", false),
            ("m*d", "message.delivered", true), ("m*s*d", "message.delivered", true), ("*x*", "message.delivered", false),
            ("a*b*c", "abxbc", true), ("a*b*c", "abxbcx", false), ("a", "ab", false), ("ab", "a", false),
        ])
    func vectors(pattern: String, text: String, expected: Bool) {
        let got = Glob.matches(pattern, text)
        #expect(got == expected, "Glob.matches(\"\(pattern)\", \"\(text)\"): expected \(expected), got \(got)")
    }
}
