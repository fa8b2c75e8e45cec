/// A value in an AMQP field table: message headers and queue/exchange arguments.
///
/// Integers keep their wire width because the broker compares arguments by type family
/// (`x-message-ttl` is accepted as any integer width, but a string is a different value).
public enum AMQPFieldValue: Sendable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    /// Seconds since the Unix epoch.
    case timestamp(UInt64)
    case table(AMQPTable)
    case array([AMQPFieldValue])
    case void

    /// The value as an integer, whatever its wire width, or nil.
    public var intValue: Int? {
        switch self {
        case .int8(let v): Int(v)
        case .int16(let v): Int(v)
        case .int32(let v): Int(v)
        case .int64(let v): Int(v)
        case .timestamp(let v): Int(exactly: v)
        default: nil
        }
    }

    /// The value as a string (UTF-8 strings, and byte strings that are valid UTF-8), or nil.
    public var stringValue: String? {
        switch self {
        case .string(let s): s
        case .bytes(let b): String(validating: b, as: UTF8.self)
        default: nil
        }
    }
}

/// A field table: header or argument names to values.
public typealias AMQPTable = [String: AMQPFieldValue]

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals become 64-bit integers (`l`), the width RabbitMQ itself exports.
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}
