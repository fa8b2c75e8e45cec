import HeraldCore
import HeraldSigning

/// AMQP message ids for what Herald publishes, built so that they always fit AMQP's short
/// string (at most 255 bytes), whatever the length of the ids they are made of.
///
/// An id made of parts (`eventId:endpointId`, `eventId:endpointId:attempt`) is the parts joined
/// with `:` while that fits; a longer one becomes `sha256:` and the hex SHA-256 of the joined
/// text (71 bytes). The same parts always give the same id, so a consumer that deduplicates by
/// message id still can; the original ids travel in the body and in header values (long strings).
///
/// ```swift
/// MessageID.job(eventId: "evt_1", endpointId: "ep_1")   // "evt_1:ep_1"
/// ```
public enum MessageID {
    /// AMQP's limit on short strings (message id, routing key, type, app id, table keys).
    public static let shortStringLimit = 255

    /// The message id of a delivery job (in every queue it passes through).
    public static func job(eventId: String, endpointId: String) -> String {
        derive([eventId, endpointId])
    }

    /// The message id of an attempt record.
    public static func attempt(eventId: String, endpointId: String, attempt: Int) -> String {
        derive([eventId, endpointId, String(attempt)])
    }

    /// The message id of an event on `herald.events`.
    public static func event(_ id: String) -> String { derive([id]) }

    /// `parts` joined with `:` if that fits a short string, else its SHA-256 in hex.
    public static func derive(_ parts: [String]) -> String {
        let joined = parts.joined(separator: ":")
        guard joined.utf8.count > shortStringLimit else { return joined }
        return "sha256:" + Hex.encode(Digest.sha256(Array(joined.utf8)))
    }

    /// `text` unchanged if it fits a short string, else cut to the limit on a character
    /// boundary: for properties that are only informative (an event type as AMQP `type`).
    public static func fitted(_ text: String) -> String {
        guard text.utf8.count > shortStringLimit else { return text }
        var out = ""
        var used = 0
        for c in text {
            used += c.utf8.count
            if used > shortStringLimit { break }
            out.append(c)
        }
        return out
    }
}
