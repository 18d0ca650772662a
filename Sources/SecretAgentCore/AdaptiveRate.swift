#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Client-side rate adaptation, as the AWS SDKs' `adaptive` retry mode does it, tuned for a fleet
/// of agents that share one quota: a token bucket that is off until the first throttling answer,
/// then refills at a rate that follows a CUBIC curve of the time since the last throttling answer.
///
/// A pure value: every method takes the time (seconds on any monotonic clock), so each transition
/// can be tested. `RateLimiter` holds one per service and region and supplies the clock.
///
/// - The first throttling answer turns the bucket on at `firstRate` calls a second, empty: the
///   next call waits one token interval (the caller spreads it with full jitter, so a fleet's
///   retries land over `2 / firstRate` seconds, not in one burst).
/// - A further throttling answer makes the rate at that moment the curve's new plateau (`wMax`)
///   and starts again from `beta · wMax` (multiplicative decrease, never below `floor`).
/// - Between throttling answers the rate follows `scale · (t − K)³ + wMax`, `K = ∛(wMax·(1−beta)/scale)`:
///   it climbs back to the plateau, holds there, then grows; a success once the curve passes
///   `maxRate` turns the bucket off again (the agent is back to unlimited calls).
public struct AdaptiveRate: Sendable, Equatable {
    /// The curve's constants. The defaults come from a simulation of 200 agents starting at once
    /// against a 40-a-second quota (Benchmarks/fleet-sim.py).
    public struct Parameters: Sendable, Equatable {
        /// Calls a second right after the first throttling answer.
        public var firstRate: Double = 0.25
        /// The multiplicative decrease on each throttling answer.
        public var beta: Double = 0.7
        /// The cubic's scale: how fast the rate grows back (calls/s per s³).
        public var scale: Double = 0.1
        /// The least rate: a throttled agent still tries at least this often.
        public var floor: Double = 0.05
        /// Above this rate the bucket turns off at the next success.
        public var maxRate: Double = 20

        public init() {}
    }

    public let parameters: Parameters
    /// True between a throttling answer and the recovery past `maxRate`.
    public private(set) var isLimiting = false
    private var tokens = 0.0
    private var lastRefill: Double?
    private var wMax = 0.0
    private var k = 0.0
    private var lastThrottle = 0.0

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    /// The calls a second allowed at `now`; infinity while not limiting.
    public func rate(at now: Double) -> Double {
        guard isLimiting else { return .infinity }
        let t = now - lastThrottle - k
        return max(parameters.floor, parameters.scale * t * t * t + wMax)
    }

    /// Takes a token when one is there (returns 0: send now), else returns how many seconds
    /// until one will be (ask again then; the caller adds jitter).
    public mutating func acquire(at now: Double) -> Double {
        guard isLimiting else { return 0 }
        refill(at: now)
        if tokens >= 1 {
            tokens -= 1
            return 0
        }
        return (1 - tokens) / rate(at: now)
    }

    /// Records an answer: a throttling one lowers the rate (turning the bucket on the first
    /// time); a success past `maxRate` turns it off.
    public mutating func record(throttled: Bool, at now: Double) {
        guard throttled else {
            if isLimiting && rate(at: now) >= parameters.maxRate {
                self = AdaptiveRate(parameters: parameters)
            }
            return
        }
        let p = parameters
        // The rate the agent was allowed when throttled becomes the plateau; the first time,
        // a plateau from which the curve starts at `firstRate`.
        let current = isLimiting ? min(rate(at: now), p.maxRate) : p.firstRate / p.beta
        refill(at: now)
        wMax = max(current, p.floor / p.beta)
        k = cbrt(wMax * (1 - p.beta) / p.scale)
        lastThrottle = now
        isLimiting = true
        // Calls sent at the old rate and not yet answered were throttled too: start empty.
        tokens = min(tokens, 0)
        lastRefill = now
    }

    private mutating func refill(at now: Double) {
        if let last = lastRefill, now > last {
            // At most one token banked: after throttling the bucket spaces calls, it allows no burst.
            tokens = min(1, tokens + (now - last) * rate(at: now))
        }
        lastRefill = max(now, lastRefill ?? now)
    }
}

private func cbrt(_ x: Double) -> Double {
    x <= 0 ? 0 : pow(x, 1.0 / 3.0)
}
