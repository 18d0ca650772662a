import SecretAgentCore
import SecretTemplate

extension SSMProvider {
    /// The poll: GetParameters (10 names a call) and GetParametersByPath *without decryption*
    /// give every parameter's `Version` (and a path's names and versions) without calling KMS;
    /// only what changed is fetched again, decrypted.
    func changes(since known: [Locator: FetchOutcome]) async throws -> [Locator: FetchOutcome] {
        let (batches, paths, pathRegion) = try await grouped(Set(known.keys))
        let changed: [Locator] = try await withThrowingTaskGroup(of: [Locator].self) { group in
            for (region, batch) in batches {
                group.addTask {
                    try await self.getParameters(batch, region: region, decrypt: false)
                        .filter { locator, outcome in Self.versionChanged(known[locator], outcome) }
                        .map(\.0)
                }
            }
            for path in paths {
                group.addTask {
                    let outcome = try await self.getParametersByPath(path, region: pathRegion, decrypt: false)
                    return Self.versionChanged(known[path], outcome) ? [path] : []
                }
            }
            var all: [Locator] = []
            for try await part in group { all += part }
            return all
        }
        guard !changed.isEmpty else { return [:] }
        return try await fetch(changed)
    }

    /// True when presence or version differs (values are not compared: they may be undecrypted).
    static func versionChanged(_ old: FetchOutcome?, _ new: FetchOutcome) -> Bool {
        switch (old, new) {
        case (.notFound?, .notFound): return false
        case (.found(let a)?, .found(let b)): return a.version != b.version
        default: return true
        }
    }
}
