import HeraldCore

/// Typed access to a request body's fields: HeraldCore's `WireReader` with ingest's limits, each
/// failure a `Problem` naming the field path and the rule; unknown fields are refused so typos
/// do not pass silently.
struct FieldReader {
    let wire: WireReader

    init(_ object: JSONObject, path: String = "") {
        wire = WireReader(object, prefix: path.isEmpty ? "" : path + ".")
    }

    var object: JSONObject { wire.object }

    func name(_ key: String) -> String { wire.name(key) }

    func value(_ key: String) -> JSONValue? { wire.value(key) }

    func allowOnly(_ keys: Set<String>) throws(Problem) {
        do { try wire.allowOnly(keys) } catch { throw Problem(error) }
    }

    func optionalString(_ key: String, maxLength: Int = 1_024) throws(Problem) -> String? {
        do { return try wire.optionalString(key, maxLength: maxLength) } catch { throw Problem(error) }
    }

    /// Required and non-empty.
    func string(_ key: String, maxLength: Int = 1_024) throws(Problem) -> String {
        do { return try wire.nonEmptyString(key, maxLength: maxLength) } catch { throw Problem(error) }
    }

    func optionalInt(_ key: String, range: ClosedRange<Int>) throws(Problem) -> Int? {
        do { return try wire.optionalInt(key, range: range) } catch { throw Problem(error) }
    }

    func optionalBool(_ key: String) throws(Problem) -> Bool? {
        do { return try wire.optionalBool(key) } catch { throw Problem(error) }
    }

    func optionalObject(_ key: String) throws(Problem) -> JSONObject? {
        do { return try wire.optionalObject(key) } catch { throw Problem(error) }
    }

    /// Up to `maxCount` non-empty strings of at most 256 bytes each.
    func optionalStrings(_ key: String, maxCount: Int = 100) throws(Problem) -> [String]? {
        do { return try wire.strings(key, maxCount: maxCount, nonEmptyUpTo: 256) } catch { throw Problem(error) }
    }

    func optionalTime(_ key: String) throws(Problem) -> Timestamp? {
        do { return try wire.optionalTime(key, maxLength: 64) } catch { throw Problem(error) }
    }
}

extension Problem {
    /// The problem document for a field `WireReader` refused: the field's path, the rule it broke
    /// (`max 1024 bytes`, `type string`) and a sentence quoting the field.
    init(_ error: WireError) {
        guard let field = error.field, let problem = error.fieldProblem else {
            self = .invalid("body", rule: "valid request", error.description)
            return
        }
        switch problem {
        case .missing:
            self = .missing(field)
        case .wrongType(let expected, let got):
            self = .wrongType(field, expected: expected, gotKind: got)
        case .empty:
            self = .invalid(field, rule: "non-empty", "'\(field)' must not be empty")
        case .tooLong(let max):
            self = .invalid(field, rule: "max \(max) bytes", "'\(field)' is longer than \(max) bytes")
        case .outOfRange(let range):
            self = .invalid(
                field, rule: "range \(range.lowerBound)...\(range.upperBound)",
                "'\(field)' must be between \(range.lowerBound) and \(range.upperBound)")
        case .tooManyItems(let max):
            self = .invalid(field, rule: "max \(max) items", "'\(field)' has more than \(max) items")
        case .unknown:
            self = .invalid(field, rule: "known field", "'\(field)' is not a field of this request")
        case .notATime(let text):
            self = .invalid(field, rule: "RFC 3339 date-time", "'\(text)' is not an RFC 3339 time (2026-06-20T05:51:00Z)")
        case .invalid(let reason):
            self = .invalid(field, rule: "valid value", "'\(field)' is invalid: \(reason)")
        }
    }
}

/// Request validation rules shared by the routes.
enum Rules {
    static let eventTypePattern = "[a-z0-9_]+(\\.[a-z0-9_]+)*"

    /// `message.delivered`: dotted lowercase words (also the AMQP routing key).
    static func eventType(_ type: String, field: String) throws(Problem) {
        let words = type.split(separator: ".", omittingEmptySubsequences: false)
        let ok =
            type.utf8.count <= 200 && !words.isEmpty
            && words.allSatisfy { w in
                !w.isEmpty && w.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
            }
        guard ok else {
            throw Problem.invalid(field, rule: "pattern \(eventTypePattern)", "'\(type)' is not a dotted lowercase event type")
        }
    }

    /// Ids chosen by clients (event ids, endpoint ids, account ids, idempotency keys).
    static func identifier(_ id: String, field: String) throws(Problem) {
        let ok =
            !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { b in
                (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 95 || b == 45 || b == 46 || b == 58
            }
        guard ok else {
            throw Problem.invalid(field, rule: "pattern [A-Za-z0-9_.:-]{1,128}", "'\(id)' is not a valid identifier")
        }
    }

    /// Endpoint and callback URLs: absolute http(s), a host (name, IPv4 or [IPv6]) and an
    /// optional port, no credentials, no fragment, only RFC 3986 characters. Returns the URL with
    /// its scheme in lower case (the form the rest of Herald compares).
    static func url(_ text: String, field: String) throws(Problem) -> String {
        let bytes = Array(text.utf8)
        let lower = text.lowercased()
        let schemeLength = lower.hasPrefix("https://") ? 8 : lower.hasPrefix("http://") ? 7 : 0
        guard schemeLength > 0 else {
            throw Problem.invalid(field, rule: "http(s) URL", "'\(field)' must be an http:// or https:// URL")
        }
        func isUnreservedOrSub(_ b: UInt8) -> Bool {
            (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57)
                || "-._~%!$&'()*+,;=".utf8.contains(b)
        }
        let rest = bytes[schemeLength...]
        let authorityEnd =
            rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        let authority = bytes[schemeLength..<authorityEnd]
        guard !authority.contains(UInt8(ascii: "@")) else {
            throw Problem.invalid(field, rule: "no credentials", "'\(field)' must not carry user:password credentials")
        }
        var host = authority[...]
        if let colon = authority.lastIndex(of: UInt8(ascii: ":")), !(authority.last == UInt8(ascii: "]")) {
            let port = authority[(colon + 1)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let n = Int(String(decoding: port, as: UTF8.self)), (1...65_535).contains(n)
            else {
                throw Problem.invalid(field, rule: "http(s) URL", "'\(field)' has an invalid port")
            }
            host = authority[..<colon]
        }
        let hostOK = isHost(host)
        let tail = bytes[authorityEnd...]
        let tailOK = tail.allSatisfy { isUnreservedOrSub($0) || ":@/?".utf8.contains($0) }
        guard hostOK, tailOK else {
            throw Problem.invalid(
                field, rule: "http(s) URL", "'\(field)' is not a valid absolute URL (RFC 3986 characters, a host, no fragment)")
        }
        return String(lower.prefix(schemeLength)) + String(decoding: bytes[schemeLength...], as: UTF8.self)
    }

    /// A DNS name (labels of letters, digits, `-` and `_`, 1-63 bytes, not starting or ending with
    /// `-`, 253 bytes in all, an optional final dot), a dotted-quad IPv4 address, or a bracketed
    /// IPv6 address (RFC 4291 text form, no zone). A name whose last label is a number must be
    /// an IPv4 address, as URL parsers read it so.
    static func isHost(_ host: ArraySlice<UInt8>) -> Bool {
        if host.first == UInt8(ascii: "["), host.last == UInt8(ascii: "]") {
            return isIPv6(host.dropFirst().dropLast())
        }
        var name = host
        if name.last == UInt8(ascii: ".") { name = name.dropLast() }
        guard !name.isEmpty, name.count <= 253 else { return false }
        let labels = name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if let last = labels.last, last.allSatisfy(isDigit) { return isIPv4(name) }
        return labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isDigit($0) || isLetter($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }

    /// Four decimal numbers 0-255 without leading zeros (`010` would read as octal elsewhere).
    static func isIPv4(_ text: ArraySlice<UInt8>) -> Bool {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { p in
                (1...3).contains(p.count) && p.allSatisfy(isDigit) && (p.count == 1 || p.first != UInt8(ascii: "0"))
                    && Int(String(decoding: p, as: UTF8.self))! <= 255
            }
    }

    /// Eight groups of 1-4 hex digits, or fewer around one `::`; the last two may be an IPv4 address.
    static func isIPv6(_ text: ArraySlice<UInt8>) -> Bool {
        let bytes = Array(text)
        var halves: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            if i + 1 < bytes.count, bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: ":") {
                halves.append(bytes[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        halves.append(bytes[start..<bytes.count])
        guard halves.count <= 2 else { return false }
        func groups(_ part: ArraySlice<UInt8>, ipv4Tail: Bool) -> Int? {
            if part.isEmpty { return 0 }
            let items = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            var n = 0
            for (k, g) in items.enumerated() {
                if ipv4Tail, k == items.count - 1, g.contains(UInt8(ascii: ".")) {
                    guard isIPv4(g) else { return nil }
                    n += 2
                } else {
                    guard (1...4).contains(g.count), g.allSatisfy(isHexDigit) else { return nil }
                    n += 1
                }
            }
            return n
        }
        if halves.count == 1 { return groups(halves[0], ipv4Tail: true) == 8 }
        guard let a = groups(halves[0], ipv4Tail: false), let b = groups(halves[1], ipv4Tail: true) else { return false }
        return a + b <= 7
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    static func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
    static func isHexDigit(_ b: UInt8) -> Bool { isDigit(b) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102) }
}
