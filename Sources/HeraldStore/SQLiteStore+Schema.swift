import GRDB

extension SQLiteStore {
    /// Whether every migration this build knows has been applied, so a read-only reader (the
    /// signer) can wait while herald-ingest is still creating the store.
    public func isMigrated() async -> Bool {
        (try? await read { db in try SQLiteStore.migrator.hasCompletedMigrations(db) }) ?? false
    }

    /// Migrations run in order, once each; never edit a shipped one, add the next.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE account (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        default_profile TEXT NOT NULL,
                        default_secrets TEXT NOT NULL,       -- JSON array of EndpointSecret objects
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE api_key (
                        hash TEXT PRIMARY KEY NOT NULL,      -- hex SHA-256 of the key; the key is never stored
                        account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE endpoint (
                        id TEXT PRIMARY KEY NOT NULL,
                        account_id TEXT NOT NULL,
                        wire TEXT NOT NULL,                  -- Endpoint.wireEncoded(): one source of truth for the model
                        description TEXT,
                        metadata TEXT NOT NULL DEFAULT '{}',
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        consecutive_failures INTEGER NOT NULL DEFAULT 0,
                        failing_since INTEGER,
                        last_attempt_at INTEGER,
                        last_status_code INTEGER
                    );
                    CREATE INDEX endpoint_by_account ON endpoint(account_id, id);
                    CREATE TABLE event (
                        account_id TEXT NOT NULL,
                        id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        wire TEXT NOT NULL,                  -- Event.wireEncoded()
                        received_at INTEGER NOT NULL,
                        PRIMARY KEY (account_id, id)
                    ) WITHOUT ROWID;
                    CREATE INDEX event_by_time ON event(received_at);
                    CREATE TABLE idempotency (
                        account_id TEXT NOT NULL,
                        key TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (account_id, key)
                    ) WITHOUT ROWID;
                    CREATE INDEX idempotency_by_time ON idempotency(created_at);
                    CREATE TABLE attempt (
                        id INTEGER PRIMARY KEY,
                        event_id TEXT NOT NULL,
                        endpoint_id TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        at INTEGER NOT NULL,
                        outcome TEXT NOT NULL,
                        status_code INTEGER,
                        latency_ms INTEGER NOT NULL,
                        error TEXT,
                        response_snippet TEXT,
                        url TEXT NOT NULL,
                        next_attempt_at INTEGER,
                        -- a redelivered record is the same attempt started at the same time
                        UNIQUE (event_id, endpoint_id, attempt, at, outcome)
                    );
                    CREATE INDEX attempt_by_endpoint ON attempt(endpoint_id, id);
                    """)
        }
        // The transactional outbox: messages written in the same transaction as the facts they
        // announce, published after the commit and deleted once the broker confirmed them.
        migrator.registerMigration("outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        message BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        -- the relay publishes a row once this time has come, and pushes it on while it tries
                        available_at INTEGER NOT NULL
                    );
                    CREATE INDEX outbox_by_time ON outbox(available_at);
                    """)
        }
        return migrator
    }
}
