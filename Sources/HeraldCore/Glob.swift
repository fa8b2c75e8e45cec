/// The globs endpoints subscribe with and `heraldctl dlq --event-type` filters by.
///
/// `*` matches any run of characters (dots included), `?` any one; everything else matches itself.
/// Matching is over UTF-8 bytes, which is the same as over characters for event types (ingest
/// admits only `[a-z0-9_.]`), and keeps the signer's fan-out cheap.
///
/// ```swift
/// Glob.matches("message.*", "message.delivered")  // true
/// ```
public enum Glob {
    /// Whether `text` matches all of `pattern`.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
