import Synchronization

/// How an agent retries calls a backend refused for load (`aws.retry_mode`, `vault.retry_mode`).
public enum RetryMode: String, Sendable, Equatable, CaseIterable {
    /// Exponential backoff with full jitter per call, and a client-side rate per service and
    /// region that drops on a throttling answer and grows back (`AdaptiveRate`). The default.
    case adaptive
    /// Exponential backoff with full jitter per call only.
    case standard
}

/// One `AdaptiveRate` per key (`ssm|eu-west-1`, `vault`), with the clock and the waiting: what a
/// transport calls before each attempt and after each answer. Does nothing in `.standard` mode.
public final class RateLimiter: Sendable {
    public let mode: RetryMode
    private let parameters: AdaptiveRate.Parameters
    private let clock: @Sendable () -> Double
    private let states = Mutex<[String: AdaptiveRate]>([:])

    /// - Parameter clock: seconds on a monotonic clock (injected by tests); the continuous clock by default.
    public init(mode: RetryMode, parameters: AdaptiveRate.Parameters = AdaptiveRate.Parameters(),
                clock: (@Sendable () -> Double)? = nil) {
        self.mode = mode
        self.parameters = parameters
        self.clock = clock ?? RateLimiter.continuousSeconds
    }

    /// Waits until `key`'s bucket has a token and takes it: at once unless a throttling answer
    /// turned it on. Each call draws how full the bucket must be (uniform in [0, 2) tokens), so
    /// agents throttled together do not come back together; the wait is asked again at least
    /// once a second, so a further throttling answer meanwhile (another call of the same key)
    /// applies to it. Throws `CancellationError` when the task is cancelled (the start deadline).
    public func acquire(_ key: String) async throws {
        guard mode == .adaptive else { return }
        var need: Double?
        while true {
            // An unlimited key (every call until a throttling answer) costs a lookup, no draw.
            let drawn = need
            let wait: Double? = states.withLock { states in
                guard var state = states[key], state.isLimiting else { return 0 }
                guard let need = drawn else { return nil }
                defer { states[key] = state }
                return state.acquire(at: clock(), need: need)
            }
            guard let wait else {
                need = Double.random(in: 0..<2)
                continue
            }
            if wait <= 0 { return }
            try await Task.sleep(for: .milliseconds(Int64((min(wait, 1) * 1000).rounded(.up))))
        }
    }

    /// Records an answer for `key`: throttled (lowers its rate) or not.
    public func record(_ key: String, throttled: Bool) {
        guard mode == .adaptive else { return }
        states.withLock { states in
            guard throttled || states[key] != nil else { return }
            var state = states[key] ?? AdaptiveRate(parameters: parameters)
            state.record(throttled: throttled, at: clock())
            states[key] = state
        }
    }

    /// The calls a second `key` is allowed now (infinity when not limited). For logs and tests.
    public func rate(_ key: String) -> Double {
        states.withLock { $0[key]?.rate(at: clock()) ?? .infinity }
    }

    private static let origin = ContinuousClock.now

    private static let continuousSeconds: @Sendable () -> Double = {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

extension RetryMode {
    /// `block.name` of `node`: nil when absent; anything but a mode is a configuration error.
    static func parse(_ node: ConfigNode, _ name: String, block: String) throws(AgentError) -> RetryMode? {
        guard let text = try node.string(name) else { return nil }
        guard let mode = RetryMode(rawValue: text.trimmingWhitespace.lowercased()) else {
            throw AgentError.config("\(node.location): \(block).\(name) '\(text)' is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }
}
