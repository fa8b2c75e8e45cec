import Foundation

/// A one-line progress bar on stderr with counts, rate and ETA, drawn only on a terminal.
final class ProgressBar: @unchecked Sendable {
    // @unchecked: `update` is called from one task at a time (the walk's progress callback);
    // the lock only guards against a final `finish` racing the last update.
    private let lock = NSLock()
    private let verb: String
    private let enabled: Bool
    private var drawn = false

    init(verb: String, enabled: Bool) {
        self.verb = verb
        self.enabled = enabled
    }

    /// A command's bar: drawn only when stderr is a terminal and the command is not printing JSON.
    convenience init(verb: String, json: Bool) {
        self.init(verb: verb, enabled: !json && Output.stderrIsTerminal)
    }

    func update(_ p: DeadLetterQueue.Progress) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let width = 30
        let fraction = p.total > 0 ? min(1, Double(p.scanned) / Double(p.total)) : 0
        let filled = Int(fraction * Double(width))
        let seconds = Double(p.elapsed.components.seconds) + Double(p.elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(p.done) / seconds : 0
        let scanRate = seconds > 0 ? Double(p.scanned) / seconds : 0
        let eta = scanRate > 0 ? Int(Double(p.total - p.scanned) / scanRate) : 0
        let line =
            "\r[\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] "
            + "\(p.scanned)/\(p.total) read, \(p.done) \(verb)\(p.skipped > 0 ? ", \(p.skipped) skipped" : ""), "
            + "\(Int(rate))/s, ETA \(eta / 60)m\(String(format: "%02d", eta % 60))s \u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
