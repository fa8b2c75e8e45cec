// worker-bench: fills herald.deliver with jobs for a local receiver, then reads herald.attempts
// and reports deliveries/s and latency percentiles. Used by Benchmarks/worker/run.sh.
//
//   worker-bench fill <amqp-url> <receiver-url> <count>
//   worker-bench measure <amqp-url> <count>
//   worker-bench relay <amqp-url> <count> <concurrency>
//
// `relay` is the broker ceiling for the worker's message flow, measured with the same client
// library: consume herald.deliver with the worker's prefetch, publish an attempt-record-sized
// message to herald.attempts and wait for its confirm, then ack: everything a delivery costs
// the broker, with no HTTP and no job decoding.
import AMQP
import Foundation
import HeraldCore
import HeraldTopology

let args = CommandLine.arguments
guard args.count >= 4 else {
    print("usage: worker-bench fill <amqp-url> <receiver-url> <count> | measure <amqp-url> <count>")
    exit(2)
}
let connection = try await AMQPConnection.connect(AMQPConfiguration(url: args[2], connectionName: "worker-bench"))
try await connection.declare(
    HeraldTopology.dead.merging(HeraldTopology.attempts).merging(HeraldTopology.resign)
        .merging(HeraldTopology.retry).merging(HeraldTopology.deliveries))

switch args[1] {
case "fill":
    let url = args[3]
    let count = Int(args[4])!
    let policy = RetryPolicy(
        connectTimeoutMs: 5000, timeoutMs: 10000, delaysSeconds: [5, 30], retryOn: Set(RetryCondition.allCases))
    let body = Array(
        #"{"type":"message.delivered","timestamp":"2026-01-01T00:00:00Z","data":{"messageId":"msg_1","status":"DELIVERED"}}"#.utf8
    )
    var batch: [AMQPPublication] = []
    for i in 0..<count {
        let event = Event(type: "message.delivered", account: "acct_bench", occurredAt: .now(), data: ["n": .number(Double(i))])
        // 64 endpoints on the same receiver: the per-endpoint cap does not bind, like real traffic.
        let job = DeliveryJob(
            endpointId: "ep_bench_\(i % 64)", url: url, profile: "standard", attempt: 1, firstAttemptAt: .now(),
            signedAt: .now(), policy: policy,
            headers: [
                HTTPHeader("content-type", "application/json"), HTTPHeader("webhook-id", event.id),
                HTTPHeader("webhook-timestamp", "1767225600"), HTTPHeader("webhook-signature", "v1,bench"),
            ],
            body: body, event: event)
        batch.append(
            AMQPPublication(
                exchange: HeraldNames.deliveriesExchange, routingKey: HeraldNames.deliverRoutingKey,
                body: Data(job.wireEncoded()), properties: AMQPProperties(contentType: "application/json")))
        if batch.count == 1000 { try await connection.publish(batch); batch.removeAll() }
    }
    if !batch.isEmpty { try await connection.publish(batch) }
case "measure":
    let count = Int(args[3])!
    var latencies: [Int] = []
    var first = Int64.max
    var last = Int64.min
    var failed = 0
    // Read the records only once all are in: reading alongside the worker took a third of a core
    // from it on a 2-core machine. The rate comes from the records' own timestamps.
    while try await connection.inspect(queue: HeraldNames.attemptsQueue).messageCount < count {
        try await Task.sleep(for: .milliseconds(100))
    }
    let consumer = try await connection.consume(queue: HeraldNames.attemptsQueue, prefetch: 2000)
    for try await d in consumer {
        let r = try AttemptRecord.wireDecoded(Array(d.body))
        d.ack()
        if r.outcome != .delivered { failed += 1 }
        latencies.append(r.latencyMs)
        first = min(first, r.at.millisecondsSinceEpoch)
        last = max(last, r.at.millisecondsSinceEpoch + Int64(r.latencyMs))
        if latencies.count == count { break }
    }
    consumer.cancel()
    latencies.sort()
    let seconds = Double(max(1, last - first)) / 1000
    print(
        String(
            format: "{\"deliveries\":%d,\"failed\":%d,\"seconds\":%.3f,\"per_second\":%.0f,\"p50_ms\":%d,\"p99_ms\":%d}",
            count, failed, seconds, Double(count) / seconds, latencies[count / 2], latencies[min(count - 1, count * 99 / 100)]))
case "relay":
    let count = Int(args[3])!
    let concurrency = Int(args[4])!
    let record = Data(repeating: UInt8(ascii: "x"), count: 400)
    let started = ContinuousClock.now
    let consumer = try await connection.consume(queue: HeraldNames.deliverQueue, prefetch: UInt16(concurrency))
    let done = Counter()
    try await withThrowingDiscardingTaskGroup { group in
        for try await d in consumer {
            group.addTask {
                try await connection.publish(
                    AMQPPublication(
                        exchange: HeraldNames.attemptsExchange, routingKey: HeraldNames.attemptsRoutingKey, body: record,
                        properties: AMQPProperties(contentType: "application/json", persistent: true)))
                d.ack()
                if done.increment() == count { consumer.cancel() }
            }
        }
    }
    let (s, atto) = (ContinuousClock.now - started).components
    let seconds = Double(s) + Double(atto) / 1e18
    print(String(format: "{\"relayed\":%d,\"seconds\":%.3f,\"per_second\":%.0f}", count, seconds, Double(count) / seconds))
default:
    print("unknown command \(args[1])")
    exit(2)
}
await connection.close()

/// Relayed messages so far. `@unchecked Sendable`: `value` is only touched under `lock`.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
}
