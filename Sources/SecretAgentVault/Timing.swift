/// The clock the token and lease tasks sleep on: `ContinuousClock` in production, a clock the
/// test advances by hand in tests. Its instants are `ContinuousClock`'s, the instants tokens and
/// leases carry (`Lease.obtained`), which is why this is not a plain `any Clock<Duration>`.
protocol VaultClock: Clock where Instant == ContinuousClock.Instant {}

extension ContinuousClock: VaultClock {}

/// Where the schedules' jitter comes from: a number in the range asked for. Random in
/// production; a fixed position in the range in tests, so a schedule is a pure function.
struct Jitter: Sendable {
    let pick: @Sendable (ClosedRange<Double>) -> Double

    /// Uniformly random in the range.
    static let random = Jitter { Double.random(in: $0) }

    /// Always the same position in the range: 0 its lower bound, 1 its upper bound.
    static func fixed(_ position: Double) -> Jitter {
        Jitter { $0.lowerBound + ($0.upperBound - $0.lowerBound) * position }
    }

    func callAsFunction(_ range: ClosedRange<Double>) -> Double { pick(range) }
}
