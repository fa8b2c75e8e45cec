import Foundation
import Testing

@testable import HeraldSigning

@Suite("Crypto and encoding primitives match published test vectors")
struct PrimitiveVectorTests {
    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func hmac() {
        let mac = Crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("SHA-256 of abc")
    func sha() {
        #expect(
            Hex.encode(Crypto.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("Ed25519 matches RFC 8032 test 1 and rejects a changed message")
    func ed25519() throws {
        let seed = Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
        let pub = try Crypto.ed25519PublicKey(seed: seed)
        #expect(Hex.encode(pub) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let sig = try Crypto.ed25519Sign(seed: seed, message: [])
        #expect(
            Hex.encode(sig)
                == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
        #expect(Crypto.ed25519Verify(publicKey: pub, message: [], signature: sig))
        #expect(!Crypto.ed25519Verify(publicKey: pub, message: [0], signature: sig))
    }

    @Test(
        "Base64 matches RFC 4648 and decodes both alphabets",
        arguments: [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ])
    func base64(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
        #expect(Base64.decode(encoded.replacingOccurrences(of: "=", with: "")) == Array(plain.utf8))
    }

    @Test("Base64 refuses garbage", arguments: ["Z", "Zm9v!", "Zg==Zg", "Zg==="])
    func base64Garbage(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test("Base64url has no padding and no + or /")
    func base64URL() {
        #expect(Base64.encodeURL([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64.encodeURL([0xFF]) == "_w")
    }

    @Test("JWT HS256 reproduces the jwt.io example token")
    func jwt() throws {
        let token = JWT.signHS256(
            claims: ["sub": "1234567890", "name": "John Doe", "iat": 1_516_239_022], key: Array("your-256-bit-secret".utf8))
        #expect(
            token
                == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        )
        #expect(try JWT.verifyHS256(token, key: Array("your-256-bit-secret".utf8))["name"] == "John Doe")
        #expect(throws: VerificationError.signatureMismatch) { try JWT.verifyHS256(token, key: Array("wrong".utf8)) }
    }

    @Test("JWT refuses alg none")
    func jwtNone() {
        let token = Base64.encodeURL(Array(#"{"alg":"none"}"#.utf8)) + "." + Base64.encodeURL(Array("{}".utf8)) + "."
        #expect(throws: VerificationError.self) { try JWT.verifyHS256(token, key: []) }
    }

    @Test("Standard Webhooks' published example signature")
    func standardSpecExample() {
        let key = Base64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!
        let content = StandardWebhooksProfile.signedContent(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(Base64.encode(Crypto.hmacSHA256(key: key, message: content)) == "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("constant-time comparison")
    func compare() {
        #expect(Crypto.constantTimeEqual([1, 2], [1, 2]))
        #expect(!Crypto.constantTimeEqual([1, 2], [1, 3]))
        #expect(!Crypto.constantTimeEqual([1, 2], [1]))
        #expect(Crypto.constantTimeEqual([], []))
    }
}
