import GRDB
import HeraldCore

extension SQLiteStore {
    // MARK: EndpointDirectory (what the signer reads)

    public func endpoints(account: String) async throws -> [Endpoint] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT wire FROM endpoint WHERE account_id = ? ORDER BY id", arguments: [account])
                .map { try Endpoint.wireDecoded(Array($0.utf8)) }
        }
    }

    public func endpoint(id: String) async throws -> Endpoint? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT wire FROM endpoint WHERE id = ?", arguments: [id])
                .map { try Endpoint.wireDecoded(Array($0.utf8)) }
        }
    }

    public func endpoint(account: String, id: String) async throws -> Endpoint? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT wire FROM endpoint WHERE account_id = ? AND id = ?", arguments: [account, id])
                .map { try Endpoint.wireDecoded(Array($0.utf8)) }
        }
    }

    // MARK: writes (herald-ingest)

    public func createEndpoint(_ record: EndpointRecord) async throws(StoreError) {
        try await write { db in
            // Its key, or (for an account with endpoints from before per-account ids) the bare id.
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM endpoint WHERE id = ? OR (account_id = ? AND id = ?)",
                arguments: [
                    record.endpoint.id, record.endpoint.account, record.id,
                ]) == true
            {
                throw StoreError(.conflict, "endpoint '\(record.id)' exists")
            }
            try db.execute(
                sql: """
                    INSERT INTO endpoint (id, account_id, wire, description, metadata, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.endpoint.id, record.endpoint.account, String(decoding: record.endpoint.wireEncoded(), as: UTF8.self),
                    record.description, Self.metadataJSON(record.metadata), record.createdAt.millisecondsSinceEpoch,
                    record.updatedAt.millisecondsSinceEpoch,
                ])
        }
    }

    public func updateEndpoint(_ record: EndpointRecord) async throws(StoreError) {
        try await write { db in
            guard
                let oldWire = try String.fetchOne(
                    db, sql: "SELECT wire FROM endpoint WHERE id = ? AND account_id = ?",
                    arguments: [record.endpoint.id, record.endpoint.account])
            else { throw StoreError(.notFound, "no endpoint '\(record.endpoint.id)'") }
            let wasEnabled = (try? Endpoint.wireDecoded(Array(oldWire.utf8)))?.state.isEnabled ?? true
            try db.execute(
                sql: """
                    UPDATE endpoint SET wire = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    String(decoding: record.endpoint.wireEncoded(), as: UTF8.self), record.description,
                    Self.metadataJSON(record.metadata), record.updatedAt.millisecondsSinceEpoch, record.endpoint.id,
                ])
            // Re-enabling starts a fresh health record: the old run of failures no longer counts.
            if !wasEnabled && record.endpoint.state.isEnabled {
                try db.execute(
                    sql: "UPDATE endpoint SET consecutive_failures = 0, failing_since = NULL WHERE id = ?",
                    arguments: [record.endpoint.id])
            }
        }
    }

    public func deleteEndpoint(account: String, id: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM endpoint WHERE account_id = ? AND id IN (?, ?)",
                arguments: [account, EndpointKey.key(account: account, id: id), id])
            return db.changesCount >= 1
        }
    }

    /// Deletes an endpoint by its store key (`Endpoint.id`), whatever its account: for tools and
    /// tests that hold the key, not for requests (those go through `deleteEndpoint(account:id:)`).
    public func deleteEndpoint(id: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM endpoint WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func endpointRecord(account: String, id: String) async throws(StoreError) -> EndpointRecord? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM endpoint WHERE account_id = ? AND id IN (?, ?)",
                arguments: [account, EndpointKey.key(account: account, id: id), id]
            ).map(Self.endpointRecord(row:))
        }
    }

    public func endpointRecords(id: String, limit: Int) async throws(StoreError) -> [EndpointRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM endpoint WHERE \(EndpointKey.idSQL()) = ? ORDER BY account_id LIMIT ?",
                arguments: [id, limit]
            ).map(Self.endpointRecord(row:))
        }
    }

    public func endpointRecords(account: String, after: String?, limit: Int) async throws(StoreError) -> [EndpointRecord] {
        let id = EndpointKey.idSQL()
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM endpoint WHERE account_id = ? AND \(id) > ? ORDER BY \(id) LIMIT ?
                    """, arguments: [account, after ?? "", limit]
            ).map(Self.endpointRecord(row:))
        }
    }

    static func endpointRecord(row: Row) throws -> EndpointRecord {
        let wire: String = row["wire"]
        let metadataText: String = row["metadata"]
        var metadata: [String: String] = [:]
        if let o = try JSONValue.parse(metadataText).objectValue {
            for (k, v) in o { if let s = v.stringValue { metadata[k] = s } }
        }
        let failingSince: Int64? = row["failing_since"]
        let lastAttempt: Int64? = row["last_attempt_at"]
        return EndpointRecord(
            endpoint: try Endpoint.wireDecoded(Array(wire.utf8)), description: row["description"], metadata: metadata,
            createdAt: Timestamp(millisecondsSinceEpoch: row["created_at"]),
            updatedAt: Timestamp(millisecondsSinceEpoch: row["updated_at"]),
            health: EndpointHealth(
                consecutiveFailures: row["consecutive_failures"],
                failingSince: failingSince.map(Timestamp.init(millisecondsSinceEpoch:)),
                lastAttemptAt: lastAttempt.map(Timestamp.init(millisecondsSinceEpoch:)),
                lastStatusCode: row["last_status_code"]))
    }

    static func metadataJSON(_ metadata: [String: String]) -> String {
        JSONValue.object(JSONObject(metadata.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
            .serializedString()
    }
}
