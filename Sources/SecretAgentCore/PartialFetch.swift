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

    /// How one batch ended.
    enum Ended: Sendable {
        case fetched(Int, [(Locator, FetchOutcome)])
        case failed(Int, any Error)
    }

    public static func run(_ batches: [Batch]) async throws -> [Locator: FetchOutcome] {
        // Each batch's end lands in its own slot, read in the batches' order. (A sorted array of
        // `(Int, Result)` tuples here crashed the release build now and then: the index read back
        // was not an index.)
        var fetched = [[(Locator, FetchOutcome)]?](repeating: nil, count: batches.count)
        var failures = [(any Error)?](repeating: nil, count: batches.count)
        await withTaskGroup(of: Ended.self) { group in
            for (i, batch) in batches.enumerated() {
                group.addTask {
                    do { return .fetched(i, try await batch.fetch()) } catch { return .failed(i, error) }
                }
            }
            for await ended in group {
                switch ended {
                case .fetched(let i, let pairs): fetched[i] = pairs
                case .failed(let i, let error): failures[i] = error
                }
            }
        }
        var out: [Locator: FetchOutcome] = [:]
        var firstError: (any Error)?
        for (i, batch) in batches.enumerated() {
            if let pairs = fetched[i] {
                for (locator, outcome) in pairs { out[locator] = outcome }
                for locator in batch.covers where out[locator] == nil { out[locator] = .notFound }
            } else if let error = failures[i] {
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
