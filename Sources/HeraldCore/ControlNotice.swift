/// A notice on the `herald.control` fanout exchange: something changed that processes cache.
///
/// herald-ingest publishes one after every endpoint change; each signer drops its cached
/// endpoints for that account. Wire form:
/// ```json
/// {"kind":"herald.control","v":1,"notice":"endpoint.changed","account":"acct_1","endpointId":"ep_1"}
/// ```
public struct ControlNotice: Sendable, Hashable {
    public enum Notice: String, Sendable, Hashable {
        /// An endpoint was created, updated, rotated, enabled, disabled or deleted.
        case endpointChanged = "endpoint.changed"
        /// An account's settings (default secret, profile) changed.
        case accountChanged = "account.changed"
    }

    public var notice: Notice
    public var account: String
    public var endpointId: String?

    public init(notice: Notice, account: String, endpointId: String? = nil) {
        self.notice = notice
        self.account = account
        self.endpointId = endpointId
    }

    public static let wireKind = "herald.control"
    public static let wireVersion = 1

    public func wireEncoded() -> [UInt8] {
        var object = JSONObject()
        object["kind"] = .string(Self.wireKind)
        object["v"] = .number(Double(Self.wireVersion))
        object["notice"] = .string(notice.rawValue)
        object["account"] = .string(account)
        if let endpointId { object["endpointId"] = .string(endpointId) }
        return JSONValue.object(object).serialized()
    }

    public static func wireDecoded(_ bytes: some Collection<UInt8>) throws(WireError) -> ControlNotice {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw WireError.notJSON(error) }
        guard case .object(let object) = value else { throw WireError.notAnObject }
        guard case .string(let kind)? = object["kind"], kind == wireKind else {
            var got: String?
            if case .string(let k)? = object["kind"] { got = k }
            throw WireError.wrongKind(expected: wireKind, got: got)
        }
        guard case .string(let noticeText)? = object["notice"] else { throw WireError.missingField("notice") }
        guard let notice = Notice(rawValue: noticeText) else {
            throw WireError.invalidValue(field: "notice", reason: "'\(noticeText)' is not endpoint.changed or account.changed")
        }
        guard case .string(let account)? = object["account"] else { throw WireError.missingField("account") }
        var endpointId: String?
        if case .string(let id)? = object["endpointId"] { endpointId = id }
        return ControlNotice(notice: notice, account: account, endpointId: endpointId)
    }
}
