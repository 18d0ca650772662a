import SecretTemplate

/// A fetch that got part of what it asked for: the outcomes that arrived (each final: a value or
/// "not found") and why the rest did not. The start-up fetch keeps what arrived and asks again
/// only for the rest, so one throttled batch does not make an agent fetch everything again.
///
/// It is never a partial result for a caller that renders: it is thrown, with the reason's exit
/// status and transience, and `description` is the reason's.
public struct PartialFetchFailure: AgentFailure {
    /// What arrived before or while the rest failed.
    public let fetched: [Locator: FetchOutcome]
    /// Why the rest did not arrive (the first failure).
    public let reason: any AgentFailure

    public init(fetched: [Locator: FetchOutcome], reason: any AgentFailure) {
        self.fetched = fetched
        self.reason = reason
    }

    public var exitCode: ExitCode { reason.exitCode }
    public var isTransient: Bool { reason.isTransient }
    public var description: String { reason.description }

    /// `error` with `fetched` attached: a `PartialFetchFailure` when something arrived and the
    /// error is an `AgentFailure` (a partial failure's own outcomes are merged in); else `error`.
    public static func wrapping(_ error: any Error, fetched: [Locator: FetchOutcome]) -> any Error {
        if let partial = error as? PartialFetchFailure {
            return PartialFetchFailure(fetched: fetched.merging(partial.fetched) { a, _ in a }, reason: partial.reason)
        }
        guard !fetched.isEmpty, let failure = error as? any AgentFailure else { return error }
        return PartialFetchFailure(fetched: fetched, reason: failure)
    }
}

/// Runs a backend's batches concurrently, each covering some locators; the one way SSM and
/// Secrets Manager fetch. A locator of a batch that succeeded without naming it is "not found";
/// when batches fail, the others' outcomes travel in a `PartialFetchFailure`.
public enum BatchFetch {
    public struct Batch: Sendable {
        public var covers: [Locator]
        public var fetch: @Sendable () async throws -> [(Locator, FetchOutcome)]

        public init(covers: [Locator], fetch: @escaping @Sendable () async throws -> [(Locator, FetchOutcome)]) {
            self.covers = covers
            self.fetch = fetch
        }
    }

    public static func run(_ batches: [Batch]) async throws -> [Locator: FetchOutcome] {
        let results = await withTaskGroup(of: (Int, Result<[(Locator, FetchOutcome)], any Error>).self) { group in
            for (i, batch) in batches.enumerated() {
                group.addTask {
                    do { return (i, .success(try await batch.fetch())) } catch { return (i, .failure(error)) }
                }
            }
            var all: [(Int, Result<[(Locator, FetchOutcome)], any Error>)] = []
            for await result in group { all.append(result) }
            return all.sorted { $0.0 < $1.0 }
        }
        var out: [Locator: FetchOutcome] = [:]
        var firstError: (any Error)?
        for (i, result) in results {
            switch result {
            case .success(let pairs):
                for (locator, outcome) in pairs { out[locator] = outcome }
                for locator in batches[i].covers where out[locator] == nil { out[locator] = .notFound }
            case .failure(let error):
                if let partial = error as? PartialFetchFailure { out.merge(partial.fetched) { a, _ in a } }
                // A failure retrying cannot fix (permission denied) is the one to report.
                let lasting = (error as? any AgentFailure).map { !$0.isTransient } ?? true
                if firstError == nil || (lasting && (firstError as? any AgentFailure)?.isTransient == true) { firstError = error }
            }
        }
        if let firstError { throw PartialFetchFailure.wrapping(firstError, fetched: out) }
        return out
    }
}
