import AMQP
import Foundation
import HeraldCore

/// A publication as bytes, for the transactional outbox: the store keeps these and the relay
/// publishes them later exactly as built.
///
/// Wire form, version 1 (header values are strings, integers or booleans: all Herald's builders use):
/// ```json
/// {"kind":"herald.publication","v":1,"exchange":"herald.events","routingKey":"endpoint.disabled",
///  "mandatory":true,"persistent":true,"contentType":"application/json","messageId":"…","type":"…",
///  "appId":"herald-ingest","headers":{"herald-account":"acme"},"body":"<base64>"}
/// ```
public enum StoredPublication {
    public static let wireKind = "herald.publication"

    /// The bytes for `publication`.
    public static func encode(_ publication: AMQPPublication) -> [UInt8] {
        let p = publication.properties
        var headers = JSONObject()
        for (key, value) in p.headers.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .string(let s): headers[key] = .string(s)
            case .bool(let b): headers[key] = .bool(b)
            default:
                if let n = value.intValue { headers[key] = .number(Double(n)) }
            }
        }
        var o: JSONObject = [
            "kind": .string(wireKind), "v": 1, "exchange": .string(publication.exchange),
            "routingKey": .string(publication.routingKey), "mandatory": .bool(publication.mandatory),
            "persistent": .bool(p.persistent), "headers": .object(headers),
            "body": .string(publication.body.base64EncodedString()),
        ]
        o.set("contentType", p.contentType.map(JSONValue.string))
        o.set("messageId", p.messageId.map(JSONValue.string))
        o.set("type", p.type.map(JSONValue.string))
        o.set("appId", p.appId.map(JSONValue.string))
        return JSONValue.object(o).serialized()
    }

    /// The publication in `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> AMQPPublication {
        let r = try WireReader.open(bytes, kind: wireKind, versions: 1...1)
        guard let body = Data(base64Encoded: try r.string("body")) else {
            throw .invalidValue(field: "body", reason: "not base64")
        }
        var headers: AMQPTable = [:]
        for (key, value) in try r.optionalObject("headers") ?? [:] {
            switch value {
            case .string(let s): headers[key] = .string(s)
            case .bool(let b): headers[key] = .bool(b)
            case .number(let n): headers[key] = .int64(Int64(n))
            default: throw .invalidValue(field: "headers.\(key)", reason: "a string, number or boolean")
            }
        }
        let properties = AMQPProperties(
            contentType: try r.optionalString("contentType"), headers: headers,
            persistent: try r.bool("persistent", default: true),
            messageId: try r.optionalString("messageId"), type: try r.optionalString("type"), appId: try r.optionalString("appId")
        )
        return AMQPPublication(
            exchange: try r.string("exchange"), routingKey: try r.string("routingKey"), body: body,
            properties: properties, mandatory: try r.bool("mandatory", default: true))
    }
}
