import Synchronization

/// A fixed client-side rate (`VAULT_RATE_LIMIT=rate[:burst]`, as the Vault API client reads it):
/// a token bucket of `burst` tokens refilled at `rate` a second. Each call reserves the next
/// token and waits until it is due, so concurrent callers are spaced, not rejected.
public final class FixedRate: Sendable {
    public let rate: Double
    public let burst: Int
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<(tokens: Double, last: ContinuousClock.Instant)>

    /// - Parameters:
    ///   - rate: calls a second, more than zero.
    ///   - burst: the calls that may go at once after a quiet spell (at least 1).
    public init(rate: Double, burst: Int, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.rate = rate
        self.burst = max(1, burst)
        self.clock = clock
        state = Mutex((Double(max(1, burst)), clock()))
    }

    /// `rate` or `rate:burst` (the burst defaults to the rate, at least 1); nil when it is not that.
    public static func parse(_ text: String) -> (rate: Double, burst: Int)? {
        let parts = text.trimmingWhitespace.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let rate = Double(parts[0]), rate > 0, rate.isFinite else { return nil }
        guard parts.count == 2 else { return (rate, max(1, Int(min(rate, 1e6)))) }
        guard let burst = Int(parts[1]), burst >= 1 else { return nil }
        return (rate, burst)
    }

    /// How long the caller must wait for its token (zero: go now); the token is taken.
    public func reserve() -> Duration {
        state.withLock { s in
            let now = clock()
            let elapsed = now - s.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            s.tokens = min(Double(burst), s.tokens + max(0, seconds) * rate)
            s.last = now
            s.tokens -= 1
            guard s.tokens < 0 else { return .zero }
            // At most a day (a rate of 1e-20 a second must not overflow the duration).
            return .milliseconds(Int64(min(-s.tokens / rate * 1000, 86_400_000).rounded(.up)))
        }
    }

    /// Takes a token, waiting for it. Throws `CancellationError` when the task is cancelled.
    public func acquire() async throws {
        let wait = reserve()
        if wait > .zero { try await Task.sleep(for: wait) }
    }
}
