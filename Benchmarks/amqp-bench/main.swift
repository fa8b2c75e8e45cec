// The Swift side of the AMQP client benchmark (scripts/bench-amqp.sh runs it next to the C
// reference in Benchmarks/amqp-reference and writes the comparison into BENCHMARKS.md).
//
//   amqp-bench --url amqp://guest:guest@127.0.0.1:5672/ --queue NAME [--count 50000]
//              [--window 1000] [--batch 100] [--prefetch 500] [--body-bytes 400]
//
// It declares a fresh quorum queue, publishes COUNT persistent mandatory messages through
// `AMQPConnection.publish(_:)` with WINDOW/BATCH tasks each awaiting confirmed batches of BATCH
// (so at most WINDOW are unconfirmed), then consumes them back with PREFETCH and one `ack()` per
// delivery, and deletes the queue. The output lines match the C reference's:
//   RESULT client=swift phase=publish count=N seconds=S rate=R
//   RESULT client=swift phase=consume count=N seconds=S rate=R
//   RESULT client=swift phase=rss kb=K        (VmHWM: the process's peak resident set)

import AMQP
import Foundation

struct Options {
    var url = "amqp://guest:guest@127.0.0.1:5672/"
    var queue = "bench.amqp.\(getpid())"
    var count = 50_000
    var window = 1_000
    var batch = 100
    var prefetch: UInt16 = 500
    var bodyBytes = 400

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fail("\(flag) needs a value") }
            switch flag {
            case "--url": options.url = value
            case "--queue": options.queue = value
            case "--count": options.count = number(flag, value)
            case "--window": options.window = number(flag, value)
            case "--batch": options.batch = number(flag, value)
            case "--prefetch": options.prefetch = UInt16(number(flag, value))
            case "--body-bytes": options.bodyBytes = number(flag, value)
            default: fail("unknown option \(flag)")
            }
        }
        guard options.batch <= options.window, options.window % options.batch == 0 else {
            fail("--window must be a multiple of --batch")
        }
        return options
    }

    private static func number(_ flag: String, _ value: String) -> Int {
        guard let n = Int(value), n > 0 else { fail("\(flag) must be a positive integer, not '\(value)'") }
        return n
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("amqp-bench: \(message)\n".utf8))
    exit(2)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func report(_ phase: String, count: Int, elapsed: Duration) {
    let s = seconds(elapsed)
    print(
        "RESULT client=swift phase=\(phase) count=\(count) seconds=\(String(format: "%.4f", s)) rate=\(Int((Double(count) / s).rounded()))"
    )
}

/// VmHWM from /proc: the most resident memory this process ever had, in KiB.
func peakResidentKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.dropFirst(6).filter(\.isNumber)) ?? -1
    }
    return -1
}

/// Publishes `count` messages from `window / batch` tasks, each awaiting one confirmed batch at a time.
func publishAll(_ connection: AMQPConnection, _ options: Options, body: Data) async throws {
    let tasks = options.window / options.batch
    let batches = (options.count + options.batch - 1) / options.batch
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<tasks {
            group.addTask {
                for batchIndex in stride(from: task, to: batches, by: tasks) {
                    let first = batchIndex * options.batch
                    let publications = (first..<min(first + options.batch, options.count)).map { index in
                        AMQPPublication(
                            exchange: "", routingKey: options.queue, body: body,
                            properties: AMQPProperties(
                                contentType: "application/octet-stream",
                                messageId: "bench-\(index + 1)"))
                    }
                    try await connection.publish(publications)
                }
            }
        }
        try await group.waitForAll()
    }
}

/// Consumes `count` deliveries, acknowledging each one; checks every body arrived whole.
func consumeAll(_ connection: AMQPConnection, _ options: Options) async throws {
    let consumer = try await connection.consume(queue: options.queue, prefetch: options.prefetch)
    var received = 0
    var bodyBytes = 0
    for try await delivery in consumer {
        bodyBytes += delivery.body.count
        delivery.ack()
        received += 1
        if received == options.count { break }
    }
    consumer.cancel()
    guard received == options.count, bodyBytes == options.count * options.bodyBytes else {
        fail(
            "consumed \(received) messages with \(bodyBytes) body bytes, expected \(options.count) with \(options.count * options.bodyBytes)"
        )
    }
}

let options = Options.parse(CommandLine.arguments)
let body = Data((0..<options.bodyBytes).map { UInt8(ascii: "a") + UInt8($0 % 26) })
do {
    let connection = try await AMQPConnection.connect(AMQPConfiguration(url: options.url, connectionName: "amqp-bench"))
    try await connection.declare(AMQPTopology(queues: [.quorum(options.queue)]))
    let clock = ContinuousClock()

    var start = clock.now
    try await publishAll(connection, options, body: body)
    report("publish", count: options.count, elapsed: start.duration(to: clock.now))

    start = clock.now
    try await consumeAll(connection, options)
    report("consume", count: options.count, elapsed: start.duration(to: clock.now))

    try await connection.delete(queue: options.queue)
    await connection.close()
    print("RESULT client=swift phase=rss kb=\(peakResidentKilobytes())")
} catch {
    fail("\(error)")
}
