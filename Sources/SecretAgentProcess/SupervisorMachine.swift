#if canImport(Glibc)
import Glibc
#endif

/// What a ``Supervisor`` tells the lead's code.
public enum SupervisorEvent: Sendable, Hashable {
    /// A child exited (also the one stopped for a restart).
    case childExited(TerminationStatus)
    /// SIGTERM/SIGINT from `kill`: the child is being stopped and supervision will end.
    case terminateRequested(Int32)
    /// SIGHUP while `hupReloads`: reload the configuration.
    case reloadRequested
}

/// The supervisor's state, as a pure state machine: each input returns the effects to carry out.
public struct SupervisorMachine: Sendable, Hashable {
    /// Where the child is.
    public enum Phase: Sendable, Hashable {
        /// No child: before the first start, or between the stop and the start of a restart.
        case idle(last: TerminationStatus?)
        /// A spawn is under way.
        case starting
        case running(pid_t)
        /// `signal` was sent to stop it; SIGKILL follows at the deadline.
        case stopping(pid_t, signal: Int32)
        /// Supervision is over: the agent exits with this status.
        case finished(TerminationStatus)
    }

    /// Something to do.
    public enum Effect: Sendable, Hashable {
        case send(Int32, to: pid_t)
        /// Call ``killDeadline(pid:)`` after `after`.
        case scheduleKill(pid_t, after: Duration)
        case emit(SupervisorEvent)
        /// Supervision is over: `wait()` returns this status.
        case finish(TerminationStatus)
    }

    public private(set) var phase: Phase = .idle(last: nil)
    /// A stop that ends supervision was asked for (a terminating signal or `stop()`).
    public private(set) var ending = false
    /// The terminating signal, if one ended supervision.
    public private(set) var endingSignal: Int32?
    private var pendingStop: PendingStop?

    private struct PendingStop: Sendable, Hashable {
        var signal: Int32
        var timeout: Duration
    }

    public var policy: SignalPolicy
    public var stopSignal: Int32
    public var stopTimeout: Duration

    public init(policy: SignalPolicy = SignalPolicy(), stopSignal: Int32 = SIGTERM, stopTimeout: Duration = .seconds(30)) {
        self.policy = policy
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
    }

    /// The child's pid while it runs or stops.
    public var pid: pid_t? {
        switch phase {
        case .running(let pid), .stopping(let pid, _): pid
        default: nil
        }
    }

    /// A start was asked for: idle → starting.
    public mutating func startRequested() throws(ProcessError) {
        if ending { throw ProcessError(.supervisionEnded, "the supervisor is stopping; no new child") }
        guard case .idle = phase else {
            if case .finished = phase { throw ProcessError(.supervisionEnded, "supervision has ended") }
            throw ProcessError(.alreadyRunning, "a child is already running")
        }
        phase = .starting
    }

    /// The spawn succeeded (reported on the hub thread before any later signal).
    public mutating func started(pid: pid_t) -> [Effect] {
        guard case .starting = phase else { return [] }
        phase = .running(pid)
        guard let stop = pendingStop else { return [] }
        pendingStop = nil
        return beginStop(pid, signal: stop.signal, timeout: stop.timeout)
    }

    /// The spawn failed: back to idle, or finished if a terminating stop came meanwhile.
    public mutating func startFailed() -> [Effect] {
        guard case .starting = phase else { return [] }
        pendingStop = nil
        phase = .idle(last: nil)
        return ending ? finishWithoutChild() : []
    }

    /// The agent received a signal (decided by ``policy``).
    public mutating func received(_ info: SignalInfo) -> [Effect] {
        if case .finished = phase { return [] }
        switch policy.decide(info) {
        case .ignore:
            return []
        case .reload:
            return [.emit(.reloadRequested)]
        case .forward(let signal):
            return pid.map { [.send(signal, to: $0)] } ?? []
        case .terminate(let signal):
            if ending, case .stopping(let pid, let stopSignal) = phase {
                return [.send(stopSignal, to: pid)]  // asked again: say it again
            }
            ending = true
            endingSignal = endingSignal ?? signal
            return [.emit(.terminateRequested(signal))] + stopForGood(signal: stopSignal, timeout: stopTimeout)
        }
    }

    /// The lead asked for a stop: `ending` ends supervision (`stop()`), otherwise it is the first
    /// half of a restart.
    public mutating func stopRequested(signal: Int32, timeout: Duration, ending: Bool) -> [Effect] {
        if case .finished = phase { return [] }
        if ending { self.ending = true }
        return ending ? stopForGood(signal: signal, timeout: timeout) : stopChild(signal: signal, timeout: timeout)
    }

    /// The stop timeout of `pid` ran out.
    public mutating func killDeadline(pid: pid_t) -> [Effect] {
        guard case .stopping(pid, _) = phase else { return [] }
        return [.send(SIGKILL, to: pid)]
    }

    /// The hub reaped `pid`.
    public mutating func exited(pid: pid_t, status: TerminationStatus) -> [Effect] {
        guard self.pid == pid else { return [] }
        if case .stopping = phase, !ending {
            phase = .idle(last: status)  // restart: the next start follows
            return [.emit(.childExited(status))]
        }
        phase = .finished(status)
        return [.emit(.childExited(status)), .finish(status)]
    }

    private mutating func stopForGood(signal: Int32, timeout: Duration) -> [Effect] {
        if case .idle = phase { return finishWithoutChild() }
        return stopChild(signal: signal, timeout: timeout)
    }

    private mutating func stopChild(signal: Int32, timeout: Duration) -> [Effect] {
        switch phase {
        case .running(let pid): return beginStop(pid, signal: signal, timeout: timeout)
        case .starting: pendingStop = PendingStop(signal: signal, timeout: timeout); return []
        default: return []
        }
    }

    private mutating func beginStop(_ pid: pid_t, signal: Int32, timeout: Duration) -> [Effect] {
        phase = .stopping(pid, signal: signal)
        return [.send(signal, to: pid), .scheduleKill(pid, after: timeout)]
    }

    private mutating func finishWithoutChild() -> [Effect] {
        guard case .idle(let last) = phase else { return [] }
        let status = last ?? endingSignal.map(TerminationStatus.signaled) ?? .exited(0)
        phase = .finished(status)
        return [.finish(status)]
    }
}
