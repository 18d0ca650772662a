import Foundation
@testable import SecretAgentVault

/// A clock that moves only when the test says: the token and lease tasks sleep on it, and the
/// test wakes them by advancing it, so nothing waits for real time to pass.
final class ManualClock: VaultClock, @unchecked Sendable {
    typealias Instant = ContinuousClock.Instant
    typealias Duration = Swift.Duration

    private struct Sleeper {
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let lock = NSLock()
    private var current: Instant
    private var sleepers: [Int: Sleeper] = [:]
    private var cancelledEarly: Set<Int> = []
    private var lastID = 0

    /// Starts at the real clock's now (the instants Vault answers are stamped with).
    init(start: Instant = .now) {
        current = start
    }

    var now: Instant { lock.withLock { current } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = lock.withLock {
            lastID += 1
            return lastID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if cancelledEarly.remove(id) != nil {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                } else if deadline <= current {
                    lock.unlock()
                    continuation.resume()
                } else {
                    sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            let sleeper = sleepers.removeValue(forKey: id)
            if sleeper == nil { cancelledEarly.insert(id) }
            lock.unlock()
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock to `instant` (never back) and wakes everyone whose deadline has come.
    func advance(to instant: Instant) {
        lock.lock()
        current = max(current, instant)
        let due = sleepers.filter { $0.value.deadline <= current }
        for id in due.keys { sleepers[id] = nil }
        lock.unlock()
        for sleeper in due.values { sleeper.continuation.resume() }
    }

    func advance(by duration: Duration) {
        advance(to: now + duration)
    }

    /// The deadlines tasks sleep until now.
    var deadlines: [Instant] {
        lock.withLock { sleepers.values.map(\.deadline).sorted() }
    }

    /// Waits (in real time, briefly at a time) until a task sleeps until a deadline that
    /// satisfies `condition`, and returns it; nil after `timeout`.
    func sleeper(timeout: Duration = .seconds(10), where condition: (Instant) -> Bool) async -> Instant? {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if let found = deadlines.first(where: condition) { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }
}

/// Waits (in real time, briefly at a time) until `condition` holds; false after `timeout`.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
