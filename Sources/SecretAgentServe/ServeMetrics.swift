import Metrics
import SecretAgentCore
import Synchronization

/// The local API's counters: kept here (for `LocalAPI.statistics`) and exported through
/// swift-metrics under `MetricName.localAPI…` (hits, misses, refreshes, refusals by reason).
final class ServeMetrics: Sendable {
    /// Why a request was refused, the `reason` label.
    enum Refusal: String, CaseIterable, Sendable {
        case token, forwarded, method, allowList = "allow_list"
    }

    let hits = Atomic<Int>(0)
    let misses = Atomic<Int>(0)
    let refreshes = Atomic<Int>(0)
    let refusals = Atomic<Int>(0)
    private let hitCounter = Counter(label: MetricName.localAPIHits)
    private let missCounter = Counter(label: MetricName.localAPIMisses)
    private let refreshCounter = Counter(label: MetricName.localAPIRefreshes)
    private let refusalCounters: [Refusal: Counter] = Dictionary(uniqueKeysWithValues: Refusal.allCases.map {
        ($0, Counter(label: MetricName.localAPIRefusals, dimensions: [("reason", $0.rawValue)]))
    })

    func hit() {
        hits.add(1, ordering: .relaxed)
        hitCounter.increment()
    }

    func miss() {
        misses.add(1, ordering: .relaxed)
        missCounter.increment()
    }

    func refresh() {
        refreshes.add(1, ordering: .relaxed)
        refreshCounter.increment()
    }

    func refuse(_ reason: Refusal) {
        refusals.add(1, ordering: .relaxed)
        refusalCounters[reason]?.increment()
    }
}

/// The local API's counts so far.
public struct LocalAPIStatistics: Sendable, Equatable {
    /// Answers served from the cache.
    public var hits: Int
    /// Requests that fetched (or joined a fetch under way) because nothing was cached.
    public var misses: Int
    /// Fetches forced by `refreshNow=true` or by a change the poll found.
    public var refreshes: Int
    /// Requests refused (token, X-Forwarded-For, method, allow-list).
    public var refusals: Int
}
