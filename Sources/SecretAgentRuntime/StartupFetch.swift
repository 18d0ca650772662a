import Logging
import SecretAgentCore
import SecretTemplate

/// Fetches everything a job needs before anything is written or started, retrying transient
/// failures with exponential backoff and full jitter until the start deadline.
public struct StartupFetch: Sendable {
    public var providers: ProviderSet
    public var timeout: Duration
    public var logger: Logger

    public init(providers: ProviderSet, timeout: Duration, logger: Logger) {
        self.providers = providers
        self.timeout = timeout
        self.logger = logger
    }

    /// Returns every locator's outcome; throws the last failure once the deadline passes, or at
    /// once for a failure that retrying cannot fix (permission denied, bad configuration).
    public func run(_ locators: Set<Locator>) async throws -> [Locator: FetchOutcome] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var attempt = 0
        // What arrived stays: a retry asks only for the rest (one throttled batch of a large
        // configuration does not make every batch go again).
        var arrived: [Locator: FetchOutcome] = [:]
        while true {
            do {
                let missing = locators.filter { arrived[$0] == nil }
                let result = try await fetchOnce(missing, until: deadline)
                if attempt > 0 { logger.notice("all references resolved", metadata: ["attempts": "\(attempt + 1)"]) }
                return arrived.merging(result) { a, _ in a }
            } catch let failure as any AgentFailure where failure.isTransient {
                if let partial = failure as? PartialFetchFailure {
                    arrived.merge(partial.fetched.filter { locators.contains($0.key) }) { a, _ in a }
                }
                attempt += 1
                // Keep trying until the deadline itself: a long random delay is shortened, not a reason to stop early.
                let remaining = deadline - clock.now
                let delay = min(Backoff.delay(attempt: attempt, base: .milliseconds(200), cap: .seconds(5)), remaining - .milliseconds(50))
                guard remaining > .milliseconds(50) else {
                    // The last failure's status, except that data never arriving is "unavailable".
                    let kind: AgentError.Kind = failure.exitCode == .dataError ? .unavailable : AgentError.Kind(failure.exitCode) ?? .unavailable
                    throw AgentError(kind, "gave up after \(DurationParser.format(timeout)) (--start-timeout): \(failure.description)")
                }
                logger.warning("backend not ready, retrying", metadata: [
                    "error": "\(failure.description)", "attempt": "\(attempt)", "retry_in": "\(delay)",
                    "resolved": "\(arrived.count) of \(locators.count)",
                ])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// One attempt, cut off at the deadline: a backend that hangs cannot hold the start past
    /// `--start-timeout` (the request is cancelled).
    func fetchOnce(_ locators: Set<Locator>, until deadline: ContinuousClock.Instant) async throws -> [Locator: FetchOutcome] {
        let providers = self.providers
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: [Locator: FetchOutcome]?.self) { group in
            group.addTask { try await providers.fetch(locators) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let result = next { return result }
                throw AgentError(.unavailable, "no answer from the backends within \(DurationParser.format(timeout)) (--start-timeout)",
                                 transient: true)
            }
            throw AgentError(.unavailable, "no answer from the backends", transient: true)
        }
    }

    /// Turns fetch outcomes into what templates render from.
    public static func resolutions(_ outcomes: [Locator: FetchOutcome]) -> [Locator: Resolution] {
        outcomes.mapValues {
            switch $0 {
            case .found(let secret): return .found(secret.value)
            case .notFound: return .notFound
            }
        }
    }
}
