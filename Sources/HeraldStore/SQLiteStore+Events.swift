import Foundation
import GRDB
import HeraldCore

extension SQLiteStore {
    public func recordEvents(_ events: [Event], receivedAt: Timestamp) async throws(StoreError) {
        guard !events.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO event (account_id, id, type, wire, received_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, id) DO UPDATE SET type = excluded.type, wire = excluded.wire,
                        received_at = excluded.received_at
                    """)
            for e in events {
                try statement.execute(arguments: [
                    e.account, e.id, e.type, String(decoding: e.wireEncoded(), as: UTF8.self), receivedAt.millisecondsSinceEpoch,
                ])
            }
        }
    }

    public func event(account: String, id: String) async throws(StoreError) -> Event? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT wire FROM event WHERE account_id = ? AND id = ?", arguments: [account, id])
                .map { try Event.wireDecoded(Array($0.utf8)) }
        }
    }

    public func idempotentResponse(account: String, key: String, since: Timestamp) async throws(StoreError) -> StoredResponse? {
        try await read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT status, body FROM idempotency WHERE account_id = ? AND key = ? AND created_at >= ?
                    """, arguments: [account, key, since.millisecondsSinceEpoch]
            ).map { row in
                StoredResponse(status: row["status"], body: [UInt8](row["body"] as Data))
            }
        }
    }

    public func storeIdempotentResponse(account: String, key: String, response: StoredResponse, now: Timestamp)
        async throws(StoreError)
    {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO idempotency (account_id, key, status, body, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (account_id, key) DO UPDATE SET status = excluded.status, body = excluded.body,
                        created_at = excluded.created_at
                    """, arguments: [account, key, response.status, Data(response.body), now.millisecondsSinceEpoch])
        }
    }

    public func pruneIdempotency(before: Timestamp) async throws(StoreError) -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [before.millisecondsSinceEpoch])
            var n = db.changesCount
            try db.execute(sql: "DELETE FROM event WHERE received_at < ?", arguments: [before.millisecondsSinceEpoch])
            n += db.changesCount
            return n
        }
    }
}
