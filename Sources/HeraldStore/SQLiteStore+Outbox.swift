import Foundation
import GRDB
import HeraldCore

extension SQLiteStore {
    public func claimEvents(
        _ events: [Event], receivedAt: Timestamp, since: Timestamp, holdMilliseconds: Int64,
        message: @escaping @Sendable (Event) -> [UInt8]
    ) async throws(StoreError) -> [ClaimedEvent] {
        guard !events.isEmpty else { return [] }
        return try await write { db in
            // One writer at a time: the insert either takes the id or finds it taken, so two
            // requests racing with the same id cannot both win.
            let claim = try db.cachedStatement(
                sql: """
                    INSERT INTO event (account_id, id, type, wire, received_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, id) DO UPDATE SET type = excluded.type, wire = excluded.wire,
                        received_at = excluded.received_at
                    WHERE event.received_at < ?
                    """)
            let now = receivedAt.millisecondsSinceEpoch
            var claimed: [ClaimedEvent] = []
            for e in events {
                try claim.execute(arguments: [
                    e.account, e.id, e.type, String(decoding: e.wireEncoded(), as: UTF8.self), now, since.millisecondsSinceEpoch,
                ])
                guard db.changesCount == 1 else { continue }
                let id = try Self.insertOutbox(message(e), now: now, availableAt: now + holdMilliseconds, db: db)
                claimed.append(ClaimedEvent(event: e, outboxId: id))
            }
            return claimed
        }
    }

    public func releaseEvents(_ claimed: [ClaimedEvent]) async throws(StoreError) {
        guard !claimed.isEmpty else { return }
        try await write { db in
            for c in claimed {
                try db.execute(
                    sql: "DELETE FROM event WHERE account_id = ? AND id = ?", arguments: [c.event.account, c.event.id])
                try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [c.outboxId])
            }
        }
    }

    public func dueOutboxMessages(now: Timestamp, limit: Int, leaseMilliseconds: Int64) async throws(StoreError)
        -> [OutboxMessage]
    {
        try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, message FROM outbox WHERE available_at <= ? ORDER BY id LIMIT ?
                    """, arguments: [now.millisecondsSinceEpoch, limit])
            let messages = rows.map { OutboxMessage(id: $0["id"], message: [UInt8]($0["message"] as Data)) }
            let lease = try db.cachedStatement(sql: "UPDATE outbox SET available_at = ? WHERE id = ?")
            for m in messages { try lease.execute(arguments: [now.millisecondsSinceEpoch + leaseMilliseconds, m.id]) }
            return messages
        }
    }

    public func deleteOutboxMessages(ids: [Int64]) async throws(StoreError) {
        guard !ids.isEmpty else { return }
        try await write { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ?")
            for id in ids { try delete.execute(arguments: [id]) }
        }
    }

    /// Writes one outbox row inside the caller's transaction; returns its id.
    static func insertOutbox(_ message: [UInt8], now: Int64, availableAt: Int64, db: Database) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO outbox (message, created_at, available_at) VALUES (?, ?, ?)",
            arguments: [Data(message), now, availableAt])
        return db.lastInsertedRowID
    }
}
