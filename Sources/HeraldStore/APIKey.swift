import HeraldSigning

/// API keys: `hk_` + 32 random base-32 characters; stored only as hex SHA-256.
///
/// A fast hash is right here (unlike passwords): the key has 160 random bits, so there is
/// nothing to brute-force, and a lookup on every request must stay cheap.
public enum APIKey {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// A fresh random key (system CSPRNG).
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        return "hk_" + String((0..<32).map { _ in alphabet[Int(rng.next() % 32)] })
    }

    /// The stored form: lower-case hex SHA-256 of the key's UTF-8 bytes.
    public static func hash(_ key: String) -> String {
        Hex.encode(Digest.sha256(Array(key.utf8)))
    }
}
