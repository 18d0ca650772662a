import SecretTemplate

/// Serves `env:NAME` references from the agent's own environment.
public struct EnvProvider: SecretProvider {
    let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public var schemes: Set<Scheme> { [.env] }
    public var name: String { "env" }

    public func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        var out: [Locator: FetchOutcome] = [:]
        for locator in locators {
            guard case .env(let name) = locator else { continue }
            if let value = environment[name] {
                out[locator] = .found(Secret(value: .string(value)))
            } else {
                out[locator] = .notFound
            }
        }
        return out
    }
}

/// A provider for schemes whose backend is not configured or not built: it fails every fetch
/// with a message that says what to do.
public struct UnavailableProvider: SecretProvider {
    public let schemes: Set<Scheme>
    public let name: String
    let reason: String

    public init(schemes: Set<Scheme>, name: String, reason: String) {
        self.schemes = schemes
        self.name = name
        self.reason = reason
    }

    public func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        let names = locators.map(\.text).sorted().joined(separator: ", ")
        throw AgentError(.config, "\(names): \(reason)")
    }
}
