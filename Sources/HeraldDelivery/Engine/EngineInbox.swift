internal import CCurl
import Foundation

/// The only state shared between callers and the engine thread: queued commands, the engine's
/// phase, and the multi handle to wake. Callers append and wake; the engine drains.
///
/// `@unchecked Sendable`: every stored property is read and written only while holding `lock`,
/// and the one C call made from other threads, `curl_multi_wakeup`, is documented as safe from
/// any thread; it is made under the lock and only while the engine is running, so the multi handle
/// cannot be cleaned up underneath it (the engine clears `multi` under the lock before cleanup).
final class EngineInbox: @unchecked Sendable {
    struct Submission {
        let id: UInt64
        let request: DeliveryRequest
        let continuation: CheckedContinuation<DeliveryResponse, Never>
    }

    enum Command {
        case start(Submission)
        case cancel(UInt64)
    }

    enum Phase {
        case running
        /// Finish in-flight transfers until the deadline, then abandon the rest.
        case draining(deadline: ContinuousClock.Instant)
        case stopped
    }

    private let lock = NSLock()
    private var commands: [Command] = []
    private var phase = Phase.running
    private var multi: UnsafeMutableRawPointer?
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private var lastID: UInt64 = 0
    /// True while the engine sleeps (or is about to) in `curl_multi_poll` with nothing queued:
    /// only then does a new command need a wakeup. Saves a syscall per transfer under load,
    /// when the engine is busy anyway and drains the queue on its next pass.
    private var engineSleeping = false
    /// The phase changed since the engine's last `drain`: it must look again before sleeping.
    private var phaseChanged = false

    func makeID() -> UInt64 {
        lock.withLock {
            lastID += 1
            return lastID
        }
    }

    /// Queues a transfer; false when the engine no longer accepts work or the task is cancelled.
    func submit(_ submission: Submission) -> Bool {
        lock.withLock {
            // Checked under the lock so a concurrent cancel either sees the queued start or
            // happens-before this check (Swift sets the flag before running cancel handlers).
            guard case .running = phase, !Task.isCancelled else { return false }
            commands.append(.start(submission))
            wakeLocked()
            return true
        }
    }

    /// Asks the engine to abandon transfer `id`: dropped here if still queued, otherwise the
    /// engine removes it (or ignores the request if it already finished).
    func cancel(_ id: UInt64) {
        let dropped: Submission? = lock.withLock {
            if let index = commands.firstIndex(where: { if case .start(let s) = $0 { s.id == id } else { false } }),
                case .start(let submission) = commands.remove(at: index)
            {
                return submission
            }
            if case .stopped = phase { return nil }
            commands.append(.cancel(id))
            wakeLocked()
            return nil
        }
        dropped?.continuation.resume(returning: .failed(DeliveryError(.cancelled, "cancelled before it started")))
    }

    /// Stops accepting work and gives in-flight transfers until `deadline`. An earlier deadline
    /// than one already set wins.
    func beginDraining(deadline: ContinuousClock.Instant) {
        lock.withLock {
            switch phase {
            case .running:
                phase = .draining(deadline: deadline)
            case .draining(let current) where deadline < current:
                phase = .draining(deadline: deadline)
            default:
                return
            }
            phaseChanged = true
            wakeLocked()
        }
    }

    /// Suspends until the engine thread has finished and freed its handles.
    func waitUntilStopped() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let stoppedAlready: Bool = lock.withLock {
                if case .stopped = phase { return true }
                stopWaiters.append(waiter)
                return false
            }
            if stoppedAlready { waiter.resume() }
        }
    }

    // MARK: engine side

    /// Called by the engine once its multi handle exists.
    func attach(multi: UnsafeMutableRawPointer) {
        lock.withLock { self.multi = multi }
    }

    /// Called by the engine before it polls: true when it may sleep (nothing is queued), and
    /// from then on new commands wake it.
    func prepareToSleep() -> Bool {
        lock.withLock {
            engineSleeping = commands.isEmpty && !phaseChanged
            return engineSleeping
        }
    }

    /// Takes every queued command and the current phase.
    func drain() -> ([Command], Phase) {
        lock.withLock {
            defer { commands.removeAll(keepingCapacity: true) }
            phaseChanged = false
            return (commands, phase)
        }
    }

    /// Called by the engine before it frees the multi handle: no more wakeups, no more work.
    /// Returns what was still queued (to fail) and who waits for the stop (to resume).
    func markStopped() -> ([Command], [CheckedContinuation<Void, Never>]) {
        lock.withLock {
            phase = .stopped
            multi = nil
            defer {
                commands = []
                stopWaiters = []
            }
            return (commands, stopWaiters)
        }
    }

    private func wakeLocked() {
        guard engineSleeping, let multi else { return }
        engineSleeping = false
        _ = curl_multi_wakeup(multi)
    }
}
