import AMQP

extension AMQPConnection {
    /// Runs `body` on this connection, then closes it whether or not `body` threw: a command's
    /// unacknowledged deliveries go back to their queue at once, not when the process exits.
    ///
    /// ```swift
    /// let depth = try await configuration.connect(purpose: "stats").closing { connection in
    ///     try await connection.inspect(queue: HeraldNames.deadQueue).messageCount
    /// }
    /// ```
    func closing<T>(_ body: (AMQPConnection) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }
}
