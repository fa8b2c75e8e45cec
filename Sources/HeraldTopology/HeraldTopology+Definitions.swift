import AMQP
import Foundation

extension HeraldTopology {
    /// The topology as a RabbitMQ definitions document, importable with
    /// `rabbitmqctl import_definitions` (written to `topology/definitions.json`).
    ///
    /// - Parameter vhost: the vhost every object belongs to.
    /// - Returns: pretty-printed JSON with sorted keys, so the file diffs cleanly.
    public static func definitionsJSON(vhost: String = "/") throws -> Data {
        let document: [String: Any] = [
            "rabbit_version": "3.10.8",
            "vhosts": [["name": vhost]],
            "exchanges": all.exchanges.map { exchange in
                [
                    "name": exchange.name, "vhost": vhost, "type": exchange.kind.rawValue,
                    "durable": exchange.durable, "auto_delete": exchange.autoDelete,
                    "internal": exchange.isInternal, "arguments": json(exchange.arguments),
                ] as [String: Any]
            },
            "queues": all.queues.map { queue in
                [
                    "name": queue.name, "vhost": vhost, "durable": queue.durable,
                    "auto_delete": queue.autoDelete, "arguments": json(queue.arguments),
                ] as [String: Any]
            },
            "bindings": all.bindings.map { binding in
                [
                    "source": binding.exchange, "vhost": vhost, "destination": binding.queue,
                    "destination_type": "queue", "routing_key": binding.routingKey,
                    "arguments": json(binding.arguments),
                ] as [String: Any]
            },
            "policies": policies.map { policy in
                [
                    "vhost": vhost, "name": policy.name, "pattern": policy.pattern, "apply-to": "queues",
                    "priority": policy.priority, "definition": json(policy.definition),
                ] as [String: Any]
            },
        ]
        var data = try JSONSerialization.data(
            withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        return data
    }

    private static func json(_ table: AMQPTable) -> [String: Any] {
        table.mapValues(json)
    }

    private static func json(_ value: AMQPFieldValue) -> Any {
        switch value {
        case .bool(let v): v
        case .int8, .int16, .int32, .int64, .timestamp: value.intValue ?? 0
        case .float(let v): Double(v)
        case .double(let v): v
        case .string(let v): v
        case .bytes: value.stringValue ?? ""
        case .table(let t): json(t)
        case .array(let values): values.map(json)
        case .void: NSNull()
        }
    }
}
