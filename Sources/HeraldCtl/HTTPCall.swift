import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A small JSON-over-HTTP call with URLSession, for herald-ingest and the management API.
struct HTTPCall: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: Data
    }

    /// Sends the request; an unreachable server is a `CtlError` naming `what` and the URL.
    static func send(
        _ method: String, _ url: URL, bearer: String? = nil, basicAuth: (String, String)? = nil,
        json body: Data? = nil, what: String
    ) async throws -> Response {
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let (user, password) = basicAuth {
            request.setValue(
                "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        return try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(
                        throwing: CtlError(
                            "cannot reach \(what) at \(url.scheme ?? "http")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? ""): \(error.localizedDescription)"
                        ))
                    return
                }
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                continuation.resume(returning: Response(status: status, body: data ?? Data()))
            }.resume()
        }
    }
}
