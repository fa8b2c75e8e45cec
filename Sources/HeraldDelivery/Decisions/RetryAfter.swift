import HeraldCore

/// Reads a `Retry-After` header (RFC 9110 §10.2.3): delta-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, plus the obsolete RFC 850 and asctime forms).
public enum RetryAfter {
    /// Seconds to wait from `now`, or nil when the value is neither form. A date in the past
    /// means 0.
    ///
    /// ```swift
    /// RetryAfter.seconds(from: "120", now: now)                            // 120
    /// RetryAfter.seconds(from: "Wed, 21 Oct 2015 07:28:30 GMT", now: t)   // 30 if t is 07:28:00
    /// ```
    public static func seconds(from value: String, now: Timestamp) -> Double? {
        let text = value.trimmingSpaces
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // Absurdly long digit strings saturate rather than fail: the caller caps the wait.
            return Double(text) ?? .greatestFiniteMagnitude
        }
        guard let date = httpDate(text) else { return nil }
        return max(0, Double(date.millisecondsSinceEpoch - now.millisecondsSinceEpoch) / 1000)
    }

    /// Parses an HTTP-date in any of its three historical forms; nil when malformed.
    public static func httpDate(_ text: String) -> Timestamp? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map(String.init)
        let day: String, month: String, year: String, time: String
        if tokens.count == 6, tokens[5] == "GMT" {
            // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" or RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT"
            (day, month, year, time) = (tokens[1], tokens[2], tokens[3], tokens[4])
        } else if tokens.count == 5 {
            // asctime "Sun Nov  6 08:49:37 1994"
            (month, day, time, year) = (tokens[1], tokens[2], tokens[3], tokens[4])
        } else {
            return nil
        }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let clock = time.split(separator: ":").compactMap { Int($0) }
        guard let monthIndex = months.firstIndex(of: month), var y = Int(year), let d = Int(day),
            clock.count == 3, (1...31).contains(d), (0...23).contains(clock[0]), (0...59).contains(clock[1]),
            (0...60).contains(clock[2]), year.count == 2 || year.count == 4
        else { return nil }
        if year.count == 2 { y += y < 70 ? 2000 : 1900 }
        let days = daysFromCivil(year: y, month: monthIndex + 1, day: d)
        let seconds = days * 86_400 + clock[0] * 3_600 + clock[1] * 60 + clock[2]
        return Timestamp(secondsSinceEpoch: Int64(seconds))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
