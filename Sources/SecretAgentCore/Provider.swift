import SecretTemplate

/// A backend that secrets are fetched from. Every backend (file, env, SSM, Secrets Manager,
/// Vault) implements this one protocol; tests use `InMemoryProvider`.
public protocol SecretProvider: Sendable {
    /// The reference schemes this provider serves.
    var schemes: Set<Scheme> { get }

    /// A short name for logs and health output ("aws-ssm", "vault", "file").
    var name: String { get }

    /// Checks locators without contacting the backend, before anything is fetched: a locator the
    /// backend can never serve as written (an ARN whose region is not a region name) throws an
    /// `AgentFailure` naming it (exit 65). The default accepts every locator.
    func validate(_ locators: [Locator]) throws

    /// Fetches many locators at once; batching and concurrency are the provider's job.
    ///
    /// Every locator passed in gets an entry in the result: `.found` or `.notFound`. Any other
    /// failure (permission denied, throttling, transport) throws an `AgentFailure` that names
    /// the locator, never a value: the agent never fails open.
    func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome]

    /// The poll: given what the agent holds now, returns fresh outcomes for the locators that
    /// changed (a new version, a new value, appeared or disappeared) and omits the rest.
    ///
    /// Providers with versions check them cheaply and in batches, and fetch values only for
    /// what changed; the default fetches everything again and compares.
    func changes(since known: [Locator: FetchOutcome]) async throws -> [Locator: FetchOutcome]

    /// Releases connections and, where configured, revokes leases.
    func shutdown() async
}

extension SecretProvider {
    public func validate(_ locators: [Locator]) throws {}

    public func shutdown() async {}

    public func changes(since known: [Locator: FetchOutcome]) async throws -> [Locator: FetchOutcome] {
        let fresh = try await fetch(Array(known.keys))
        return fresh.filter { locator, outcome in
            guard let old = known[locator] else { return true }
            return !outcome.sameContent(as: old)
        }
    }
}

extension FetchOutcome {
    /// True when both are not found, or both found with the same version and value.
    public func sameContent(as other: FetchOutcome) -> Bool {
        switch (self, other) {
        case (.notFound, .notFound): return true
        case (.found(let a), .found(let b)): return a.version == b.version && a.value == b.value
        default: return false
        }
    }
}
