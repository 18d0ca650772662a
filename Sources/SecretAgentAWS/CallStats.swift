import SecretAgentCore
import Synchronization

/// Counts AWS API calls per service and operation (every HTTP attempt), and the most calls one
/// service had in flight at once — so tests and metrics can prove batching and concurrency.
final class CallStats: Sendable {
    private struct State {
        var counts: [String: Int] = [:]
        var inFlight: [String: Int] = [:]
        var peak: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// One HTTP request is being sent (each attempt of a retried call counts, as in
    /// `MetricName.apiCalls`).
    func begin(service: String, operation: String) {
        state.withLock { s in
            s.counts["\(service)/\(operation)", default: 0] += 1
            s.inFlight[service, default: 0] += 1
            s.peak[service] = max(s.peak[service] ?? 0, s.inFlight[service]!)
        }
        APICalls.count(backend: "aws-\(service)", operation: operation)
    }

    func end(service: String) {
        state.withLock { $0.inFlight[service, default: 1] -= 1 }
    }

    /// Calls made to `service` (`ssm`, `secretsmanager`, `sts`); all operations when `operation` is nil.
    func count(service: String, operation: String? = nil) -> Int {
        state.withLock { s in
            if let operation { return s.counts["\(service)/\(operation)"] ?? 0 }
            return s.counts.filter { $0.key.hasPrefix(service + "/") }.values.reduce(0, +)
        }
    }

    /// The most calls to `service` that were in flight at the same time.
    func peakConcurrency(service: String) -> Int {
        state.withLock { $0.peak[service] ?? 0 }
    }

    func reset() {
        state.withLock { s in
            s.counts = [:]
            s.peak = [:]
        }
    }
}
