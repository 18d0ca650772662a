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
    /// Throws the first failure (never a partial result: the agent does not fail open); what did
    /// arrive travels with it as a `PartialFetchFailure`.
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
        // Every provider's share runs to its end: what arrived travels with a failure
        // (PartialFetchFailure), so a retry asks only for the rest.
        return try await BatchFetch.run(groups.map { i, ls in
            let provider = providers[i]
            return BatchFetch.Batch(covers: []) {
                let result = try await provider.fetch(ls)
                for l in ls where result[l] == nil {
                    throw PartialFetchFailure.wrapping(AgentError(.unavailable, "\(provider.name) returned no result for \(l.text)"),
                                                       fetched: result)
                }
                return Array(result)
            }
        })
    }
}
