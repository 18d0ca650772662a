#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Client-side rate adaptation, as the AWS SDKs' `adaptive` retry mode does it, tuned for a fleet
/// of agents that share one quota: a token bucket that is off until the first throttling answer,
/// then refills at a rate that grows with the time since the last throttling answer.
///
/// A pure value: every method takes the time (seconds on any monotonic clock), so each transition
/// can be tested. `RateLimiter` holds one per service and region and supplies the clock.
///
/// - The first throttling answer turns the bucket on at `firstRate` calls a second, empty.
/// - A further one restarts the curve from `beta` times the rate at that moment (multiplicative
///   decrease, never below `floor`).
/// - Between throttling answers the rate grows hyperbolically from the rate `r₀` it restarted
///   at, `r(τ) = r₀ / (1 − τ·r₀/recoveryCalls)`: slowly at first, then ever faster, unbounded
///   once the time `recoveryCalls` calls take at `r₀` has passed. This is the schedule a backlog
///   draining through a shared quota needs: while the fleet's queued calls are many each agent
///   waits long; as they are served the waits shorten, so the last agents do not idle at a rate
///   set when the whole fleet was queued. A success once the rate passes `maxRate` turns the
///   bucket off (the agent is back to unlimited calls).
/// - Tokens are the rate's integral (`recoveryCalls · ln((1 − x₁)/(1 − x₂))`, `x = τ·r₀/recoveryCalls`),
///   so a wait is computed on the rising curve, in closed form.
public struct AdaptiveRate: Sendable, Equatable {
    /// The curve's constants. The defaults come from a simulation of 200 agents starting at once
    /// against a 40-a-second quota (Benchmarks/fleet-sim.py).
    public struct Parameters: Sendable, Equatable {
        /// Calls a second right after the first throttling answer.
        public var firstRate: Double = 0.25
        /// The multiplicative decrease on each further throttling answer.
        public var beta: Double = 0.9
        /// How many calls' time at the restart rate the curve takes to lift the limit.
        public var recoveryCalls: Double = 2.5
        /// The least rate: a throttled agent still tries at least this often.
        public var floor: Double = 0.05
        /// Above this rate the bucket turns off at the next success; a throttling answer there
        /// starts again from `firstRate`.
        public var maxRate: Double = 20

        public init() {}
    }

    public let parameters: Parameters
    /// True between a throttling answer and the recovery past `maxRate`.
    public private(set) var isLimiting = false
    private var tokens = 0.0
    private var lastRefill = 0.0
    /// The rate right after the last throttling answer, and that answer's time.
    private var restartRate = 0.0
    private var lastThrottle = 0.0

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    /// The calls a second allowed at `now`; infinity while not limiting (and where the curve has
    /// passed its asymptote).
    public func rate(at now: Double) -> Double {
        guard isLimiting else { return .infinity }
        let left = 1 - progress(at: now)
        return left <= 0 ? .infinity : restartRate / left
    }

    /// Takes a token when the bucket holds at least `min(need, 1)` (returns 0: send now; the bucket
    /// may go into debt, which the next call pays), else returns the seconds until it will hold
    /// `need` (ask again then, or sooner). `need` is the caller's jitter: drawn uniformly in
    /// [0, 2) per call, it spreads calls around the rate instead of releasing them on its beat.
    public mutating func acquire(at now: Double, need: Double = 1) -> Double {
        guard isLimiting else { return 0 }
        refill(at: now)
        let x = progress(at: now)
        // Past the asymptote the curve no longer limits (the next success turns the bucket off).
        if tokens >= min(need, 1) || x >= 1 {
            tokens -= 1
            return 0
        }
        // Solve recoveryCalls · ln((1 − x)/(1 − x_w)) = need − tokens for x_w.
        let c = parameters.recoveryCalls
        let xw = 1 - (1 - x) * exp(-(need - tokens) / c)
        return max(1e-6, (xw - x) * c / restartRate)
    }

    /// Records an answer: a throttling one lowers the rate (turning the bucket on the first
    /// time); a success past `maxRate` turns it off.
    public mutating func record(throttled: Bool, at now: Double) {
        let p = parameters
        guard throttled else {
            if isLimiting && rate(at: now) >= p.maxRate {
                self = AdaptiveRate(parameters: p)
            }
            return
        }
        let current = rate(at: now)
        refill(at: now)
        // Not limiting, or recovered past maxRate without a call since: a first throttling answer.
        restartRate = current >= p.maxRate ? p.firstRate : max(p.floor, current * p.beta)
        lastThrottle = now
        isLimiting = true
        // Calls sent at the old rate and not yet answered were throttled too: start empty.
        tokens = min(tokens, 0)
        lastRefill = now
    }

    /// τ·r₀/recoveryCalls: 0 right after a throttling answer, 1 at the curve's asymptote.
    private func progress(at now: Double) -> Double {
        min(1, max(0, now - lastThrottle) * restartRate / parameters.recoveryCalls)
    }

    private mutating func refill(at now: Double) {
        guard isLimiting, now > lastRefill else { return }
        let from = 1 - progress(at: lastRefill), to = 1 - progress(at: now)
        // At most one token banked: after throttling the bucket spaces calls, it allows no burst.
        tokens = to <= 0 ? 1 : min(1, tokens + parameters.recoveryCalls * log(from / to))
        lastRefill = now
    }
}
