import Foundation
import HeraldCore
import HeraldTestSupport

@testable import HeraldSigning

/// Runs the seeds' own verification code (node) and the `standardwebhooks` package (python3) on
/// what Herald signed. A missing interpreter is a test failure, not a skip: the proof is the point.
enum ExternalVerifier {
    /// `Tests/HeraldSigningTests/Verifiers`, found from this file's path.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Verifiers")

    struct Outcome {
        var status: Int32
        var output: String
        var verified: Bool { status == 0 }
    }

    struct Missing: Error, CustomStringConvertible {
        var tool: String
        var description: String {
            "\(tool) is required to run the seeds' verification code and was not found on PATH "
                + (tool == "node" ? "(apt-get install nodejs)" : "(python3 with `pip install standardwebhooks`)")
        }
    }

    /// Runs `tool script args…`; throws `Missing` when the tool is not installed.
    static func run(_ tool: String, _ script: String, _ args: [String]) throws -> Outcome {
        let result = try TestProcess.run(tool, [directory.appendingPathComponent(script).path] + args, mergeErrors: true)
        if result.status == 127 { throw Missing(tool: tool) }
        if tool == "python3", result.status == 3 { throw Missing(tool: "python3 package standardwebhooks") }
        return Outcome(status: result.status, output: result.output)
    }

    /// Writes a case file for one signed request and runs `script` on it.
    static func verify(
        _ script: String, with tool: String = "node", body: [UInt8], headers: [HTTPHeader], secret: String, url: String,
        extraArgs: [String] = []
    ) throws -> Outcome {
        let c: JSONValue = [
            "bodyBase64": .string(Base64.encode(body)),
            "headers": .array(headers.map { [.string($0.name), .string($0.value)] }),
            "secret": .string(secret), "url": .string(url),
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-case-\(UUID().uuidString).json")
        try Data(c.serialized()).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try run(tool, script, [file.path] + extraArgs)
    }
}

/// Payloads chosen to break naive serializers and signers.
enum Hostile {
    static let extras: [(String, JSONObject)] = [
        (
            "text",
            [
                "text": "नमस्ते संसार — तपाईंको सन्देश पुग्यो 👋🏽🇳🇵", "quotes": "\"double\" 'single' `back` \\ slash",
                "url": "https://example.com/a/b?c=/d&e=%2F#f", "controls": "\u{0}\u{1}\u{8}\t\n\u{B}\u{C}\r\u{1F}\u{7F}",
                "separators": "\u{2028}\u{2029}\u{FEFF}\u{200D}", "empty": "",
            ]
        ),
        (
            "numbers",
            [
                "big": 12_345_678_901_234_567_890.0, "beyond2to53": 9_007_199_254_740_993.0, "e21": 1e21, "e20": 1e20,
                "tiny": 1.5e-7, "small": 0.000001, "sum": .number(0.1 + 0.2), "negZero": .number(-0.0), "min": 5e-324,
                "max": 1.7976931348623157e308, "price": 4.35, "negative": -273.15, "int": 42,
            ]
        ),
        (
            "shapes",
            [
                "10": "index key", "2": "index key", "b": "name", "01": "not an index", "__proto__": ["x": 1],
                "nested": ["a": ["b": [1, [2, ["c": []]], [:]]]], "emptyObject": [:], "emptyArray": [], "null": nil,
                "bools": [true, false],
            ]
        ),
    ]

    static func event(_ status: MessageStatus, extra: JSONObject, channel: String = "sms", reason: String? = nil) -> Event {
        StatusChange(
            account: "acme/नेपाल", messageId: "msg/\"1\"/नमस्ते", status: status, recipient: "+977 981-8000000",
            channel: channel, occurredAt: Timestamp(millisecondsSinceEpoch: 1_781_934_660_123), reason: reason,
            eventId: "evt_hostile_1", extra: extra
        ).event()
    }
}
