internal import CCrypto

/// The OpenSSL primitives Herald signs with. No OpenSSL type escapes this file.
enum Crypto {
    /// HMAC-SHA256 of `message` keyed with `key`.
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var outLen: UInt32 = 32
        // One-shot HMAC: no context to manage; it cannot fail for SHA-256 with valid buffers.
        _ = HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &outLen)
        return out
    }

    /// SHA-256 of `data`.
    static func sha256(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = SHA256(data, data.count, &out)
        return out
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    static func randomBytes(_ count: Int) throws(SigningError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&out, Int32(count)) == 1 else { throw .randomFailed }
        return out
    }

    /// Compares in time independent of where the inputs differ (lengths are not secret).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return CRYPTO_memcmp(a, b, a.count) == 0
    }

    /// An Ed25519 public key from a 32-byte private seed.
    static func ed25519PublicKey(seed: [UInt8]) throws(SigningError) -> [UInt8] {
        guard seed.count == 32, let pkey = EVP_PKEY_new_raw_private_key(CCrypto_ed25519KeyType(), nil, seed, 32) else {
            throw .invalidSecret("an Ed25519 private key must be 32 bytes (or 64: seed then public key)")
        }
        defer { EVP_PKEY_free(pkey) }
        var pub = [UInt8](repeating: 0, count: 32)
        var len = 32
        guard EVP_PKEY_get_raw_public_key(pkey, &pub, &len) == 1, len == 32 else { throw .cryptoFailed("Ed25519 public key") }
        return pub
    }

    /// An Ed25519 signature (64 bytes) of `message` with a 32-byte private seed.
    static func ed25519Sign(seed: [UInt8], message: [UInt8]) throws(SigningError) -> [UInt8] {
        guard seed.count == 32, let pkey = EVP_PKEY_new_raw_private_key(CCrypto_ed25519KeyType(), nil, seed, 32) else {
            throw .invalidSecret("an Ed25519 private key must be 32 bytes (or 64: seed then public key)")
        }
        defer { EVP_PKEY_free(pkey) }
        guard let ctx = EVP_MD_CTX_new() else { throw .cryptoFailed("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        // Ed25519 is "pure": no digest is set, the whole message goes to the one-shot call.
        guard EVP_DigestSignInit(ctx, nil, nil, nil, pkey) == 1 else { throw .cryptoFailed("Ed25519 sign init") }
        var sig = [UInt8](repeating: 0, count: 64)
        var sigLen = 64
        guard EVP_DigestSign(ctx, &sig, &sigLen, message, message.count) == 1, sigLen == 64 else {
            throw .cryptoFailed("Ed25519 sign")
        }
        return sig
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` under the 32-byte `publicKey`.
    static func ed25519Verify(publicKey: [UInt8], message: [UInt8], signature: [UInt8]) -> Bool {
        guard publicKey.count == 32, signature.count == 64,
            let pkey = EVP_PKEY_new_raw_public_key(CCrypto_ed25519KeyType(), nil, publicKey, 32)
        else { return false }
        defer { EVP_PKEY_free(pkey) }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { return false }
        return EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
    }
}

extension String {
    /// The string's UTF-8 bytes (what Node's `createHmac(alg, string)` keys with).
    var bytes: [UInt8] { Array(utf8) }
}
