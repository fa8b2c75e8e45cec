/// The canonical serializer: byte for byte what JavaScript's `JSON.stringify` prints.
///
/// Every profile renders its body with this, so a body Herald sends is a fixed point of
/// `JSON.stringify(JSON.parse(body))` — which is what EKDSend's receivers hash — and all other
/// profiles simply get compact, deterministic bytes. What it matches:
/// - strings: only `"`, `\`, and U+0000–U+001F are escaped (`\b \t \n \f \r`, otherwise `\u00xx`
///   in lowercase hex); `/`, U+2028, U+2029, DEL and all non-ASCII text are written raw as UTF-8.
///   (Lone surrogates, which `JSON.stringify` writes as `\udxxx`, cannot occur: the parser refuses them.)
/// - numbers: JavaScript's `Number.prototype.toString` (shortest round-trip digits, plain notation
///   from 1e-7 up to but excluding 1e21, exponent form `1e+21` / `1.5e-7` outside), `-0` as `0`,
///   and NaN or ±Infinity as `null`.
/// - objects: keys that are array indices (`"0"`, `"42"`, up to 2^32-2) first in ascending numeric
///   order, then the others in insertion order — JavaScript's own-property order; no whitespace.
extension JSONValue {
    /// This value as compact JSON text, exactly as JavaScript's `JSON.stringify` would print it.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    /// This value as compact JSON text in a `String`.
    public func serializedString() -> String {
        String(decoding: serialized(), as: UTF8.self)
    }

    /// Appends this value's canonical JSON text to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .number(let d): out.append(contentsOf: JSNumberFormat.string(d).utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for i in JSONValue.propertyOrder(o.keys) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONValue.writeString(o.keys[i], to: &out)
                out.append(UInt8(ascii: ":"))
                o.values[i].write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Member positions in JavaScript's own-property order: array indices ascending, then the rest.
    static func propertyOrder(_ keys: [String]) -> [Int] {
        var indices: [(UInt32, Int)] = []
        for (i, k) in keys.enumerated() {
            if let n = arrayIndex(k) { indices.append((n, i)) }
        }
        if indices.isEmpty { return Array(keys.indices) }
        indices.sort { $0.0 < $1.0 }
        let indexed = Set(indices.map(\.1))
        return indices.map(\.1) + keys.indices.filter { !indexed.contains($0) }
    }

    /// The key's value when it is a canonical array index (`0`…`4294967294`, no leading zeros).
    static func arrayIndex(_ key: String) -> UInt32? {
        let u = key.utf8
        guard let first = u.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9"), u.count <= 10 else { return nil }
        if first == UInt8(ascii: "0") { return u.count == 1 ? 0 : nil }
        var v: UInt64 = 0
        for b in u {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            v = v * 10 + UInt64(b - UInt8(ascii: "0"))
        }
        return v <= 4_294_967_294 ? UInt32(v) : nil
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x00..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// JavaScript's `Number.prototype.toString()` for doubles (ECMA-262 Number::toString, radix 10).
public enum JSNumberFormat {
    /// The text JavaScript prints for `value`.
    public static func string(_ value: Double) -> String {
        guard value.isFinite else { return "null" }  // JSON.stringify(NaN) === "null"
        if value == 0 { return "0" }  // covers -0
        // Exact integers below 2^53 print as themselves; skip the digit analysis.
        if value.rounded() == value, value.magnitude < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        let (digits, n) = shortestDigits(value.magnitude)
        let k = digits.count
        var s = value < 0 ? "-" : ""
        if k <= n && n <= 21 {
            s += digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            s += digits.prefix(n) + "." + digits.dropFirst(n)
        } else if -6 < n && n <= 0 {
            s += "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            let exp = e < 0 ? "-\(-e)" : "+\(e)"
            if k == 1 {
                s += digits + "e" + exp
            } else {
                s += digits.prefix(1) + "." + digits.dropFirst(1) + "e" + exp
            }
        }
        return s
    }

    /// The shortest round-trip decimal digits of a positive finite double and the position `n` of
    /// the decimal point, so that value = 0.d1d2…dk × 10^n.
    ///
    /// Swift's `description` already prints the shortest digits that round-trip (choosing the
    /// closest when several do), as ECMA-262 requires; only its layout differs from JavaScript's.
    static func shortestDigits(_ value: Double) -> (String, Int) {
        let text = value.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointAt = 0
        var seenPoint = false
        for c in mantissa {
            if c == "." { seenPoint = true; continue }
            digits.append(c)
            if !seenPoint { pointAt += 1 }
        }
        var n = pointAt + exponent
        // Strip leading zeros (each moves the point left) and trailing zeros.
        while digits.first == "0" && digits.count > 1 { digits.removeFirst(); n -= 1 }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        return (digits, n)
    }
}
