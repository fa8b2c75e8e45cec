/// Turns runs of `ack()`s into one `basic.ack` with `multiple` set.
///
/// Consumers ack one delivery at a time, and the owner thread takes the acks queued since its
/// last pass all at once; sending one `basic.ack(multiple)` for an in-order run instead of one
/// frame each saves a `send(2)` per message here and a settle per message in the broker.
///
/// `multiple` acknowledges every outstanding tag up to the given one, so a run is only deferred
/// while every lower tag of the channel incarnation is settled: an ack that skips a delivery
/// still in the application's hands is sent on its own, at once. Nacks and rejects are always
/// sent at once; they only advance the bookkeeping. Owner thread only; a pure value, so the
/// rules are unit-tested without a broker.
struct AckCoalescer {
    /// An ack to send now: `multiple` covers every tag up to `tag`.
    struct Ack: Equatable {
        let channel: UInt16
        let incarnation: UInt64
        let tag: UInt64
        let multiple: Bool
    }

    private struct Channel {
        let incarnation: UInt64
        /// Every tag up to this one is settled (sent or deferred).
        var settledThrough: UInt64 = 0
        /// Tags above a gap that were settled already.
        var settledAhead: Set<UInt64> = []
        /// The highest deferred ack, and how many acks it stands for.
        var deferredTag: UInt64 = 0
        var deferredCount = 0
        /// Off once `settledAhead` grew past `maxAhead` (a delivery left unsettled for long):
        /// from then on, acks of this incarnation go out one by one.
        var coalescing = true
    }

    /// Bounds the memory spent remembering settlements above an unsettled delivery.
    static let maxAhead = 4_096

    private var channels: [UInt16: Channel] = [:]
    private var dirty: [UInt16] = []

    /// Records a settlement; returns true when it is an ack deferred into a later `multiple`
    /// ack (send nothing now), false when the caller must send it now.
    mutating func settle(tag: UInt64, isAck: Bool, channel: UInt16, incarnation: UInt64) -> Bool {
        var state =
            channels[channel].flatMap { $0.incarnation == incarnation ? $0 : nil }
            ?? Channel(incarnation: incarnation)
        defer { channels[channel] = state }
        guard state.coalescing, tag > state.settledThrough else { return false }
        if tag == state.settledThrough + 1 {
            state.settledThrough = tag
            while state.settledAhead.remove(state.settledThrough + 1) != nil { state.settledThrough += 1 }
            guard isAck else { return false }
            if state.deferredCount == 0 { dirty.append(channel) }
            state.deferredTag = tag
            state.deferredCount += 1
            return true
        }
        state.settledAhead.insert(tag)
        if state.settledAhead.count > Self.maxAhead {
            state.coalescing = false
            state.settledAhead = []
        }
        return false
    }

    /// The deferred acks to send now, one per channel; forgets them.
    mutating func takeDeferred() -> [Ack] {
        guard !dirty.isEmpty else { return [] }
        var acks: [Ack] = []
        for channel in dirty {
            guard var state = channels[channel], state.deferredCount > 0 else { continue }
            acks.append(
                Ack(
                    channel: channel, incarnation: state.incarnation, tag: state.deferredTag,
                    multiple: state.deferredCount > 1))
            state.deferredCount = 0
            channels[channel] = state
        }
        dirty.removeAll(keepingCapacity: true)
        return acks
    }
}
