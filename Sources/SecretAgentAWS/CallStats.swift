import Foundation
import Metrics

/// Counts AWS API calls per service and operation (every HTTP attempt), and the most calls one
/// service had in flight at once — so tests and metrics can prove batching and concurrency.
final class CallStats: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var inFlight: [String: Int] = [:]
    private var peak: [String: Int] = [:]

    func begin(service: String, operation: String) {
        lock.lock(); defer { lock.unlock() }
        counts["\(service)/\(operation)", default: 0] += 1
        inFlight[service, default: 0] += 1
        peak[service] = max(peak[service] ?? 0, inFlight[service]!)
        Counter(label: "secret_agent_api_calls_total", dimensions: [("backend", "aws-\(service)"), ("operation", operation)]).increment()
    }

    func end(service: String) {
        lock.lock(); defer { lock.unlock() }
        inFlight[service, default: 1] -= 1
    }

    /// Calls made to `service` (`ssm`, `secretsmanager`, `sts`); all operations when `operation` is nil.
    func count(service: String, operation: String? = nil) -> Int {
        lock.lock(); defer { lock.unlock() }
        if let operation { return counts["\(service)/\(operation)"] ?? 0 }
        return counts.filter { $0.key.hasPrefix(service + "/") }.values.reduce(0, +)
    }

    /// The most calls to `service` that were in flight at the same time.
    func peakConcurrency(service: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        return peak[service] ?? 0
    }

    func reset() {
        lock.lock(); defer { lock.unlock() }
        counts = [:]
        peak = [:]
    }
}
