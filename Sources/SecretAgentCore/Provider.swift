import SecretTemplate

/// A backend that secrets are fetched from. Every backend (file, env, SSM, Secrets Manager,
/// Vault) implements this one protocol; tests use `InMemoryProvider`.
public protocol SecretProvider: Sendable {
    /// The reference schemes this provider serves.
    var schemes: Set<Scheme> { get }

    /// A short name for logs and health output ("aws-ssm", "vault", "file").
    var name: String { get }

    /// Fetches many locators at once; batching and concurrency are the provider's job.
    ///
    /// Every locator passed in gets an entry in the result: `.found` or `.notFound`. Any other
    /// failure (permission denied, throttling, transport) throws an `AgentFailure` that names
    /// the locator, never a value: the agent never fails open.
    func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome]

    /// Releases connections and, where configured, revokes leases.
    func shutdown() async
}

extension SecretProvider {
    public func shutdown() async {}
}
