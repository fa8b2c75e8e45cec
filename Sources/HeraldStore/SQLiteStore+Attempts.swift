import GRDB
import HeraldCore

extension SQLiteStore {
    public func recordAttempts(
        _ records: [AttemptRecord], now: Timestamp, disableAfterSeconds: Int,
        announce: @escaping @Sendable (AttemptBatchOutcome) -> [[UInt8]]
    ) async throws(StoreError) -> AttemptBatchOutcome {
        guard !records.isEmpty else { return AttemptBatchOutcome() }
        return try await write { db in
            var outcome = AttemptBatchOutcome()
            var toDisable: [String: String] = [:]  // endpoint id → reason
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO attempt (event_id, endpoint_id, attempt, at, outcome, status_code, latency_ms,
                        error, response_snippet, url, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for r in records {
                try insert.execute(arguments: [
                    r.eventId, r.endpointId, r.attempt, r.at.millisecondsSinceEpoch, r.outcome.rawValue, r.statusCode,
                    r.latencyMs, r.error, r.responseSnippet, r.url, r.nextAttemptAt?.millisecondsSinceEpoch,
                ])
                guard db.changesCount == 1 else { continue }  // a redelivered record: already counted
                outcome.inserted += 1
                guard
                    let account = try String.fetchOne(
                        db, sql: "SELECT account_id FROM endpoint WHERE id = ?", arguments: [r.endpointId])
                else { continue }  // endpoint deleted since: nothing to track
                switch r.outcome {
                case .delivered:
                    try db.execute(
                        sql: """
                            UPDATE endpoint SET consecutive_failures = 0, failing_since = NULL, last_attempt_at = ?,
                                last_status_code = ? WHERE id = ?
                            """, arguments: [r.at.millisecondsSinceEpoch, r.statusCode, r.endpointId])
                case .retrying, .dead:
                    try db.execute(
                        sql: """
                            UPDATE endpoint SET consecutive_failures = consecutive_failures + 1,
                                failing_since = COALESCE(failing_since, ?), last_attempt_at = ?, last_status_code = ?
                            WHERE id = ?
                            """,
                        arguments: [r.at.millisecondsSinceEpoch, r.at.millisecondsSinceEpoch, r.statusCode, r.endpointId])
                    if r.outcome == .dead { outcome.exhausted.append(ExhaustedAttempt(account: account, record: r)) }
                    if r.statusCode == 410 {
                        toDisable[r.endpointId] = "410 Gone"
                    } else if let since = try Int64.fetchOne(
                        db, sql: "SELECT failing_since FROM endpoint WHERE id = ?", arguments: [r.endpointId]),
                        now.millisecondsSinceEpoch - since >= Int64(disableAfterSeconds) * 1000
                    {
                        toDisable[r.endpointId] = toDisable[r.endpointId] ?? "failing for \(disableAfterSeconds / 3600)h"
                    }
                case .dropped:
                    break
                }
            }
            for (id, reason) in toDisable.sorted(by: { $0.key < $1.key }) {
                guard let wire = try String.fetchOne(db, sql: "SELECT wire FROM endpoint WHERE id = ?", arguments: [id]) else {
                    continue
                }
                var endpoint = try Endpoint.wireDecoded(Array(wire.utf8))
                guard endpoint.state.isEnabled else { continue }  // already disabled: announce once
                endpoint.state = .disabled(reason: reason, at: now)
                try db.execute(
                    sql: "UPDATE endpoint SET wire = ?, updated_at = ? WHERE id = ?",
                    arguments: [
                        String(decoding: endpoint.wireEncoded(), as: UTF8.self), now.millisecondsSinceEpoch, id,
                    ])
                outcome.disabled.append(endpoint)
            }
            // What the batch must announce is written with it: a crash or a failed publish after
            // the commit cannot lose it (the outbox relay publishes it).
            for message in announce(outcome) {
                _ = try Self.insertOutbox(
                    message, now: now.millisecondsSinceEpoch, availableAt: now.millisecondsSinceEpoch, db: db)
            }
            return outcome
        }
    }

    public func attempts(eventId: String, account: String, after: Int64?, limit: Int) async throws(StoreError) -> [StoredAttempt]
    {
        try await attemptRows(
            sql: """
                SELECT a.* FROM attempt a LEFT JOIN endpoint e ON e.id = a.endpoint_id
                WHERE a.event_id = ? AND (e.account_id = ? OR a.endpoint_id = ?) AND a.id > ? ORDER BY a.id LIMIT ?
                """, arguments: [eventId, account, Self.callbackEndpointId(account: account), after ?? 0, limit])
    }

    public func attempts(endpointId: String, before: Int64?, limit: Int) async throws(StoreError) -> [StoredAttempt] {
        try await attemptRows(
            sql: """
                SELECT * FROM attempt WHERE endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT ?
                """, arguments: [endpointId, before ?? Int64.max, limit])
    }

    public func latestAttempts(eventId: String, account: String) async throws(StoreError) -> [StoredAttempt] {
        try await attemptRows(
            sql: """
                SELECT a.* FROM attempt a LEFT JOIN endpoint e ON e.id = a.endpoint_id
                WHERE a.event_id = ? AND (e.account_id = ? OR a.endpoint_id = ?) AND a.id = (
                    SELECT MAX(b.id) FROM attempt b WHERE b.event_id = a.event_id AND b.endpoint_id = a.endpoint_id)
                ORDER BY a.endpoint_id
                """, arguments: [eventId, account, Self.callbackEndpointId(account: account)])
    }

    /// The pseudo endpoint id of deliveries to an event's `callbackUrl` (the signer's
    /// `CallbackEndpoint`): they have no endpoint row, so the account is in the id itself.
    public static func callbackEndpointId(account: String) -> String { "callback:" + account }

    /// The attempt rows a query selects (every column of `attempt`), in its order.
    private func attemptRows(sql: String, arguments: StatementArguments) async throws(StoreError) -> [StoredAttempt] {
        try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.attempt(row:))
        }
    }

    static func attempt(row: Row) throws -> StoredAttempt {
        let next: Int64? = row["next_attempt_at"]
        let outcomeText: String = row["outcome"]
        return StoredAttempt(
            cursor: row["id"],
            record: AttemptRecord(
                eventId: row["event_id"], endpointId: row["endpoint_id"], attempt: row["attempt"],
                at: Timestamp(millisecondsSinceEpoch: row["at"]), outcome: AttemptOutcome(rawValue: outcomeText) ?? .dropped,
                statusCode: row["status_code"], latencyMs: row["latency_ms"], error: row["error"],
                responseSnippet: row["response_snippet"], url: row["url"],
                nextAttemptAt: next.map(Timestamp.init(millisecondsSinceEpoch:))))
    }
}
