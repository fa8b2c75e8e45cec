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
        case missingField(String)
        case wrongType(field: String, expected: String, got: String)
        case invalidValue(field: String, reason: String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// The bytes were not JSON at all.
    public static func notJSON(_ error: JSONParseError) -> WireError { WireError(.notJSON(error)) }
    /// The JSON text was not an object.
    public static let notAnObject = WireError(.notAnObject)
    /// The message's `kind` names another type (or none).
    public static func wrongKind(expected: String, got: String?) -> WireError { WireError(.wrongKind(expected: expected, got: got)) }
    /// The message's `v` is one this build does not read.
    public static func unsupportedVersion(kind: String, version: Int?) -> WireError {
        WireError(.unsupportedVersion(kind: kind, version: version))
    }
    /// A required field is absent (or `null`).
    public static func missingField(_ name: String) -> WireError { WireError(.missingField(name)) }
    /// A field has the wrong JSON type.
    public static func wrongType(field: String, expected: String, got: String) -> WireError {
        WireError(.wrongType(field: field, expected: expected, got: got))
    }
    /// A field has the right type but an unacceptable value.
    public static func invalidValue(field: String, reason: String) -> WireError {
        WireError(.invalidValue(field: field, reason: reason))
    }

    public var description: String {
        switch code {
        case .notJSON(let e): "message is not JSON: \(e)"
        case .notAnObject: "message is not a JSON object"
        case .wrongKind(let expected, let got): "message kind is \(got.map { "'\($0)'" } ?? "missing"), expected '\(expected)'"
        case .unsupportedVersion(let kind, let v): "\(kind) version \(v.map(String.init) ?? "missing") is not supported"
        case .missingField(let f): "required field '\(f)' is missing"
        case .wrongType(let f, let expected, let got): "field '\(f)' should be \(expected), got \(got)"
        case .invalidValue(let f, let reason): "field '\(f)' is invalid: \(reason)"
        }
    }

    /// A short stable form for metric labels and logs (`missing_field`).
    public var label: String {
        switch code {
        case .notJSON: "not_json"
        case .notAnObject: "not_an_object"
        case .wrongKind: "wrong_kind"
        case .unsupportedVersion: "unsupported_version"
        case .missingField: "missing_field"
        case .wrongType: "wrong_type"
        case .invalidValue: "invalid_value"
        }
    }
}

/// Typed field access for reading wire forms; each failure names the field.
public struct WireReader {
    public let object: JSONObject
    public let prefix: String

    public init(_ object: JSONObject, prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// Opens a versioned, self-describing message: an object whose `kind` and `v` match.
    public static func open(_ bytes: some Collection<UInt8>, kind: String, versions: ClosedRange<Int>) throws(WireError) -> WireReader {
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

    public func name(_ field: String) -> String { prefix + field }

    public func value(_ field: String) -> JSONValue? {
        guard let v = object[field], !v.isNull else { return nil }
        return v
    }

    public func string(_ field: String) throws(WireError) -> String {
        guard let s = try optionalString(field) else { throw .missingField(name(field)) }
        return s
    }

    public func optionalString(_ field: String) throws(WireError) -> String? {
        guard let v = value(field) else { return nil }
        guard let s = v.stringValue else { throw .wrongType(field: name(field), expected: "a string", got: v.kindName) }
        return s
    }

    public func nonEmptyString(_ field: String) throws(WireError) -> String {
        let s = try string(field)
        guard !s.isEmpty else { throw .invalidValue(field: name(field), reason: "must not be empty") }
        return s
    }

    public func int(_ field: String) throws(WireError) -> Int {
        guard let i = try optionalInt(field) else { throw .missingField(name(field)) }
        return i
    }

    public func optionalInt(_ field: String) throws(WireError) -> Int? {
        guard let v = value(field) else { return nil }
        guard let i = v.intValue else { throw .wrongType(field: name(field), expected: "an integer", got: v.kindName) }
        return i
    }

    public func bool(_ field: String, default def: Bool) throws(WireError) -> Bool {
        guard let v = value(field) else { return def }
        guard let b = v.boolValue else { throw .wrongType(field: name(field), expected: "a boolean", got: v.kindName) }
        return b
    }

    public func object(_ field: String) throws(WireError) -> JSONObject {
        guard let o = try optionalObject(field) else { throw .missingField(name(field)) }
        return o
    }

    public func optionalObject(_ field: String) throws(WireError) -> JSONObject? {
        guard let v = value(field) else { return nil }
        guard let o = v.objectValue else { throw .wrongType(field: name(field), expected: "an object", got: v.kindName) }
        return o
    }

    public func array(_ field: String) throws(WireError) -> [JSONValue]? {
        guard let v = value(field) else { return nil }
        guard let a = v.arrayValue else { throw .wrongType(field: name(field), expected: "an array", got: v.kindName) }
        return a
    }

    public func strings(_ field: String) throws(WireError) -> [String]? {
        guard let a = try array(field) else { return nil }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            guard let s = e.stringValue else {
                throw .wrongType(field: "\(name(field))[\(i)]", expected: "a string", got: e.kindName)
            }
            out.append(s)
        }
        return out
    }

    public func time(_ field: String) throws(WireError) -> Timestamp {
        guard let t = try optionalTime(field) else { throw .missingField(name(field)) }
        return t
    }

    public func optionalTime(_ field: String) throws(WireError) -> Timestamp? {
        guard let s = try optionalString(field) else { return nil }
        guard let t = Timestamp(iso8601: s) else {
            throw .invalidValue(field: name(field), reason: "'\(s)' is not an RFC 3339 time")
        }
        return t
    }

    public func nested(_ field: String) throws(WireError) -> WireReader {
        WireReader(try object(field), prefix: name(field) + ".")
    }
}
