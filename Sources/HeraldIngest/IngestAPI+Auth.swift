import HeraldCore
import HeraldSigning
import HeraldStore
import Hummingbird

/// Who is calling: an account (its API key) or the operator (the admin key).
enum Caller: Sendable {
    case account(Account)
    case admin

    var isAdmin: Bool { if case .admin = self { true } else { false } }
}

extension IngestAPI {
    /// Resolves the bearer key: the admin key, or an account's API key. 401 otherwise.
    func authenticate(_ request: Request) async throws -> Caller {
        guard let header = request.headers[.authorization], header.count > 7,
            header.prefix(7).lowercased() == "bearer "
        else { throw Problem.unauthenticated }
        let key = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        if let admin = configuration.adminKey, constantTimeEqual(key, admin) { return .admin }
        guard let account = try await store.account(apiKey: key) else { throw Problem.unauthenticated }
        return .account(account)
    }

    /// The account a request acts for: the caller's own; an admin names it (`account` query or
    /// body field). An account naming another account is 403.
    func actingAccount(_ caller: Caller, named: String?, field: String = "account") async throws -> String {
        switch caller {
        case .account(let a):
            if let named, named != a.id {
                throw Problem.forbidden("an API key acts only for its own account ('\(a.id)')")
            }
            return a.id
        case .admin:
            guard let named else {
                throw Problem.invalid(
                    field, rule: "required for the admin key",
                    "the admin key must name the account ('\(field)')")
            }
            guard try await store.account(id: named) != nil else { throw Problem.notFound("account '\(named)'") }
            return named
        }
    }

    func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }

    /// `POST /v1/accounts` (admin): creates an account and returns its API key, once.
    func createAccount(_ request: Request) async throws -> Response {
        guard case .admin = try await authenticate(request) else {
            throw Problem.forbidden("creating accounts needs the admin key")
        }
        let body = try await jsonObjectBody(request)
        let r = FieldReader(body)
        try r.allowOnly(["id", "name", "defaultProfile"])
        let id = try r.optionalString("id", maxLength: 128) ?? ("acct_" + String(Event.newID().dropFirst(4)))
        try Rules.identifier(id, field: "id")
        let name = try r.string("name", maxLength: 200)
        let profile = try r.optionalString("defaultProfile", maxLength: 32) ?? profiles.defaultName
        guard profiles.contains(profile) else {
            throw Problem.invalid("defaultProfile", rule: "one of \(profiles.listing)", "unknown profile '\(profile)'")
        }
        let now = Timestamp.now()
        let secret = try Signer.generateSecret(profile: profile, profiles: profiles)
        let account = Account(
            id: id, name: name, defaultProfile: profile,
            defaultSecrets: [EndpointSecret(value: secret.stored, createdAt: now)])
        let apiKey = APIKey.generate()
        do {
            try await store.createAccount(account, apiKey: apiKey, now: now)
        } catch {
            guard error.kind == .conflict else { throw error }
            throw Problem.conflict("account '\(id)' exists", field: "id")
        }
        logger.info("account created", metadata: ["account.id": "\(id)"])
        let out: JSONObject = [
            "id": .string(id), "name": .string(name), "defaultProfile": .string(profile),
            "apiKey": .string(apiKey), "callbackSecret": .string(secret.reveal),
        ]
        return Self.json(.created, .object(out))
    }
}
