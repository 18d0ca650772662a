import SecretAgentCore
import SecretTemplate

/// A fresh read with the current token, logging in again once when a 403 turns out to be an
/// expired token. Shared by the provider and the lease manager.
struct Fetcher: Sendable {
    let reader: SecretReader
    let tokens: TokenManager

    func read(_ locator: Locator) async throws(VaultError) -> (FetchOutcome, generation: Int) {
        var handle = try await tokens.token()
        var retried = false
        while true {
            switch try await reader.read(locator, token: handle.token) {
            case .found(let secret): return (.found(secret), handle.generation)
            case .notFound: return (.notFound, handle.generation)
            case .denied(let path):
                if !retried, await tokens.rejected(generation: handle.generation) {
                    retried = true
                    handle = try await tokens.token()
                    continue
                }
                let who = await tokens.describe
                let capability = locator.isWrite ? "update" : "read"
                throw VaultError(.permissionDenied, "permission denied for \(locator.text) (\(path)) with the token from \(who); add \"\(capability)\" on \(path) to one of its policies")
            }
        }
    }
}

extension Locator {
    var isWrite: Bool {
        if case .vault(_, _, let parameters) = self { return !parameters.isEmpty }
        return false
    }
}
