import AMQP
import Foundation
import HeraldCore

/// The AMQP messages herald-ingest publishes, in the forms the other services read.
enum Publications {
    /// An event to `herald.events`, routing key = its type.
    static func event(_ event: Event) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.eventsExchange, routingKey: event.type, body: Data(event.wireEncoded()),
            properties: AMQPProperties(contentType: "application/json", headers: ["herald-account": .string(event.account)],
                                       persistent: true, messageId: event.id, type: event.type, appId: "herald-ingest"))
    }

    /// A signed job straight to `herald.deliveries` (the endpoint test: one endpoint only).
    static func job(_ job: DeliveryJob) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.deliveriesExchange, routingKey: HeraldNames.deliverRoutingKey,
            body: Data(job.wireEncoded()),
            properties: AMQPProperties(
                contentType: "application/json",
                headers: [
                    "herald-event-id": .string(job.event.id), "herald-endpoint-id": .string(job.endpointId),
                    "herald-attempt": .int64(Int64(job.attempt)),
                ],
                persistent: true, messageId: "\(job.event.id):\(job.endpointId)", appId: "herald-ingest"))
    }

    /// A control notice to the `herald.control` fanout; not mandatory, since no signer may be
    /// listening (a signer starting later loads fresh endpoints anyway).
    static func control(_ notice: ControlNotice) -> AMQPPublication {
        AMQPPublication(
            exchange: HeraldNames.controlExchange, routingKey: "", body: Data(notice.wireEncoded()),
            properties: AMQPProperties(contentType: "application/json", persistent: false, appId: "herald-ingest"),
            mandatory: false)
    }
}
