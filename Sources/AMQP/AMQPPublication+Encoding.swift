/// The limits AMQP 0-9-1 puts on a publication, checked before it reaches rabbitmq-c: a message
/// the library cannot encode must fail alone, not look like a lost connection (which would
/// reconnect and send it again, forever).
extension AMQPPublication {
    /// The longest AMQP short string: exchange and routing key, most properties, table keys.
    static let shortStringLimit = 255

    /// Frame bytes around a content header's properties: frame header (7), class, weight and
    /// body size (12), frame end (1). The properties must fit in one frame with them.
    static let contentHeaderOverhead = 20

    /// Why this publication cannot be sent as AMQP frames, or nil when it can.
    ///
    /// - Parameters:
    ///   - frameMax: the connection's frame size; the content header must fit in one frame.
    ///   - reservedHeaderBytes: what the client itself adds to the headers.
    func encodingProblem(frameMax: Int, reservedHeaderBytes: Int = 0) -> String? {
        let limit = Self.shortStringLimit
        let shortStrings: [(String, String?)] = [
            ("exchange name", exchange), ("routing key", routingKey),
            ("content type", properties.contentType), ("content encoding", properties.contentEncoding),
            ("correlation id", properties.correlationId), ("reply-to", properties.replyTo),
            ("expiration", properties.expiration), ("message id", properties.messageId),
            ("type", properties.type), ("user id", properties.userId), ("app id", properties.appId),
        ]
        for case (let name, let value?) in shortStrings where value.utf8.count > limit {
            return "the \(name) is \(value.utf8.count) bytes, over AMQP's \(limit)-byte limit for short strings"
        }
        if let key = Self.overlongKey(in: properties.headers) {
            return
                "the header name '\(key.prefix(32))…' is \(key.utf8.count) bytes, over AMQP's \(limit)-byte limit for short strings"
        }
        let header = properties.encodedSize + reservedHeaderBytes + Self.contentHeaderOverhead
        if header > frameMax {
            return "the properties and headers take \(header) bytes, more than the \(frameMax)-byte frame that must carry them"
        }
        return nil
    }

    /// A table key, at any depth, longer than a short string may be.
    private static func overlongKey(in table: AMQPTable) -> String? {
        for (key, value) in table {
            if key.utf8.count > shortStringLimit { return key }
            if let nested = overlongKey(in: value) { return nested }
        }
        return nil
    }

    private static func overlongKey(in value: AMQPFieldValue) -> String? {
        switch value {
        case .table(let table): overlongKey(in: table)
        case .array(let values): values.lazy.compactMap { overlongKey(in: $0) }.first
        default: nil
        }
    }
}

extension AMQPProperties {
    /// Bytes of the encoded `basic` properties: flags, then each field present.
    var encodedSize: Int {
        var size = 2 + 1  // property flags, delivery mode (always sent)
        for value in [contentType, contentEncoding, correlationId, replyTo, expiration, messageId, type, userId, appId] {
            if let value { size += 1 + value.utf8.count }
        }
        if !headers.isEmpty { size += headers.encodedSize }
        if priority != nil { size += 1 }
        if timestamp != nil { size += 8 }
        return size
    }
}

extension Dictionary where Key == String, Value == AMQPFieldValue {
    /// Bytes of the encoded field table: a 4-byte length, then key, type octet and value per entry.
    var encodedSize: Int {
        reduce(4) { size, entry in size + 1 + entry.key.utf8.count + 1 + entry.value.encodedSize }
    }
}

extension AMQPFieldValue {
    /// Bytes of the encoded value, without its type octet.
    var encodedSize: Int {
        switch self {
        case .bool, .int8: 1
        case .int16: 2
        case .int32, .float: 4
        case .int64, .double, .timestamp: 8
        case .string(let v): 4 + v.utf8.count
        case .bytes(let v): 4 + v.count
        case .table(let v): v.encodedSize
        case .array(let values): values.reduce(4) { $0 + 1 + $1.encodedSize }
        case .void: 0
        }
    }
}
