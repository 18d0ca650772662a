import SecretTemplate

/// An in-memory backend for tests: secrets set by the test, call counting and injected failures.
public actor InMemoryProvider: SecretProvider {
    public nonisolated let schemes: Set<Scheme>
    public nonisolated let name: String
    private var secrets: [Locator: Secret] = [:]
    private var failure: (any AgentFailure)?
    /// How many times `fetch` was called, and with how many locators in all.
    public private(set) var fetchCalls = 0
    public private(set) var fetchedLocators = 0

    public init(schemes: Set<Scheme>, name: String = "memory") {
        self.schemes = schemes
        self.name = name
    }

    /// Sets (or with nil, removes) a secret.
    public func set(_ locator: Locator, _ secret: Secret?) {
        secrets[locator] = secret
    }

    /// Makes every later fetch throw `failure` (nil to stop).
    public func failWith(_ failure: (any AgentFailure)?) {
        self.failure = failure
    }

    public func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        fetchCalls += 1
        fetchedLocators += locators.count
        if let failure { throw failure }
        var out: [Locator: FetchOutcome] = [:]
        for l in locators { out[l] = secrets[l].map(FetchOutcome.found) ?? .notFound }
        return out
    }
}
