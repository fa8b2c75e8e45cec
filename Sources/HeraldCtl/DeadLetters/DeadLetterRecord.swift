import AMQP
import Foundation
import HeraldCore

/// One line of a `dlq export` file: a dead letter's body, headers and properties, losslessly.
///
/// ```json
/// {"id":"evt_1:ep_1","properties":{"contentType":"application/json","messageId":"evt_1:ep_1","persistent":true},
///  "headers":{"herald-reason":"retries-exhausted","herald-last-status":503},"body":{…job…}}
/// ```
/// `body` is the JSON body itself when re-serializing it gives back the exact bytes (Herald's own
/// jobs always do); otherwise `bodyBase64` holds the bytes. Header values: strings, 64-bit
/// integers and booleans are plain JSON; other AMQP types are `{"type":"int32","value":5}`, so
/// an import republishes the same types. The broker's own `x-delivery-count` is not exported.
public struct DeadLetterRecord: Sendable, Equatable {
    public var body: [UInt8]
    public var properties: AMQPProperties

    public init(body: [UInt8], properties: AMQPProperties) {
        self.body = body
        self.properties = properties
    }

    public init(_ delivery: AMQPDelivery) {
        body = Array(delivery.body)
        var properties = delivery.properties
        properties.headers["x-delivery-count"] = nil
        self.properties = properties
    }

    // MARK: writing

    public func jsonLine() -> [UInt8] {
        var o = JSONObject()
        if let id = properties.messageId { o["id"] = .string(id) }
        o["properties"] = .object(Self.encode(properties))
        var headers = JSONObject()
        for name in properties.headers.keys.sorted() {
            headers[name] = Self.encode(properties.headers[name]!)
        }
        o["headers"] = .object(headers)
        if let json = try? JSONValue.parse(body), json.serialized() == body {
            o["body"] = json
        } else {
            o["bodyBase64"] = .string(Data(body).base64EncodedString())
        }
        var line = JSONValue.object(o).serialized()
        line.append(0x0A)
        return line
    }

    static func encode(_ p: AMQPProperties) -> JSONObject {
        var o = JSONObject()
        o.set("contentType", p.contentType.map(JSONValue.string))
        o.set("contentEncoding", p.contentEncoding.map(JSONValue.string))
        o["persistent"] = .bool(p.persistent)
        o.set("priority", p.priority.map { .number(Double($0)) })
        o.set("correlationId", p.correlationId.map(JSONValue.string))
        o.set("replyTo", p.replyTo.map(JSONValue.string))
        o.set("expiration", p.expiration.map(JSONValue.string))
        o.set("messageId", p.messageId.map(JSONValue.string))
        o.set("timestamp", p.timestamp.map { .number(Double($0)) })
        o.set("type", p.type.map(JSONValue.string))
        o.set("userId", p.userId.map(JSONValue.string))
        o.set("appId", p.appId.map(JSONValue.string))
        return o
    }

    static func encode(_ value: AMQPFieldValue) -> JSONValue {
        func tagged(_ type: String, _ v: JSONValue) -> JSONValue { .object(["type": .string(type), "value": v]) }
        switch value {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .int64(let v): return abs(v) < (1 << 53) ? .number(Double(v)) : tagged("int64", .string(String(v)))
        case .int8(let v): return tagged("int8", .number(Double(v)))
        case .int16(let v): return tagged("int16", .number(Double(v)))
        case .int32(let v): return tagged("int32", .number(Double(v)))
        case .float(let v): return tagged("float", .number(Double(v)))
        case .double(let v): return tagged("double", .number(v))
        case .bytes(let b): return tagged("bytes", .string(Data(b).base64EncodedString()))
        case .timestamp(let t): return tagged("timestamp", .string(String(t)))
        case .table(let t):
            var o = JSONObject()
            for k in t.keys.sorted() { o[k] = encode(t[k]!) }
            return tagged("table", .object(o))
        case .array(let a): return tagged("array", .array(a.map(encode)))
        case .void: return tagged("void", .null)
        }
    }

    // MARK: reading

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(jsonLine: [UInt8]) throws {
        let value: JSONValue
        do { value = try JSONValue.parse(jsonLine) } catch { throw FormatError(description: "\(error)") }
        guard let o = value.objectValue else { throw FormatError(description: "a record must be a JSON object") }
        if let b = o["body"] {
            body = b.serialized()
        } else if let b64 = o["bodyBase64"]?.stringValue, let data = Data(base64Encoded: b64) {
            body = Array(data)
        } else {
            throw FormatError(description: "a record needs \"body\" or \"bodyBase64\"")
        }
        let p = o["properties"]?.objectValue ?? JSONObject()
        var properties = AMQPProperties(
            contentType: p["contentType"]?.stringValue, contentEncoding: p["contentEncoding"]?.stringValue,
            persistent: p["persistent"]?.boolValue ?? true, priority: p["priority"]?.intValue.map { UInt8(clamping: $0) },
            correlationId: p["correlationId"]?.stringValue, replyTo: p["replyTo"]?.stringValue,
            expiration: p["expiration"]?.stringValue, messageId: p["messageId"]?.stringValue ?? o["id"]?.stringValue,
            timestamp: p["timestamp"]?.intValue.map { UInt64(clamping: $0) }, type: p["type"]?.stringValue,
            userId: p["userId"]?.stringValue, appId: p["appId"]?.stringValue)
        for (name, v) in o["headers"]?.objectValue ?? JSONObject() {
            properties.headers[name] = try Self.decode(v, name: name)
        }
        self.properties = properties
    }

    static func decode(_ v: JSONValue, name: String) throws -> AMQPFieldValue {
        if let s = v.stringValue { return .string(s) }
        if let b = v.boolValue { return .bool(b) }
        if let n = v.numberValue {
            guard n == n.rounded(), abs(n) < 9.1e18 else { return .double(n) }
            return .int64(Int64(n))
        }
        guard let o = v.objectValue, let type = o["type"]?.stringValue else {
            throw FormatError(description: "header '\(name)' has an unreadable value")
        }
        let value = o["value"] ?? .null
        let bad = FormatError(description: "header '\(name)': bad \(type) value")
        switch type {
        case "int8": guard let i = value.intValue, let x = Int8(exactly: i) else { throw bad }; return .int8(x)
        case "int16": guard let i = value.intValue, let x = Int16(exactly: i) else { throw bad }; return .int16(x)
        case "int32": guard let i = value.intValue, let x = Int32(exactly: i) else { throw bad }; return .int32(x)
        case "int64":
            guard let x = value.stringValue.flatMap({ Int64($0) }) ?? value.intValue.map(Int64.init) else { throw bad };
            return .int64(x)
        case "float": guard let d = value.numberValue else { throw bad }; return .float(Float(d))
        case "double": guard let d = value.numberValue else { throw bad }; return .double(d)
        case "bytes":
            guard let d = value.stringValue.flatMap({ Data(base64Encoded: $0) }) else { throw bad }; return .bytes(Array(d))
        case "timestamp": guard let t = value.stringValue.flatMap({ UInt64($0) }) else { throw bad }; return .timestamp(t)
        case "table":
            guard let t = value.objectValue else { throw bad }
            var table = AMQPTable()
            for (k, v) in t { table[k] = try decode(v, name: "\(name).\(k)") }
            return .table(table)
        case "array":
            guard let a = value.arrayValue else { throw bad }
            return .array(try a.map { try decode($0, name: name) })
        case "void": return .void
        default: throw FormatError(description: "header '\(name)': unknown type '\(type)'")
        }
    }
}
