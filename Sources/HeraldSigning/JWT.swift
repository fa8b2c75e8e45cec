import HeraldCore

/// Compact JWS with HS256, just what httpSMS's `Authorization: Bearer` token needs.
public enum JWT {
    /// `base64url(header).base64url(claims).base64url(HMAC-SHA256)`, header `{"alg":"HS256","typ":"JWT"}`.
    public static func signHS256(claims: JSONObject, key: [UInt8]) -> String {
        let header: JSONValue = ["alg": "HS256", "typ": "JWT"]
        let signingInput = Base64.encodeURL(header.serialized()) + "." + Base64.encodeURL(JSONValue.object(claims).serialized())
        return signingInput + "." + Base64.encodeURL(Crypto.hmacSHA256(key: key, message: signingInput.bytes))
    }

    /// Checks an HS256 token's signature (constant time) and returns its claims. Time claims are
    /// the caller's to check. Refuses any `alg` but HS256 (no `none`, no key confusion).
    public static func verifyHS256(_ token: String, key: [UInt8]) throws(VerificationError) -> JSONObject {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64.decode(parts[0]), let claimBytes = Base64.decode(parts[1]),
            let sig = Base64.decode(parts[2])
        else { throw .malformed("JWT") }
        guard let header = try? JSONValue.parse(headerBytes).objectValue, header["alg"]?.stringValue == "HS256" else {
            throw .malformed("JWT header (alg must be HS256)")
        }
        let expected = Crypto.hmacSHA256(key: key, message: Array((parts[0] + "." + parts[1]).utf8))
        guard Crypto.constantTimeEqual(expected, sig) else { throw .signatureMismatch }
        guard let claims = try? JSONValue.parse(claimBytes).objectValue else { throw .malformed("JWT claims") }
        return claims
    }
}
