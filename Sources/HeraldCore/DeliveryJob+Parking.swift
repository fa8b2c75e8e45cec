extension DeliveryJob {
    /// The delay tier to park this job in when it is not due yet at `now`, or nil when it is due.
    ///
    /// A job whose `notBefore` lies beyond the longest tier comes back early; whoever receives it
    /// (the signer from a tier, the worker from `herald.deliver`) parks it again, attempt
    /// unchanged, in the shortest tier that covers the rest of the wait (the longest when none does).
    ///
    /// ```swift
    /// if let tier = job.parkingTier(now: .now()) { publish(job, to: tier) } else { deliver(job) }
    /// ```
    public func parkingTier(now: Timestamp) -> DelayTier? {
        guard let notBefore, notBefore > now else { return nil }
        return DelayTier.atLeast(seconds: Double(notBefore.millisecondsSinceEpoch - now.millisecondsSinceEpoch) / 1000)
    }
}
