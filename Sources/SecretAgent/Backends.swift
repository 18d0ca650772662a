import Logging
import SecretAgentAWS
import SecretAgentCore
import SecretTemplate

/// The providers one agent uses, and what goes with them: Vault's lease replacements, the
/// gauges read on each `/metrics` scrape, and the shutdown that closes connections (and revokes
/// leases when `revoke_on_shutdown` is set).
public protocol Backends: Sendable {
    /// Every provider, by scheme.
    var providers: ProviderSet { get }
    /// Dynamic secrets replaced before their lease ran out (each is a rotation); nil when no
    /// backend has leases.
    var leaseReplacements: AsyncStream<Locator>? { get }
    /// Sets the token and lease gauges (called on each `/metrics` scrape).
    func recordTimeLeft() async
    /// Stops background work and closes connections.
    func shutdown() async
    /// The AWS backend when one was built: the local API's raw Secrets Manager and SSM reads.
    var aws: AWSBackend? { get }
}

extension Backends {
    public var aws: AWSBackend? { nil }
}

/// Builds the backends for a set of references. The agent builds them at start-up and again
/// for each reload; tests inject in-memory providers through ``StaticBackendFactory``.
public protocol BackendFactory: Sendable {
    func make(for locators: Set<Locator>, config: AgentConfig, environment: [String: String], logger: Logger) async throws -> any Backends
}

/// The production factory: `file:`, `env:`, and AWS and Vault when a reference names them.
public struct CloudBackendFactory: BackendFactory {
    public init() {}

    public func make(for locators: Set<Locator>, config: AgentConfig, environment: [String: String],
                     logger: Logger) async throws -> any Backends {
        try await CloudBackends.make(for: locators, config: config, environment: environment, logger: logger)
    }
}

/// The in-memory twin: the same providers every time (their state is the test's), never
/// shut down for real, so a reload sees the same values a test has set.
public struct StaticBackendFactory: BackendFactory {
    public let providers: ProviderSet

    public init(_ providers: [any SecretProvider]) {
        self.providers = ProviderSet(providers)
    }

    public func make(for locators: Set<Locator>, config: AgentConfig, environment: [String: String],
                     logger: Logger) async throws -> any Backends {
        StaticBackends(providers: providers)
    }
}

struct StaticBackends: Backends {
    let providers: ProviderSet
    var leaseReplacements: AsyncStream<Locator>? { nil }
    func recordTimeLeft() async {}
    func shutdown() async {}
}
