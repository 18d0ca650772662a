import CSecretAgent
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's one signal thread: it reads every handled signal (from a signalfd, and from the
/// self-pipe its `SA_SIGINFO` handlers write to when a thread left them unblocked), does every
/// `fork`, and reaps every child (`waitpid(-1, WNOHANG)` on each `SIGCHLD`, so the agent works
/// as PID 1 and records the status of the children it spawned).
///
/// Call ``installAtStartup()`` as the very first statement of `main.swift`, before any thread
/// exists, so every later thread inherits the blocked mask. Until a handler is attached (a
/// ``Supervisor`` attaches itself when it starts a child), SIGINT/SIGTERM/SIGHUP/SIGQUIT run the
/// ``onInterrupt(_:)`` cleanup and exit with 128+N; every other handled signal is ignored.
///
/// Never use Foundation's `Process` or swift-subprocess in the agent: this thread reaps every
/// child, theirs too. Run helper commands with ``ChildProcess``.
public final class SignalHub: Sendable {
    struct Child {
        var status: TerminationStatus?
        var waiters: [CheckedContinuation<TerminationStatus, Never>] = []
        var onExit: (@Sendable (pid_t, TerminationStatus) -> Void)?
    }

    struct State {
        var children: [pid_t: Child] = [:]
        var commands: [@Sendable () -> Void] = []
        var handler: (@Sendable (SignalInfo) -> Void)?
        var handlerOwner: ObjectIdentifier?
        var interruptCleanup: (@Sendable (Int32) -> Void)?
    }

    let signalFD: Int32
    /// The self-pipe: signal handlers' records, and wake-ups (signal 0) for queued commands.
    let pipeRead: Int32
    let pipeWrite: Int32
    let state = Mutex(State())

    /// The process's hub; its thread starts on first use.
    public static let shared: SignalHub = {
        let hub = SignalHub()
        hub.startThread()
        return hub
    }()

    /// Blocks the handled signals (``Signals/handled``) in the calling thread and starts the hub.
    /// The FIRST call of `main.swift`: threads created later inherit the mask. Idempotent.
    public static func installAtStartup() {
        _ = csa_block_signals_for_agent()
        _ = shared
    }

    private init() {
        signalFD = csa_signalfd_for_agent()
        var fds: [Int32] = [-1, -1]
        let piped = csa_signal_pipe(&fds)
        (pipeRead, pipeWrite) = (fds[0], fds[1])
        precondition(signalFD >= 0 && piped == 0, "signalfd/pipe failed: errno \(errno)")
        // A thread may leave the signals unblocked (an async main parks the main thread in
        // sigsuspend with an empty mask): handlers catch what the signalfd then cannot see.
        // SIGCHLD gets a handler too, never SIG_IGN.
        precondition(csa_install_agent_handlers(pipeWrite) == 0, "sigaction failed: errno \(errno)")
    }

    /// Makes orphaned descendants re-parent to the agent (`PR_SET_CHILD_SUBREAPER`), so it reaps
    /// them like PID 1 would. Returns false if the kernel refused.
    @discardableResult
    public static func becomeChildSubreaper() -> Bool {
        csa_set_child_subreaper() == 0
    }

    /// The closure run on the hub thread before the agent exits 128+N for SIGINT/SIGTERM/SIGHUP/
    /// SIGQUIT while no signal handler is attached (e.g. remove half-written files). Keep it short.
    public func onInterrupt(_ cleanup: (@Sendable (Int32) -> Void)?) {
        state.withLock { $0.interruptCleanup = cleanup }
    }

    /// Replaces the default handling of every handled signal except SIGCHLD (nil: back to the
    /// default). The handler runs on the hub thread: it must be quick and must not block.
    /// One slot: a ``Supervisor`` takes it from its first start until supervision ends.
    public func setSignalHandler(_ handler: (@Sendable (SignalInfo) -> Void)?) {
        state.withLock {
            $0.handler = handler
            $0.handlerOwner = nil
        }
    }

    /// Sets the handler on behalf of `owner`, so ``releaseSignalHandler(owner:)`` only removes its own.
    func setSignalHandler(owner: ObjectIdentifier, _ handler: @escaping @Sendable (SignalInfo) -> Void) {
        state.withLock {
            $0.handler = handler
            $0.handlerOwner = owner
        }
    }

    /// Back to the default handling if `owner`'s handler is still the one in place.
    func releaseSignalHandler(owner: ObjectIdentifier) {
        state.withLock {
            guard $0.handlerOwner == owner else { return }
            $0.handler = nil
            $0.handlerOwner = nil
        }
    }

    /// The received signals (not SIGCHLD) as a stream, replacing the default handling; for the
    /// long-running agent without a child (SIGHUP reloads, SIGTERM ends it with status 0).
    public func signals() -> AsyncStream<SignalInfo> {
        let (stream, continuation) = AsyncStream.makeStream(of: SignalInfo.self)
        setSignalHandler { continuation.yield($0) }
        return stream
    }

    /// Sends `signal` to `pid` if it is a child this hub spawned and has not been reaped yet (so a
    /// recycled pid is never hit). Returns false otherwise or if `kill` failed.
    public func send(_ signal: Int32, to pid: pid_t) -> Bool {
        state.withLock { state in
            guard let child = state.children[pid], child.status == nil else { return false }
            return kill(pid, signal) == 0
        }
    }

    /// The status of a spawned child once reaped; nil while it runs (or if it is not ours).
    public func exitStatus(of pid: pid_t) -> TerminationStatus? {
        state.withLock { $0.children[pid]?.status }
    }

    /// Waits for a spawned child to be reaped.
    func waitForExit(of pid: pid_t) async -> TerminationStatus {
        await withCheckedContinuation { continuation in
            let known: TerminationStatus? = state.withLock { state in
                guard var child = state.children[pid] else { return .exited(127) }  // not ours: unreachable via ChildProcess
                if let status = child.status { return status }
                child.waiters.append(continuation)
                state.children[pid] = child
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    /// Runs `command` on the hub thread (soon, in order).
    func perform(_ command: @escaping @Sendable () -> Void) {
        state.withLock { $0.commands.append(command) }
        _ = csa_signal_pipe_wake(pipeWrite)
    }
}
