import HeraldCore
import HeraldStore

/// Endpoints (and the account) per account, loaded from the store on first use and dropped on
/// control notices, after a reconnect, or once older than `timeToLive` (so a missed notice
/// leaves a signer stale for at most that long).
///
/// Concurrent misses for one account share one load (a cold cache under prefetch 256 would
/// otherwise send 256 identical queries). A load that an invalidation overtook is returned to
/// its waiters but not kept, so a notice is never undone by a slow read.
actor EndpointCache {
    struct Entry: Sendable {
        var account: Account
        var endpoints: [Endpoint]
    }

    private let directory: any EndpointDirectory
    private let timeToLive: Duration
    /// Each entry with the time its load started (what it reflects is at least that fresh).
    private var entries: [String: (entry: Entry, loadedAt: ContinuousClock.Instant)] = [:]
    private var loading: [String: Task<Entry?, any Error>] = [:]
    private var generation: UInt64 = 0

    init(directory: any EndpointDirectory, timeToLive: Duration) {
        self.directory = directory
        self.timeToLive = timeToLive
    }

    /// The account and its endpoints, or nil when the account does not exist (not cached, so an
    /// account created later is seen at once).
    func entry(account id: String) async throws -> Entry? {
        if let cached = entries[id], ContinuousClock.now - cached.loadedAt < timeToLive { return cached.entry }
        let task: Task<Entry?, any Error>
        if let running = loading[id] {
            task = running
        } else {
            let directory = self.directory
            task = Task {
                guard let account = try await directory.account(id: id) else { return nil }
                return Entry(account: account, endpoints: try await directory.endpoints(account: id))
            }
            loading[id] = task
            let startedAt = generation
            let loadedAt = ContinuousClock.now
            Task { await self.finish(id, task: task, startedAt: startedAt, loadedAt: loadedAt) }
        }
        return try await task.value
    }

    private func finish(
        _ id: String, task: Task<Entry?, any Error>, startedAt: UInt64,
        loadedAt: ContinuousClock.Instant
    ) async {
        let result = try? await task.value
        guard loading[id] == task else { return }
        loading[id] = nil
        if startedAt == generation, let result { entries[id] = (result, loadedAt) }
    }

    /// One endpoint of the account, from the cached list, else straight from the store (an
    /// endpoint created after the list was cached).
    func endpoint(id: String, account: String) async throws -> Endpoint? {
        if let entry = try await entry(account: account), let endpoint = entry.endpoints.first(where: { $0.id == id }) {
            return endpoint
        }
        return try await directory.endpoint(account: account, id: id)
    }

    /// Drops one account (a control notice named it).
    func invalidate(account id: String) {
        entries[id] = nil
        loading[id] = nil
        generation &+= 1
    }

    /// Drops everything (notices may have been missed).
    func invalidateAll() {
        entries.removeAll()
        loading.removeAll()
        generation &+= 1
    }

    var cachedAccounts: Int { entries.count }
}
