import CSecretAgent
#if canImport(Glibc)
import Glibc
#endif

/// A process the agent started through the ``SignalHub`` (which forks and reaps it).
///
/// The child stays in the agent's process group (interactive programs keep the terminal) and
/// inherits stdin/stdout/stderr; it starts with default signal dispositions and an empty mask,
/// and gets `pdeathsig` if the agent dies. Use it for the supervised child and for helper
/// commands alike — never Foundation's `Process`, whose children the hub would reap.
public struct ChildProcess: Sendable, Hashable {
    /// The child's pid.
    public let pid: pid_t

    init(pid: pid_t) { self.pid = pid }

    /// Starts `command` with exactly `environment`.
    ///
    /// The program is looked up on the child's `PATH` (else the agent's) unless it contains `/`.
    /// - Parameter pdeathsig: sent to the child when the agent dies (0: none).
    /// - Throws: ``ProcessError``: not found (127), not executable (126), bad environment (65).
    public static func spawn(
        command: [String], environment: [String: String], pdeathsig: Int32 = SIGTERM
    ) async throws(ProcessError) -> ChildProcess {
        try await spawn(command: command, environment: environment, pdeathsig: pdeathsig, onSpawned: nil, onExit: nil)
    }

    static func spawn(
        command: [String], environment: [String: String], pdeathsig: Int32, stdio: [Int32] = [-1, -1, -1],
        onSpawned: (@Sendable (pid_t) -> Void)?, onExit: (@Sendable (pid_t, TerminationStatus) -> Void)?
    ) async throws(ProcessError) -> ChildProcess {
        let prepared = try prepareCommand(command, environment)
        let result = await SignalHub.shared.spawn(
            path: prepared.path, arguments: command, environment: prepared.environment,
            pdeathsig: pdeathsig, stdio: stdio, onSpawned: onSpawned, onExit: onExit)
        return ChildProcess(pid: try result.get())
    }

    /// Sends `signal` to the child. False if it has already exited (and been reaped).
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        SignalHub.shared.send(signal, to: pid)
    }

    /// Waits until the child exits and returns how (``TerminationStatus/exitCode`` is 128+N for signal N).
    public func wait() async -> TerminationStatus {
        await SignalHub.shared.waitForExit(of: pid)
    }

    /// The status once the child has exited; nil while it runs.
    public var exitStatus: TerminationStatus? {
        SignalHub.shared.exitStatus(of: pid)
    }

    /// Replaces the agent with `command` (same pid), for `exec --once`: PATH lookup as for
    /// ``spawn(command:environment:pdeathsig:)``, every signal back to its default and unblocked,
    /// then `execve`. Returns only by throwing (127 not found, 126 cannot execute, 65).
    public static func execInPlace(command: [String], environment: [String: String]) throws(ProcessError) -> Never {
        let prepared = try prepareCommand(command, environment)
        fflush(nil)
        let savedErrno: Int32 = withCStringArray(command) { argv in
            withCStringArray(prepared.environment) { envp in
                _ = csa_exec_in_place(prepared.path, argv, envp)
                return errno
            }
        }
        throw ProcessError.spawn(command[0], errno: savedErrno)
    }
}
