/// A JSON value whose objects keep their keys in insertion order.
///
/// Herald never uses `Dictionary` for payloads: receivers such as EKDSend's hash
/// `JSON.stringify(JSON.parse(body))`, so the bytes Herald sends must already be what JavaScript
/// prints, key order included. Every profile renders through this one type and its one canonical
/// serializer (`JSONValue+Serialization.swift`), so all profiles send the same bytes for the same
/// value.
///
/// Numbers are IEEE doubles, exactly as in JavaScript: an integer beyond 2^53 is rounded the way
/// `JSON.parse` would round it. Platforms that need exact large identifiers should send them as
/// strings.
///
/// ```swift
/// let v: JSONValue = ["id": "evt_1", "n": 1.5, "tags": ["a", "b"]]
/// v.serialized()   // {"id":"evt_1","n":1.5,"tags":["a","b"]}
/// ```
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, when this is a number.
    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The number as an exact integer, when this is a number with no fractional part within ±2^53.
    public var intValue: Int? {
        guard case .number(let n) = self, n.rounded() == n, abs(n) <= 9_007_199_254_740_992 else { return nil }
        return Int(n)
    }

    /// The Boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The object, when this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member `key` when this is an object, else `nil`.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON object: members in insertion order, at most one member per key.
///
/// Setting an existing key replaces its value in place (its position is kept), which is what
/// JavaScript does for `o[k] = v` and for duplicate keys in `JSON.parse`.
public struct JSONObject: Sendable, Hashable, Sequence {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    private var index: [String: Int] = [:]

    /// An empty object.
    public init() {}

    /// An object with these members in this order; a repeated key keeps its first position and
    /// its last value.
    public init(_ members: [(String, JSONValue)]) {
        for (k, v) in members { self[k] = v }
    }

    /// The number of members.
    public var count: Int { keys.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { keys.isEmpty }

    /// Objects up to this size are searched linearly (faster than hashing for webhook-sized
    /// objects); bigger ones keep a key index so parsing a huge object stays linear.
    private static let indexThreshold = 16

    private func position(of key: String) -> Int? {
        if keys.count <= JSONObject.indexThreshold { return keys.firstIndex(of: key) }
        return index[key]
    }

    /// The value for `key`; assigning `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { values[$0] } }
        set {
            if let newValue {
                if let i = position(of: key) {
                    values[i] = newValue
                } else {
                    keys.append(key)
                    values.append(newValue)
                    if keys.count > JSONObject.indexThreshold {
                        if index.isEmpty {
                            index = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                        } else {
                            index[key] = keys.count - 1
                        }
                    }
                }
            } else if let i = position(of: key) {
                keys.remove(at: i)
                values.remove(at: i)
                index =
                    keys.count > JSONObject.indexThreshold
                    ? Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) : [:]
            }
        }
    }

    /// Appends `key: value` unless `value` is `nil` (keeps optional fields out of the wire form).
    public mutating func set(_ key: String, _ value: JSONValue?) {
        if let value { self[key] = value }
    }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: JSONValue)> {
        zip(keys, values).lazy.map { (key: $0.0, value: $0.1) }.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.keys == rhs.keys && lhs.values == rhs.values
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(keys)
        hasher.combine(values)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Dictionary literals keep their written order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}
