import Foundation
import HeraldCore

/// herald-ingest's HTTP API as heraldctl uses it: JSON in, JSON out, problem documents on failure.
struct IngestClient: Sendable {
    let baseURL: String
    let key: String?

    /// For admin routes (`/v1/endpoints…`): `HERALD_ADMIN_KEY`, else `HERALD_API_KEY`.
    static func admin() throws -> IngestClient {
        let c = try CtlConfiguration.fromEnvironment()
        return IngestClient(baseURL: c.ingestURL, key: c.adminKey ?? c.apiKey)
    }

    /// For event routes: `HERALD_API_KEY`.
    static func api() throws -> IngestClient {
        let c = try CtlConfiguration.fromEnvironment()
        return IngestClient(baseURL: c.ingestURL, key: c.apiKey)
    }

    /// Calls `method path`; returns the parsed JSON body (null when empty). A non-2xx answer is a
    /// `CtlError` carrying the problem document's title and detail.
    func call(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        let trimmed = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        guard let url = URL(string: trimmed + path), url.host != nil else {
            throw CtlError("HERALD_INGEST_URL '\(baseURL)' is not a URL like http://127.0.0.1:8080")
        }
        let response = try await HTTPCall.send(
            method, url, bearer: key, json: body.map { Data($0.serialized()) }, what: "herald-ingest (HERALD_INGEST_URL)")
        let parsed =
            response.body.isEmpty
            ? JSONValue.null
            : ((try? JSONValue.parse(Array(response.body))) ?? .string(String(decoding: response.body, as: UTF8.self)))
        guard (200..<300).contains(response.status) else {
            var text = "herald-ingest answered \(response.status) to \(method) \(path)"
            if let o = parsed.objectValue {
                if let title = o["title"]?.stringValue { text += ": \(title)" }
                if let detail = o["detail"]?.stringValue { text += " — \(detail)" }
            } else if let s = parsed.stringValue, !s.isEmpty {
                text += ": \(s.prefix(200))"
            }
            if response.status == 401 || response.status == 403 {
                text += " (check \(path.hasPrefix("/v1/endpoints") ? "HERALD_ADMIN_KEY" : "HERALD_API_KEY"))"
            }
            throw CtlError(text)
        }
        return parsed
    }

    /// Calls `method path` and prints the answer (`Output.answer`): what most endpoint and event
    /// commands do.
    func callAndPrint(_ method: String, _ path: String, body: JSONValue? = nil, json: Bool) async throws {
        Output.answer(try await call(method, path, body: body), json: json)
    }

    /// `?account=<id>` for a route that may act for one account, or "" when `account` is nil.
    static func accountQuery(_ account: String?) -> String {
        account.map { "?account=\(escape($0))" } ?? ""
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_.~:"))) ?? segment
    }
}
