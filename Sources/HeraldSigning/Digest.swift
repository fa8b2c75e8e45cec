/// Public access to the digests Herald signs with, for tools and benchmarks that need the bare
/// primitive (the profiles use the same functions).
public enum Digest {
    /// HMAC-SHA256 of `message` keyed with `key` (OpenSSL).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] { Crypto.hmacSHA256(key: key, message: message) }
    /// SHA-256 of `data` (OpenSSL).
    public static func sha256(_ data: [UInt8]) -> [UInt8] { Crypto.sha256(data) }
}
