import GRDB
import HeraldCore

extension SQLiteStore {
    public func createAccount(_ account: Account, apiKey: String, now: Timestamp) async throws(StoreError) {
        let secrets = Self.secretsJSON(account.defaultSecrets)
        let hash = APIKey.hash(apiKey)
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE id = ?", arguments: [account.id]) == true {
                throw StoreError(.conflict, "account '\(account.id)' exists")
            }
            try db.execute(
                sql: "INSERT INTO account (id, name, default_profile, default_secrets, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [account.id, account.name, account.defaultProfile, secrets, now.millisecondsSinceEpoch])
            try db.execute(
                sql: "INSERT INTO api_key (hash, account_id, created_at) VALUES (?, ?, ?)",
                arguments: [hash, account.id, now.millisecondsSinceEpoch])
        }
    }

    public func addAPIKey(_ apiKey: String, account: String, now: Timestamp) async throws(StoreError) {
        let hash = APIKey.hash(apiKey)
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE id = ?", arguments: [account]) == true else {
                throw StoreError(.notFound, "no account '\(account)'")
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO api_key (hash, account_id, created_at) VALUES (?, ?, ?)",
                arguments: [hash, account, now.millisecondsSinceEpoch])
        }
    }

    public func account(apiKey: String) async throws(StoreError) -> Account? {
        let hash = APIKey.hash(apiKey)
        return try await read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT a.* FROM api_key k JOIN account a ON a.id = k.account_id WHERE k.hash = ?
                    """, arguments: [hash]
            ).map(Self.account(row:))
        }
    }

    public func account(id: String) async throws -> Account? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = ?", arguments: [id]).map(Self.account(row:))
        }
    }

    static func account(row: Row) throws -> Account {
        Account(
            id: row["id"], name: row["name"], defaultProfile: row["default_profile"],
            defaultSecrets: try secrets(json: row["default_secrets"]))
    }

    static func secretsJSON(_ secrets: [EndpointSecret]) -> String {
        JSONValue.array(
            secrets.map { s in
                var o: JSONObject = ["value": .string(s.value), "createdAt": .string(s.createdAt.iso8601Milliseconds)]
                o.set("expiresAt", s.expiresAt.map { .string($0.iso8601Milliseconds) })
                return .object(o)
            }
        ).serializedString()
    }

    static func secrets(json: String) throws -> [EndpointSecret] {
        guard let items = try JSONValue.parse(json).arrayValue else { return [] }
        return items.compactMap { item in
            guard let o = item.objectValue, let value = o["value"]?.stringValue,
                let created = o["createdAt"]?.stringValue.flatMap(Timestamp.init(iso8601:))
            else { return nil }
            return EndpointSecret(
                value: value, createdAt: created,
                expiresAt: o["expiresAt"]?.stringValue.flatMap(Timestamp.init(iso8601:)))
        }
    }
}
