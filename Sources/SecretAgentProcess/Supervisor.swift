import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Starts one child at a time and supervises it: forwards signals (``SignalPolicy``), stops it
/// gracefully on SIGTERM/SIGINT from `kill` (its stop signal, SIGKILL after the timeout),
/// restarts it on request, and reports its status.
///
/// Its first ``start(command:environment:)`` attaches it to ``SignalHub/shared`` (the agent then
/// no longer exits by itself on SIGINT/SIGTERM) until supervision ends. Typical use:
/// ```swift
/// let supervisor = Supervisor(stopSignal: SIGTERM, stopTimeout: .seconds(30), hupReloads: hasConfig)
/// _ = try await supervisor.start(command: command, environment: env)
/// Task { for await event in supervisor.events { /* .reloadRequested, .terminateRequested… */ } }
/// exit(await supervisor.wait().exitCode)
/// ```
public final class Supervisor: Sendable {
    private struct State {
        var machine: SupervisorMachine
        var command: [String] = []
        var waiters: [CheckedContinuation<TerminationStatus, Never>] = []
        var attached = false
    }

    /// What happened, for the lead's code; finishes when supervision ends. One consumer.
    public let events: AsyncStream<SupervisorEvent>
    private let continuation: AsyncStream<SupervisorEvent>.Continuation
    private let state: Mutex<State>
    private let pdeathsig: Int32
    private let logger: Logger

    /// - Parameters:
    ///   - stopSignal: what a graceful stop sends the child first (`stop_signal`).
    ///   - stopTimeout: how long a graceful stop waits before SIGKILL (`stop_timeout`).
    ///   - hupReloads: SIGHUP becomes ``SupervisorEvent/reloadRequested`` instead of being forwarded.
    ///   - pdeathsig: what the child gets if the agent dies.
    public init(
        stopSignal: Int32 = SIGTERM, stopTimeout: Duration = .seconds(30), hupReloads: Bool = false,
        pdeathsig: Int32 = SIGTERM, logger: Logger = Logger(label: "secret-agent.process")
    ) {
        let machine = SupervisorMachine(
            policy: SignalPolicy(hupReloads: hupReloads), stopSignal: stopSignal, stopTimeout: stopTimeout)
        state = Mutex(State(machine: machine))
        (events, continuation) = AsyncStream.makeStream(of: SupervisorEvent.self)
        self.pdeathsig = pdeathsig
        self.logger = logger
    }

    /// The running child's pid, nil when there is none.
    public var pid: pid_t? { state.withLock { $0.machine.pid } }

    /// Starts `command` with exactly `environment` (PATH lookup as ``ChildProcess``).
    /// - Throws: ``ProcessError``: 127 not found, 126 not executable, or a child already runs /
    ///   supervision has ended.
    @discardableResult
    public func start(command: [String], environment: [String: String]) async throws(ProcessError) -> pid_t {
        try state.withLock { (state: inout State) throws(ProcessError) in
            try state.machine.startRequested()
            state.command = command
            if !state.attached {
                state.attached = true
                SignalHub.shared.setSignalHandler(owner: ObjectIdentifier(self)) { [weak self] info in self?.handle(info) }
            }
        }
        do {
            let child = try await ChildProcess.spawn(
                command: command, environment: environment, pdeathsig: pdeathsig,
                onSpawned: { [weak self] pid in self?.apply { $0.started(pid: pid) } },
                onExit: { [weak self] pid, status in self?.apply { $0.exited(pid: pid, status: status) } })
            logger.info("started child", metadata: ["command": "\(command[0])", "pid": "\(child.pid)"])
            return child.pid
        } catch {
            apply { $0.startFailed() }
            throw error
        }
    }

    /// Sends `signal` to the running child (a reload, say). False if none runs.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        guard let pid else { return false }
        return SignalHub.shared.send(signal, to: pid)
    }

    /// Stops the child gracefully (`signal`, then SIGKILL after `timeout`; defaults: the stop
    /// signal and timeout), ends supervision and returns the child's status.
    public func stop(signal: Int32? = nil, timeout: Duration? = nil) async -> TerminationStatus {
        apply { machine in
            machine.stopRequested(
                signal: signal ?? machine.stopSignal, timeout: timeout ?? machine.stopTimeout, ending: true)
        }
        return await wait()
    }

    /// Graceful stop of the running child, then a new one with `environment` (and `command`,
    /// default: the previous one). Returns the new pid.
    /// - Throws: ``ProcessError`` if supervision is ending (a SIGTERM came meanwhile) or the start fails.
    @discardableResult
    public func restart(environment: [String: String], command: [String]? = nil) async throws(ProcessError) -> pid_t {
        let (oldPID, previous) = state.withLock { ($0.machine.pid, $0.command) }
        if let oldPID {
            apply { $0.stopRequested(signal: $0.stopSignal, timeout: $0.stopTimeout, ending: false) }
            _ = await ChildProcess(pid: oldPID).wait()
        }
        return try await start(command: command ?? previous, environment: environment)
    }

    /// Waits until supervision ends (the child exited on its own, or was stopped for good) and
    /// returns the child's status; ``TerminationStatus/exitCode`` is the agent's exit code.
    public func wait() async -> TerminationStatus {
        await withCheckedContinuation { continuation in
            let done: TerminationStatus? = state.withLock { state in
                if case .finished(let status) = state.machine.phase { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// A signal the agent received (called on the hub thread; tests call it directly).
    func handle(_ info: SignalInfo) {
        apply { $0.received(info) }
    }

    /// Runs one transition and its effects under the lock, so effects keep their order.
    private func apply(_ transition: (inout SupervisorMachine) -> [SupervisorMachine.Effect]) {
        state.withLock { state in
            for effect in transition(&state.machine) { carryOut(effect, &state) }
        }
    }

    private func carryOut(_ effect: SupervisorMachine.Effect, _ state: inout State) {
        switch effect {
        case .send(let signal, let pid):
            let sent = SignalHub.shared.send(signal, to: pid)
            let metadata: Logger.Metadata = ["signal": "\(Signals.name(of: signal))", "pid": "\(pid)"]
            if signal == SIGKILL {
                logger.warning("child did not stop in time; sending SIGKILL", metadata: metadata)
            } else {
                logger.debug(sent ? "signal sent to child" : "child already gone", metadata: metadata)
            }
        case .scheduleKill(let pid, let delay):
            Task { [weak self] in
                try? await Task.sleep(for: delay)
                self?.apply { $0.killDeadline(pid: pid) }
            }
        case .emit(let event):
            continuation.yield(event)
        case .finish(let status):
            logger.info("child finished", metadata: ["status": "\(status)"])
            for waiter in state.waiters { waiter.resume(returning: status) }
            state.waiters.removeAll()
            continuation.finish()
            // Back to the default: SIGINT/SIGTERM end the agent with 128+N from now on.
            SignalHub.shared.releaseSignalHandler(owner: ObjectIdentifier(self))
        }
    }
}
