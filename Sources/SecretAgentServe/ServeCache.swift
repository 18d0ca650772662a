import NIOCore
import SecretAgentAWS
import SecretAgentCore
import SecretTemplate
import Synchronization

/// What the local API caches: one AWS read, or one reference (`/v1/ref`).
enum CacheKey: Hashable, Sendable {
    case aws(AWSRawRequest)
    case reference(Reference)

    /// The name for logs: the reference text, never a value. It comes from the request, so it
    /// is cut at 256 characters and control characters are shown as `?` (one request, one line).
    var text: String {
        let raw: String
        switch self {
        case .aws(let request):
            raw = request.locator.text + (request.decrypts ? " (decrypted)" : "")
        case .reference(let reference): raw = reference.text
        }
        let clipped = raw.unicodeScalars.count > 256 ? String(String.UnicodeScalarView(raw.unicodeScalars.prefix(256))) + "…" : raw
        return String(String.UnicodeScalarView(clipped.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }
}

extension AWSRawRequest {
    /// True for an SSM read with `withDecryption=true`.
    var decrypts: Bool {
        if case .parameter(_, _, let decrypt) = self { return decrypt }
        return false
    }
}

/// One cached answer, encoded once: a hit writes these bytes as they are.
struct CacheEntry: Sendable {
    var body: ByteBuffer
    var contentType: String
    /// The backend's version of what is served (for the poll and the `/v1/ref` header).
    var version: String?
    /// For `/v1/ref`: the whole fetched secret, which the provider's poll compares against.
    var outcome: FetchOutcome?
    /// Extra response headers (`X-Secret-Agent-Version`).
    var headers: [(String, String)]
}

/// The bounded cache: least recently used evicted first; concurrent first requests for one key
/// share one fetch; forced refreshes (`refreshNow=true`) limited per key.
///
/// A hit is one lock, one dictionary lookup and a counter; the bytes are shared, not copied.
final class ServeCache: Sendable {
    private struct Slot {
        var entry: CacheEntry
        var lastUse: UInt64
        /// When a forced refresh of this key last started.
        var forcedAt: ContinuousClock.Instant?
    }

    private struct State {
        var slots: [CacheKey: Slot] = [:]
        var inflight: [CacheKey: Task<CacheEntry, any Error>] = [:]
        var tick: UInt64 = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    let refreshInterval: Duration

    init(capacity: Int, refreshInterval: Duration) {
        self.capacity = max(1, capacity)
        self.refreshInterval = refreshInterval
    }

    /// The cached entry, marked as just used.
    func hit(_ key: CacheKey) -> CacheEntry? {
        state.withLock { state in
            guard state.slots[key] != nil else { return nil }
            state.tick &+= 1
            state.slots[key]!.lastUse = state.tick
            return state.slots[key]!.entry
        }
    }

    /// For `refreshNow=true`: the cached entry when a forced refresh of the key started less than
    /// `refreshInterval` ago (the answer is that fresh), else nil and the refresh is recorded.
    func recentlyForced(_ key: CacheKey, now: ContinuousClock.Instant = .now) -> CacheEntry? {
        state.withLock { state in
            guard var slot = state.slots[key] else { return nil }
            if let at = slot.forcedAt, now - at < refreshInterval {
                state.tick &+= 1
                slot.lastUse = state.tick
                state.slots[key] = slot
                return slot.entry
            }
            slot.forcedAt = now
            state.slots[key] = slot
            return nil
        }
    }

    /// Fetches the key, sharing a fetch already under way for it; the result is cached (an
    /// error is not). Returns whether this call started the fetch.
    func load(_ key: CacheKey, fetch: @escaping @Sendable () async throws -> CacheEntry) async throws -> (CacheEntry, started: Bool) {
        let (task, started) = state.withLock { state -> (Task<CacheEntry, any Error>, Bool) in
            if let running = state.inflight[key] { return (running, false) }
            let task = Task<CacheEntry, any Error> {
                do {
                    let entry = try await fetch()
                    self.store(key, entry)
                    return entry
                } catch {
                    self.state.withLock { _ = $0.inflight.removeValue(forKey: key) }
                    throw error
                }
            }
            state.inflight[key] = task
            return (task, true)
        }
        return (try await task.value, started)
    }

    /// Puts a fresh entry in (from a fetch or the poll), evicting the least recently used.
    func store(_ key: CacheKey, _ entry: CacheEntry) {
        state.withLock { state in
            state.inflight[key] = nil
            state.tick &+= 1
            let forcedAt = state.slots[key]?.forcedAt
            state.slots[key] = Slot(entry: entry, lastUse: state.tick, forcedAt: forcedAt)
            while state.slots.count > capacity {
                guard let oldest = state.slots.min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { break }
                state.slots[oldest] = nil
            }
        }
    }

    /// Replaces an entry only if it is still cached (the poll must not bring back an evicted one).
    func update(_ key: CacheKey, _ entry: CacheEntry) {
        state.withLock { state in
            guard state.slots[key] != nil else { return }
            state.slots[key]!.entry = entry
        }
    }

    /// Drops an entry (the secret is gone).
    func remove(_ key: CacheKey) {
        state.withLock { _ = $0.slots.removeValue(forKey: key) }
    }

    /// Drops everything (a reload brought other backends or another allow-list).
    func removeAll() {
        state.withLock { $0.slots.removeAll() }
    }

    /// What the poll asks about: every cached key with its version and outcome.
    func snapshot() -> [(CacheKey, CacheEntry)] {
        state.withLock { state in state.slots.map { ($0.key, $0.value.entry) } }
    }

    /// How many entries are cached.
    var count: Int { state.withLock { $0.slots.count } }
}
