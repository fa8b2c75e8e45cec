import HeraldCore
import Testing

@Suite("Timestamps format and parse RFC 3339 exactly")
struct TimestampTests {
    @Test("formats with and without milliseconds")
    func format() {
        let t = Timestamp(millisecondsSinceEpoch: 1_781_934_660_123)
        #expect(t.iso8601Milliseconds == "2026-06-20T05:51:00.123Z")
        #expect(t.iso8601Seconds == "2026-06-20T05:51:00Z")
        #expect(Timestamp(millisecondsSinceEpoch: 0).iso8601Milliseconds == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).iso8601Milliseconds == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(iso8601: "2024-02-29T23:59:59Z")?.iso8601Seconds == "2024-02-29T23:59:59Z")
    }

    @Test(
        "parses fractions and offsets",
        arguments: [
            ("2026-06-20T05:51:00.123Z", Int64(1_781_934_660_123)), ("2026-06-20T05:51:00Z", 1_781_934_660_000),
            ("2026-06-20T11:36:00.1+05:45", 1_781_934_660_100), ("2026-06-20T05:51:00.123456789Z", 1_781_934_660_123),
        ])
    func parse(text: String, ms: Int64) {
        #expect(Timestamp(iso8601: text)?.millisecondsSinceEpoch == ms)
    }

    @Test(
        "refuses what is not RFC 3339",
        arguments: ["", "2026-06-20", "2026-13-01T00:00:00Z", "2026-06-20T05:51:00", "yesterday", "2026-06-20T05:51:00.Z"])
    func refuse(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test(
        "offsets are hours 00-23 and minutes 00-59",
        arguments: [
            ("2026-06-20T05:51:00+23:59", true), ("2026-06-20T05:51:00-00:00", true), ("2026-06-20T05:51:00+00:59", true),
            ("2026-06-20T05:51:00+99:99", false), ("2026-06-20T05:51:00+24:00", false), ("2026-06-20T05:51:00+05:60", false),
            ("2026-06-20T05:51:00-23:99", false), ("2026-06-20T05:51:00+5:00", false), ("2026-06-20T05:51:00+05:00:00", false),
        ])
    func offsetRange(text: String, valid: Bool) {
        #expect((Timestamp(iso8601: text) != nil) == valid, "\(text): expected \(valid ? "accepted" : "refused")")
    }

    @Test(
        "the day exists in its month",
        arguments: [
            ("2024-02-29T00:00:00Z", true), ("2026-02-28T00:00:00Z", true), ("2026-02-29T00:00:00Z", false),
            ("2026-04-31T00:00:00Z", false), ("2026-02-30T00:00:00Z", false), ("2100-02-29T00:00:00Z", false),
            ("2000-02-29T00:00:00Z", true),
        ])
    func dayOfMonth(text: String, valid: Bool) {
        #expect((Timestamp(iso8601: text) != nil) == valid, "\(text): expected \(valid ? "accepted" : "refused")")
    }
}
