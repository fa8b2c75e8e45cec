import Foundation
import HeraldCore
import HeraldCtl
import HeraldSigning
import HeraldTestSupport
import Testing

/// `heraldctl listen` run as a process, with webhooks signed by `Signer.sign` POSTed by curl.
@Suite("heraldctl listen verifies webhooks")
struct ListenTests {
    /// Starts `heraldctl listen --port 0 --json …` and waits for the port it prints.
    static func startListener(profile: String, secret: String) async throws -> (Process, Int, URL) {
        // Standard output goes to a file, read once the listener has exited (see `TestProcess`).
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-listen-out-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = Pipe()
        let process = try CtlBinary.spawn(
            ["listen", "--port", "0", "--profile", profile, "--secret=\(secret)", "--json"],
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
                try? out.close()
                return (process, port, outURL)
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
        var args = [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "@\(bodyFile)",
            "-H", "Content-Type: application/json",
        ]
        for h in headers { args += ["-H", "\(h.name): \(h.value)"] }
        args.append("http://127.0.0.1:\(port)\(path)")
        return Int(try TestProcess.run("curl", args).output) ?? -1
    }

    @Test(
        "a signed webhook gets 200 and a tampered one 401, for every profile in the registry",
        arguments: ProfileRegistry.standard.names)
    func verifiesAndRejects(profile: String) async throws {
        let generated = try Signer.generateSecret(profile: profile)
        let endpoint = Endpoint(
            id: "ep_1", account: "acme", url: "http://127.0.0.1/hook", profile: profile,
            secrets: [EndpointSecret(value: generated.stored, createdAt: Timestamp.now().adding(seconds: -60))])
        let event = Event(
            type: "message.delivered", account: "acme", occurredAt: .now(),
            data: ["messageId": "m1", "recipient": "+9779800000000", "status": "delivered", "channel": "sms"])
        let job = try Signer.sign(event, for: endpoint, now: .now())

        let (process, port, out) = try await Self.startListener(profile: profile, secret: generated.reveal)
        // Stops the listener if an expectation below throws first (terminate() is harmless twice).
        defer { process.terminate() }

        #expect(try Self.post(port: port, path: "/hook", headers: job.headers, body: job.body) == 200)
        var tampered = job.body
        if let i = tampered.firstIndex(of: UInt8(ascii: "1")) { tampered[i] = UInt8(ascii: "2") }
        #expect(try Self.post(port: port, path: "/hook", headers: job.headers, body: tampered) == 401)
        #expect(try Self.post(port: port, path: "/hook", headers: [], body: job.body) == 401)

        process.terminate()
        await process.waitForExit()
        let lines = String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self).split(separator: "\n")
        try? FileManager.default.removeItem(at: out)
        var valid: [Bool] = []
        for line in lines { if let b = (try? JSONValue.parse(String(line)))?["valid"]?.boolValue { valid.append(b) } }
        #expect(valid == [true, false, false], "printed: \(lines)")
    }
}
