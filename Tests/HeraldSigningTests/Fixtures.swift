import HeraldCore

@testable import HeraldSigning

/// The pinned inputs every fixed vector uses: one delivered SMS, signed five seconds later.
enum Fixture {
    static let occurredAt = Timestamp(millisecondsSinceEpoch: 1_781_934_660_000)  // 2026-06-20T05:51:00.000Z
    static let now = Timestamp(secondsSinceEpoch: 1_781_934_665)
    static let url = "https://example.com/webhooks/sms"

    static var event: Event {
        StatusChange(
            account: "acme", messageId: "a1b2c3d4", status: .delivered, recipient: "9818000000", occurredAt: occurredAt,
            eventId: "evt_fixed"
        ).event()
    }

    static func context(_ secrets: [String], now: Timestamp = now, url: String = url) -> SigningContext {
        SigningContext(endpointId: "ep_1", url: url, account: "acme", secrets: secrets, now: now, nonce: .fixed("01J0NONCE"))
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
