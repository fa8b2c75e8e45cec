import Foundation
import HeraldCore
import HeraldSigning
import HeraldCtl
import Testing

/// `heraldctl listen` run as a process, with webhooks signed by `Signer.sign` POSTed by curl.
@Suite("heraldctl listen verifies webhooks")
struct ListenTests {
    /// Starts `heraldctl listen --port 0 --json …` and waits for the port it prints.
    static func startListener(profile: String, secret: String) async throws -> (Process, Int, Pipe) {
        let out = Pipe(), err = Pipe()
        let process = try CtlBinary.spawn(["listen", "--port", "0", "--profile", profile, "--secret", secret, "--json"],
                                          amqpURL: nil, stdout: out, stderr: err)
        let handle = err.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let port = Int(text[range].split(separator: ":").last!)!
                return (process, port, out)
            }
        }
        process.terminate()
        throw CtlError("listener did not print its port: \(text)")
    }

    /// POSTs with curl; returns the HTTP status.
    static func post(port: Int, path: String, headers: [HTTPHeader], body: [UInt8]) throws -> Int {
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-listen-\(UUID().uuidString)").path
        _ = FileManager.default.createFile(atPath: bodyFile, contents: Data(body))
        defer { try? FileManager.default.removeItem(atPath: bodyFile) }
        var args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "@\(bodyFile)",
                    "-H", "Content-Type: application/json"]
        for h in headers { args += ["-H", "\(h.name): \(h.value)"] }
        args.append("http://127.0.0.1:\(port)\(path)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl"] + args
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self)) ?? -1
    }

    @Test("a signed webhook gets 200 and a tampered one 401, for every HMAC profile", arguments: ["eksms", "standard", "teekrr", "sinch"])
    func verifiesAndRejects(profile: String) async throws {
        let generated = try Signer.generateSecret(profile: profile)
        let endpoint = Endpoint(id: "ep_1", account: "acme", url: "http://127.0.0.1/hook", profile: profile,
                                secrets: [EndpointSecret(value: generated.stored, createdAt: Timestamp.now().adding(seconds: -60))])
        let event = Event(type: "message.delivered", account: "acme", occurredAt: .now(),
                          data: ["messageId": "m1", "recipient": "+9779800000000", "status": "delivered", "channel": "sms"])
        let job = try Signer.sign(event, for: endpoint, now: .now())

        let (process, port, out) = try await Self.startListener(profile: profile, secret: generated.reveal)
        defer { process.terminate(); process.waitUntilExit() }

        #expect(try Self.post(port: port, path: "/hook", headers: job.headers, body: job.body) == 200)
        var tampered = job.body
        if let i = tampered.firstIndex(of: UInt8(ascii: "1")) { tampered[i] = UInt8(ascii: "2") }
        #expect(try Self.post(port: port, path: "/hook", headers: job.headers, body: tampered) == 401)
        #expect(try Self.post(port: port, path: "/hook", headers: [], body: job.body) == 401)

        process.terminate()
        process.waitUntilExit()
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        var valid: [Bool] = []
        for line in lines { if let b = (try? JSONValue.parse(String(line)))?["valid"]?.boolValue { valid.append(b) } }
        #expect(valid == [true, false, false], "printed: \(lines)")
    }
}
