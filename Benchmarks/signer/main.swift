// signer-bench: events per second through one in-process herald-signer, with fan-out 1 and 10,
// next to the broker's own ceiling measured in the same run (Benchmarks/signer/run.sh runs it
// against a private node and a fresh vhost; results go to docs/benchmarks-signer.md).
//
//   signer-bench --url amqp://guest:guest@127.0.0.1:5672/vhost [--events 20000] [--prefetch 256]
//
// Ceiling: COUNT persistent confirmed publishes of an event-sized body to a scratch quorum queue
// (pipelined, 20 tasks × batches of 100), then consume + ack them all (prefetch 500).
// Signer: COUNT events are queued on herald.sign first, then a signer starts; the clock runs
// until COUNT × FANOUT jobs sit in herald.deliver and herald.sign is empty.
//   RESULT phase=broker-publish count=N seconds=S rate=R
//   RESULT phase=broker-consume count=N seconds=S rate=R
//   RESULT phase=signer fanout=F events=N jobs=J seconds=S events_per_s=R jobs_per_s=R2

import AMQP
import Foundation
import HeraldCore
import HeraldSigner
import HeraldSigning
import HeraldStore
import HeraldTopology

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("signer-bench: \(message)\n".utf8))
    exit(2)
}

var url = "amqp://guest:guest@127.0.0.1:5672/"
var count = 20_000
var prefetch = 256
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    guard let value = arguments.next() else { fail("\(flag) needs a value") }
    switch flag {
    case "--url": url = value
    case "--events": count = Int(value) ?? { fail("--events must be a number") }()
    case "--prefetch": prefetch = Int(value) ?? { fail("--prefetch must be a number") }()
    default: fail("unknown option \(flag)")
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func event(account: String, index: Int) -> Event {
    Event(
        type: "message.delivered", account: account, occurredAt: .now(),
        data: [
            "messageId": .string("m_\(index)"), "recipient": "+9779818000000", "status": "DELIVERED",
            "channel": "sms",
        ])
}

/// Publishes in 20 concurrent tasks, each awaiting confirmed batches of 100.
func publishAll(_ connection: AMQPConnection, _ publications: [AMQPPublication]) async throws {
    let batches = stride(from: 0, to: publications.count, by: 100).map {
        Array(publications[$0..<min($0 + 100, publications.count)])
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<20 {
            group.addTask {
                for i in stride(from: lane, to: batches.count, by: 20) { try await connection.publish(batches[i]) }
            }
        }
        try await group.waitForAll()
    }
}

let connection = try await AMQPConnection.connect(AMQPConfiguration(url: url, connectionName: "signer-bench"))
try await connection.declare(HeraldTopology.all)

// The broker's ceiling for this message size on this machine.
let sample = event(account: "bench", index: 0).wireEncoded()
let scratch = "bench.signer.ceiling.\(getpid())"
try await connection.declare(AMQPTopology(queues: [.quorum(scratch)]))
var start = ContinuousClock.now
try await publishAll(
    connection,
    (0..<count).map { _ in
        AMQPPublication(exchange: "", routingKey: scratch, body: Data(sample))
    })
var elapsed = seconds(since: start)
print("RESULT phase=broker-publish count=\(count) seconds=\(elapsed) rate=\(Int(Double(count) / elapsed))")
start = ContinuousClock.now
var consumed = 0
for try await delivery in try await connection.consume(queue: scratch, prefetch: 500) {
    delivery.ack()
    consumed += 1
    if consumed == count { break }
}
elapsed = seconds(since: start)
print("RESULT phase=broker-consume count=\(count) seconds=\(elapsed) rate=\(Int(Double(count) / elapsed))")
try await connection.delete(queue: scratch)

// The store: one account per fan-out, with that many standard endpoints.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("signer-bench-\(getpid()).sqlite").path
let store = try SQLiteStore(path: path)
for fanout in [1, 10] {
    let account = "bench_f\(fanout)"
    let secret = try Signer.generateSecret(profile: "standard").stored
    try await store.createAccount(
        Account(
            id: account, name: account, defaultProfile: "standard",
            defaultSecrets: [EndpointSecret(value: secret, createdAt: .now())]),
        apiKey: "bench_\(account)_\(getpid())", now: .now())
    for i in 0..<fanout {
        let endpoint = Endpoint(
            id: "ep_\(account)_\(i)", account: account, url: "https://receiver.example/\(i)",
            secrets: [EndpointSecret(value: secret, createdAt: .now())])
        try await store.createEndpoint(EndpointRecord(endpoint: endpoint, createdAt: .now(), updatedAt: .now()))
    }
}
let directory = try SQLiteStore(path: path, readOnly: true)

for fanout in [1, 10] {
    try await connection.purge(queue: HeraldNames.deliverQueue)
    let events = (0..<count).map { event(account: "bench_f\(fanout)", index: $0) }
    try await publishAll(
        connection,
        events.map {
            AMQPPublication(exchange: HeraldNames.eventsExchange, routingKey: $0.type, body: Data($0.wireEncoded()))
        })
    let signer = SignerService(
        configuration: SignerConfiguration(
            amqpURL: url, prefetch: prefetch,
            connectionName: "signer-bench-signer"),
        directory: directory)
    start = ContinuousClock.now
    let task = Task { try await signer.run() }
    let jobs = count * fanout
    while true {
        let delivered = try await connection.inspect(queue: HeraldNames.deliverQueue).messageCount
        let waiting = try await connection.inspect(queue: HeraldNames.signQueue).messageCount
        if delivered >= jobs, waiting == 0 { break }
        try await Task.sleep(for: .milliseconds(20))
    }
    elapsed = seconds(since: start)
    task.cancel()
    _ = try? await task.value
    print(
        "RESULT phase=signer fanout=\(fanout) events=\(count) jobs=\(jobs) seconds=\(elapsed) "
            + "events_per_s=\(Int(Double(count) / elapsed)) jobs_per_s=\(Int(Double(jobs) / elapsed))")
}
try await connection.purge(queue: HeraldNames.deliverQueue)
await connection.close()
try? FileManager.default.removeItem(atPath: path)
