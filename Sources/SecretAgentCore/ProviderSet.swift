import SecretTemplate

/// The providers of one agent, by scheme; fetches a set of locators from all of them at once.
public struct ProviderSet: Sendable {
    public private(set) var providers: [any SecretProvider] = []
    private var byScheme: [Scheme: Int] = [:]

    public init(_ providers: [any SecretProvider] = []) {
        for p in providers { add(p) }
    }

    /// Adds a provider; a later one replaces an earlier one for the same scheme.
    public mutating func add(_ provider: any SecretProvider) {
        providers.append(provider)
        for s in provider.schemes { byScheme[s] = providers.count - 1 }
    }

    public func provider(for scheme: Scheme) -> (any SecretProvider)? {
        byScheme[scheme].map { providers[$0] }
    }

    /// Fetches every locator, each provider's share concurrently with the others'. Every share is
    /// validated first (`SecretProvider.validate`), so a reference no backend can serve fails
    /// before any backend is contacted.
    ///
    /// Throws the first failure (never a partial result: the agent does not fail open).
    public func fetch(_ locators: Set<Locator>) async throws -> [Locator: FetchOutcome] {
        var groups: [Int: [Locator]] = [:]
        for l in locators {
            guard let i = byScheme[l.scheme] else {
                throw AgentError(.config, "\(l.text): no backend serves '\(l.scheme.rawValue):' references in this configuration")
            }
            groups[i, default: []].append(l)
        }
        let providers = self.providers
        for (i, ls) in groups.sorted(by: { $0.key < $1.key }) {
            try providers[i].validate(ls.sorted { $0.text < $1.text })
        }
        return try await withThrowingTaskGroup(of: [Locator: FetchOutcome].self) { group in
            for (i, ls) in groups {
                let provider = providers[i]
                group.addTask {
                    let result = try await provider.fetch(ls)
                    for l in ls where result[l] == nil {
                        throw AgentError(.unavailable, "\(provider.name) returned no result for \(l.text)")
                    }
                    return result
                }
            }
            var all: [Locator: FetchOutcome] = [:]
            for try await part in group { all.merge(part) { a, _ in a } }
            return all
        }
    }
}
