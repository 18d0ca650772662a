/// The state of one backend as the poll loop sees it, for logs and `/healthz`.
public struct BackendHealth: Sendable, Equatable {
    public var name: String
    /// The last poll that succeeded (start-up counts).
    public var lastSuccess: ContinuousClock.Instant
    /// When the current run of failures began; nil while healthy.
    public var failingSince: ContinuousClock.Instant?
    /// The last failure's message (never a value).
    public var lastError: String?
    public var consecutiveFailures: Int

    public init(name: String, lastSuccess: ContinuousClock.Instant = .now) {
        self.name = name
        self.lastSuccess = lastSuccess
        self.consecutiveFailures = 0
    }
}
