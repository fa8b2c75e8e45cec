// signing-bench: render + sign throughput per profile for a ~1 KB event, next to a bare
// HMAC-SHA256 loop over the same bytes in the same run. Single thread, so the figures are
// per core. Usage: swift run -c release signing-bench [seconds-per-measurement]
import HeraldCore
import HeraldSigning

let seconds = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 1.0

/// A delivered-SMS event whose rendered standard body is about 1 KB.
func oneKilobyteEvent() -> Event {
    var extra: JSONObject = [
        "text": "नमस्ते! Your order #12345 has shipped 📦 — track it at https://example.com/t/abc?x=1",
        "segments": 2, "price": 0.0325, "currency": "NPR", "operator": "Nepal Telecom",
    ]
    var i = 0
    while JSONValue.object(extra).serialized().count < 760 {
        extra["meta\(i)"] = .string("value-\(i)-abcdefghijklmnopqrstuvwxyz")
        i += 1
    }
    return StatusChange(
        account: "acme", messageId: "a1b2c3d4-e5f6-7890-abcd-ef1234567890", status: .delivered,
        recipient: "+9779818000000", occurredAt: .now(), eventId: "evt_bench", extra: extra
    ).event()
}

/// Runs `body` repeatedly for about `seconds`; returns operations per second.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    var n = 0
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .milliseconds(Int(seconds * 1000)) {
        for _ in 0..<256 { try body() }
        n += 256
        elapsed = clock.now - start
    }
    let c = elapsed.components
    return Double(n) / (Double(c.seconds) + Double(c.attoseconds) / 1e18)
}

func fmt(_ v: Double) -> String {
    let r = (v / 1000).rounded() * 1000
    var s = String(Int(r))
    var out = ""
    while s.count > 3 { out = "," + s.suffix(3) + out; s = String(s.dropLast(3)) }
    return s + out
}

let event = oneKilobyteEvent()
let now = Timestamp.now()
var sink: UInt8 = 0
print("profile    body B   render+sign/s   +job wire/s   bare HMAC/s   sign/HMAC")
var rows: [(String, any WebhookProfile, String)] = []
for profile in ProfileRegistry.standard.profiles { rows.append((profile.name, profile, try profile.generateSecret().stored)) }
rows.insert(("std-v1a", StandardWebhooksProfile(), try StandardWebhooksProfile().generateKeyPair().stored), at: 1)
for (label, profile, secret) in rows {
    let ctx = SigningContext(endpointId: "ep_1", url: "https://example.com/hook", account: "acme", secrets: [secret], now: now)
    guard profile.eventName(for: event) != nil else { continue }
    let sample = try profile.sign(event, context: ctx)
    let endpoint = Endpoint(
        id: "ep_1", account: "acme", url: "https://example.com/hook", profile: profile.name,
        secrets: [EndpointSecret(value: secret, createdAt: now)])
    let signRate = try measure { sink &+= try profile.sign(event, context: ctx).body[0] }
    let jobRate = try measure { sink &+= try Signer.sign(event, for: endpoint, now: now).wireEncoded()[0] }
    let key = Array(secret.utf8)
    let hmacRate = measure { sink &+= Digest.hmacSHA256(key: key, message: sample.body)[0] }
    print(
        label.rightPad(10),
        String(sample.body.count).leftPad(7), fmt(signRate).leftPad(15), fmt(jobRate).leftPad(13),
        fmt(hmacRate).leftPad(13), String(format1(hmacRate / signRate)).leftPad(11))
}
if sink == 42 { print("") }  // keep the work observable

func format1(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return "\(r)x"
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
