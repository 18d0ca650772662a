#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SecretAgent
import SecretAgentCore
import SecretAgentRuntime
import Synchronization

/// A clock that moves only when the test says: the agent's poll loops sleep on it, so a test
/// makes a poll happen by advancing it, without waiting.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    /// How many tasks sleep on the clock now.
    var sleeping: Int { state.withLock { $0.sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            try Task.checkCancellation()
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let i = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

/// The child as the agent sees it, recorded: reloads, restarts (with their environments),
/// configuration reloads it asks for, and its end.
actor RecordedChild: ChildHandle {
    enum Event: Equatable {
        case started([String: String])
        case reload(Int32)
        case restart([String: String])
        case stopped
    }

    private(set) var events: [Event] = []
    private var status: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []
    nonisolated let reloadRequests: AsyncStream<Void>
    private let reloadContinuation: AsyncStream<Void>.Continuation

    init(environment: [String: String]) {
        (reloadRequests, reloadContinuation) = AsyncStream.makeStream(of: Void.self)
        events = [.started(environment)]
    }

    var reloads: Int { events.filter { if case .reload = $0 { true } else { false } }.count }
    var restarts: [[String: String]] { events.compactMap { if case .restart(let env) = $0 { env } else { nil } } }

    func reload(signal: Int32) async { events.append(.reload(signal)) }

    func restart(environment: [String: String], command: [String]?) async throws { events.append(.restart(environment)) }

    /// SIGHUP as the supervisor reports it (the agent runs with --config).
    func requestReload() { reloadContinuation.yield() }

    func stop() async {
        events.append(.stopped)
        exit(143)
    }

    /// The child ends with `code`.
    func exit(_ code: Int32) {
        guard status == nil else { return }
        status = code
        for w in waiters { w.resume(returning: code) }
        waiters = []
        reloadContinuation.finish()
    }

    func wait() async -> Int32 {
        if let status { return status }
        return await withCheckedContinuation { waiters.append($0) }
    }
}

/// Hands out ``RecordedChild``ren.
final class RecordingLauncher: ChildLauncher, Sendable {
    private let children = Mutex<[RecordedChild]>([])

    var last: RecordedChild? { children.withLock { $0.last } }

    func start(command: [String], environment: [String: String], exec: ExecSpec, hupReloads: Bool,
               logger: Logger) async throws -> any ChildHandle {
        let child = RecordedChild(environment: environment)
        children.withLock { $0.append(child) }
        return child
    }

    func execInPlace(command: [String], environment: [String: String]) throws -> Never {
        fatalError("exec --once is not used in these tests")
    }
}

/// A value the test changes while the agent reads it (the configuration text).
final class Box<T: Sendable>: Sendable {
    private let value: Mutex<T>
    init(_ value: T) { self.value = Mutex(value) }
    func get() -> T { value.withLock { $0 } }
    func set(_ new: T) { value.withLock { $0 = new } }
}

/// Log lines, captured.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func logger() -> Logger {
        Logger(label: "test") { label in
            AgentLogHandler(label: label, level: .trace, format: .text, sink: LogSink { line in self.lines.withLock { $0.append(line) } })
        }
    }
}

/// A private directory on tmpfs, removed by the test.
struct TempDir {
    let path: String

    init() {
        var template = Array("/dev/shm/secret-agent-lib-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    func read(_ name: String) -> String? {
        FileBytes.read("\(path)/\(name)").map { String(decoding: $0, as: UTF8.self) }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Waits (in 5 ms steps, at most `seconds`) until `condition` holds.
func until(_ seconds: Double = 5, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}
