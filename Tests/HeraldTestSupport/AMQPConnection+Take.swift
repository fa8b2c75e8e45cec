import AMQP

extension AMQPConnection {
    /// Takes (and acks) messages from `queue` with `basic.get` until `count` arrived or `timeout`
    /// passed; returns what arrived, so callers assert on the count.
    ///
    /// ```swift
    /// let dead = try await connection.take(1, from: HeraldNames.deadQueue)
    /// #expect(dead.count == 1)
    /// ```
    public func take(_ count: Int, from queue: String, timeout: Duration = .seconds(15)) async throws -> [AMQPDelivery] {
        var got: [AMQPDelivery] = []
        let deadline = ContinuousClock.now + timeout
        while got.count < count, ContinuousClock.now < deadline {
            if let delivery = try await get(queue: queue) {
                delivery.ack()
                got.append(delivery)
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return got
    }
}
