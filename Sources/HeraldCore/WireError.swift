/// Why a queue message (or a field of one) could not be read.
///
/// A message that does not parse never crashes a consumer: decoding returns this value, and its
/// `description` is what goes into the dead-letter header `herald-error` (see `DeadLetterHeaders`).
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case notJSON(JSONParseError)
        case notAnObject
        case wrongKind(expected: String, got: String?)
        case unsupportedVersion(kind: String, version: Int?)
        case field(String, FieldProblem)
    }

    /// What is wrong with one field, for readers that render it their own way (ingest turns it
    /// into a problem document naming the field and the rule).
    public enum FieldProblem: Sendable, Hashable {
        /// Absent or `null`, and required.
        case missing
        /// The wrong JSON type; `expected` is a bare noun (`string`), `got` a `JSONValue.kindName`.
        case wrongType(expected: String, got: String)
        /// An empty string where one is required.
        case empty
        /// A string longer than `maxBytes` UTF-8 bytes.
        case tooLong(maxBytes: Int)
        /// An integer outside `range`.
        case outOfRange(ClosedRange<Int>)
        /// An array with more than `max` items.
        case tooManyItems(max: Int)
        /// A field the reader was told to refuse (see `WireReader.allowOnly(_:)`).
        case unknown
        /// A string that is not an RFC 3339 time; the text is kept for the message.
        case notATime(String)
        /// Any other unacceptable value, with the reason.
        case invalid(String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// The bytes were not JSON at all.
    public static func notJSON(_ error: JSONParseError) -> WireError { WireError(.notJSON(error)) }
    /// The JSON text was not an object.
    public static let notAnObject = WireError(.notAnObject)
    /// The message's `kind` names another type (or none).
    public static func wrongKind(expected: String, got: String?) -> WireError {
        WireError(.wrongKind(expected: expected, got: got))
    }
    /// The message's `v` is one this build does not read.
    public static func unsupportedVersion(kind: String, version: Int?) -> WireError {
        WireError(.unsupportedVersion(kind: kind, version: version))
    }
    /// The field at `path` (`policy.maxAttempts`, `secrets[0]`) has `problem`.
    public static func field(_ path: String, _ problem: FieldProblem) -> WireError { WireError(.field(path, problem)) }
    /// A required field is absent (or `null`).
    public static func missingField(_ name: String) -> WireError { field(name, .missing) }
    /// A field has the wrong JSON type; `expected` is a bare noun (`object`).
    public static func wrongType(field name: String, expected: String, got: String) -> WireError {
        field(name, .wrongType(expected: expected, got: got))
    }
    /// A field has the right type but an unacceptable value.
    public static func invalidValue(field name: String, reason: String) -> WireError { field(name, .invalid(reason)) }

    /// The path of the field at fault, if the error is about one field.
    public var field: String? {
        if case .field(let path, _) = code { return path }
        return nil
    }

    /// What is wrong with `field`, if the error is about one field.
    public var fieldProblem: FieldProblem? {
        if case .field(_, let problem) = code { return problem }
        return nil
    }

    public var description: String {
        switch code {
        case .notJSON(let e): "message is not JSON: \(e)"
        case .notAnObject: "message is not a JSON object"
        case .wrongKind(let expected, let got): "message kind is \(got.map { "'\($0)'" } ?? "missing"), expected '\(expected)'"
        case .unsupportedVersion(let kind, let v): "\(kind) version \(v.map(String.init) ?? "missing") is not supported"
        case .field(let f, .missing): "required field '\(f)' is missing"
        case .field(let f, .wrongType(let expected, let got)):
            "field '\(f)' should be \(Self.article(expected)) \(expected), got \(got)"
        case .field(let f, .unknown): "field '\(f)' is not a known field"
        case .field(let f, let problem): "field '\(f)' is invalid: \(Self.reason(problem))"
        }
    }

    /// A short stable form for metric labels and logs (`missing_field`).
    public var label: String {
        switch code {
        case .notJSON: "not_json"
        case .notAnObject: "not_an_object"
        case .wrongKind: "wrong_kind"
        case .unsupportedVersion: "unsupported_version"
        case .field(_, .missing): "missing_field"
        case .field(_, .wrongType): "wrong_type"
        case .field(_, .unknown): "unknown_field"
        case .field: "invalid_value"
        }
    }

    private static func article(_ noun: String) -> String {
        noun.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    }

    private static func reason(_ problem: FieldProblem) -> String {
        switch problem {
        case .missing: "missing"
        case .wrongType(let expected, let got): "should be \(article(expected)) \(expected), got \(got)"
        case .empty: "must not be empty"
        case .tooLong(let max): "longer than \(max) bytes"
        case .outOfRange(let r): "must be between \(r.lowerBound) and \(r.upperBound)"
        case .tooManyItems(let max): "more than \(max) items"
        case .unknown: "not a known field"
        case .notATime(let s): "'\(s)' is not an RFC 3339 time"
        case .invalid(let reason): reason
        }
    }
}

/// Typed field access for reading JSON objects (queue messages, request bodies); each failure
/// is a `WireError` naming the field's path and what is wrong with it.
///
/// ```swift
/// let r = try WireReader.open(bytes, kind: "herald.job", versions: 1...1)
/// let id = try r.nonEmptyString("id")
/// let policy = try r.nested("policy")   // its errors name `policy.maxAttempts`
/// ```
public struct WireReader {
    public let object: JSONObject
    /// Put before every field name in errors: empty at the top, `policy.` inside `policy`.
    public let prefix: String

    public init(_ object: JSONObject, prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// Opens a versioned, self-describing message: an object whose `kind` and `v` match.
    public static func open(_ bytes: some Collection<UInt8>, kind: String, versions: ClosedRange<Int>) throws(WireError)
        -> WireReader
    {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw .notJSON(error) }
        guard let object = value.objectValue else { throw .notAnObject }
        return try open(object, kind: kind, versions: versions)
    }

    public static func open(_ object: JSONObject, kind: String, versions: ClosedRange<Int>) throws(WireError) -> WireReader {
        let got = object["kind"]?.stringValue
        guard got == kind else { throw .wrongKind(expected: kind, got: got) }
        let v = object["v"]?.intValue
        guard let v, versions.contains(v) else { throw .unsupportedVersion(kind: kind, version: v) }
        return WireReader(object)
    }

    /// The path errors use for `field`.
    public func name(_ field: String) -> String { prefix + field }

    /// The field's value; `nil` when absent or `null`.
    public func value(_ field: String) -> JSONValue? {
        guard let v = object[field], !v.isNull else { return nil }
        return v
    }

    /// Refuses any field not in `fields`, so a typo does not pass silently.
    public func allowOnly(_ fields: Set<String>) throws(WireError) {
        for k in object.keys where !fields.contains(k) {
            throw .field(name(k), .unknown)
        }
    }

    private func wrongType(_ field: String, _ expected: String, _ got: JSONValue) -> WireError {
        .wrongType(field: name(field), expected: expected, got: got.kindName)
    }

    public func string(_ field: String, maxLength: Int? = nil) throws(WireError) -> String {
        guard let s = try optionalString(field, maxLength: maxLength) else { throw .missingField(name(field)) }
        return s
    }

    /// - Parameter maxLength: the most UTF-8 bytes accepted; any length when `nil`.
    public func optionalString(_ field: String, maxLength: Int? = nil) throws(WireError) -> String? {
        guard let v = value(field) else { return nil }
        guard let s = v.stringValue else { throw wrongType(field, "string", v) }
        if let maxLength, s.utf8.count > maxLength { throw .field(name(field), .tooLong(maxBytes: maxLength)) }
        return s
    }

    public func nonEmptyString(_ field: String, maxLength: Int? = nil) throws(WireError) -> String {
        let s = try string(field, maxLength: maxLength)
        guard !s.isEmpty else { throw .field(name(field), .empty) }
        return s
    }

    public func int(_ field: String) throws(WireError) -> Int {
        guard let i = try optionalInt(field) else { throw .missingField(name(field)) }
        return i
    }

    /// - Parameter range: the values accepted; any integer when `nil`.
    public func optionalInt(_ field: String, range: ClosedRange<Int>? = nil) throws(WireError) -> Int? {
        guard let v = value(field) else { return nil }
        guard let i = v.intValue else { throw wrongType(field, "integer", v) }
        if let range, !range.contains(i) { throw .field(name(field), .outOfRange(range)) }
        return i
    }

    public func bool(_ field: String, default def: Bool) throws(WireError) -> Bool {
        try optionalBool(field) ?? def
    }

    public func optionalBool(_ field: String) throws(WireError) -> Bool? {
        guard let v = value(field) else { return nil }
        guard let b = v.boolValue else { throw wrongType(field, "boolean", v) }
        return b
    }

    public func object(_ field: String) throws(WireError) -> JSONObject {
        guard let o = try optionalObject(field) else { throw .missingField(name(field)) }
        return o
    }

    public func optionalObject(_ field: String) throws(WireError) -> JSONObject? {
        guard let v = value(field) else { return nil }
        guard let o = v.objectValue else { throw wrongType(field, "object", v) }
        return o
    }

    /// - Parameter maxCount: the most items accepted; any number when `nil`.
    public func array(_ field: String, maxCount: Int? = nil) throws(WireError) -> [JSONValue]? {
        guard let v = value(field) else { return nil }
        guard let a = v.arrayValue else { throw wrongType(field, "array", v) }
        if let maxCount, a.count > maxCount { throw .field(name(field), .tooManyItems(max: maxCount)) }
        return a
    }

    /// An array of strings.
    /// - Parameters:
    ///   - maxCount: the most items accepted; any number when `nil`.
    ///   - nonEmptyUpTo: when set, every item must be a non-empty string of at most this many
    ///     UTF-8 bytes, and an item that is not fails as the wrong type (`a non-empty string`).
    public func strings(_ field: String, maxCount: Int? = nil, nonEmptyUpTo maxLength: Int? = nil) throws(WireError) -> [String]?
    {
        guard let a = try array(field, maxCount: maxCount) else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for (i, e) in a.enumerated() {
            let s = e.stringValue
            if let maxLength {
                guard let s, !s.isEmpty, s.utf8.count <= maxLength else {
                    throw .wrongType(field: "\(name(field))[\(i)]", expected: "non-empty string", got: e.kindName)
                }
            }
            guard let s else { throw .wrongType(field: "\(name(field))[\(i)]", expected: "string", got: e.kindName) }
            out.append(s)
        }
        return out
    }

    public func time(_ field: String) throws(WireError) -> Timestamp {
        guard let t = try optionalTime(field) else { throw .missingField(name(field)) }
        return t
    }

    /// - Parameter maxLength: the most UTF-8 bytes read before parsing; any length when `nil`.
    public func optionalTime(_ field: String, maxLength: Int? = nil) throws(WireError) -> Timestamp? {
        guard let s = try optionalString(field, maxLength: maxLength) else { return nil }
        guard let t = Timestamp(iso8601: s) else { throw .field(name(field), .notATime(s)) }
        return t
    }

    /// A reader over the object in `field`, whose errors name `field.` + the inner field.
    public func nested(_ field: String) throws(WireError) -> WireReader {
        WireReader(try object(field), prefix: name(field) + ".")
    }
}
