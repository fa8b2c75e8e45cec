/// Caps how many jobs per endpoint are in flight in one worker, holding the excess in a short
/// per-endpoint queue, so one slow endpoint occupies at most `limit` of the worker's transfers
/// while every other endpoint keeps flowing.
///
/// A pure state machine: the worker calls `submit` when a job arrives and `finish` when a
/// transfer ends, and starts whatever job they hand back.
///
/// ```swift
/// switch limiter.submit(job, for: job.endpointID) {
/// case .start(let job): deliver(job)
/// case .queued: break                          // starts when a slot frees up
/// case .overflow(let job): park(job)           // queue full: delay tier, no attempt spent
/// }
/// // when a transfer for `endpoint` ends:
/// if let next = limiter.finish(endpoint) { deliver(next) }
/// ```
public struct InFlightLimiter<Key: Hashable, Job> {
    /// Most jobs in flight per key.
    public let limit: Int
    /// Most jobs waiting per key before `submit` overflows.
    public let maxWaiting: Int
    private var inFlight: [Key: Int] = [:]
    private var waiting: [Key: [Job]] = [:]

    public enum Submission {
        /// Start this job now; it holds a slot until `finish`.
        case start(Job)
        /// Held until a slot for its key frees up; `finish` will hand it back.
        case queued
        /// Neither a slot nor room to wait: park the job elsewhere.
        case overflow(Job)
    }

    public init(limit: Int, maxWaiting: Int = 0) {
        precondition(limit >= 1, "limit must be at least 1")
        self.limit = limit
        self.maxWaiting = max(0, maxWaiting)
    }

    public mutating func submit(_ job: Job, for key: Key) -> Submission {
        let current = inFlight[key, default: 0]
        if current < limit {
            inFlight[key] = current + 1
            return .start(job)
        }
        if waiting[key, default: []].count < maxWaiting {
            waiting[key, default: []].append(job)
            return .queued
        }
        return .overflow(job)
    }

    /// Takes a slot of `key` if one is free and nobody waits for it; false otherwise (then use
    /// `submit` to wait in line). Lets a caller skip suspending in the common case.
    public mutating func tryAcquire(_ key: Key) -> Bool {
        let current = inFlight[key, default: 0]
        guard current < limit, waiting[key] == nil else { return false }
        inFlight[key] = current + 1
        return true
    }

    /// Releases one slot of `key`; returns the next waiting job, which takes the slot at once.
    public mutating func finish(_ key: Key) -> Job? {
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue.isEmpty ? nil : queue
            return next  // the slot passes straight to it
        }
        let current = inFlight[key, default: 0]
        precondition(current > 0, "finish called for a key with nothing in flight")
        inFlight[key] = current > 1 ? current - 1 : nil
        return nil
    }

    /// Removes and returns every waiting job (e.g. at shutdown, to hand back unacked).
    public mutating func removeAllWaiting() -> [Job] {
        defer { waiting = [:] }
        return waiting.values.flatMap { $0 }
    }

    public func inFlight(for key: Key) -> Int { inFlight[key, default: 0] }
    public func waiting(for key: Key) -> Int { waiting[key]?.count ?? 0 }
    /// Keys with anything in flight or waiting (memory stays bounded by active endpoints).
    public var activeKeys: Int { inFlight.count }
}

extension InFlightLimiter: Sendable where Key: Sendable, Job: Sendable {}
extension InFlightLimiter.Submission: Sendable where Job: Sendable {}
