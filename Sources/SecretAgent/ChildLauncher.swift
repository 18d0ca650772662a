#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgentCore
import SecretAgentProcess
import SecretAgentRuntime

/// A supervised child as the agent sees it: reload and restart (``ChildControl``), the
/// configuration reloads it asks for, a graceful stop, and its end.
public protocol ChildHandle: ChildControl {
    /// SIGHUP received while the agent runs with `--config`: reload the configuration.
    var reloadRequests: AsyncStream<Void> { get }
    /// Stops the child gracefully (its `stop_signal`, SIGKILL after `stop_timeout`).
    func stop() async
    /// Waits until supervision ends; the agent's exit status (the child's, 128+N for signal N).
    func wait() async -> Int32
}

/// Starts the child. The real one forks under a ``Supervisor``; tests record instead.
public protocol ChildLauncher: Sendable {
    /// Starts `command` with exactly `environment`, supervised with `exec`'s signals and timeout.
    /// With `hupReloads`, SIGHUP becomes a reload request instead of being forwarded.
    func start(command: [String], environment: [String: String], exec: ExecSpec, hupReloads: Bool,
               logger: Logger) async throws -> any ChildHandle
    /// `exec --once`: replaces the agent with `command` (same PID).
    func execInPlace(command: [String], environment: [String: String]) throws -> Never
}

/// The production launcher: the process layer's ``Supervisor``, with the agent as subreaper.
public struct SupervisorLauncher: ChildLauncher {
    public init() {}

    public func start(command: [String], environment: [String: String], exec: ExecSpec, hupReloads: Bool,
                      logger: Logger) async throws -> any ChildHandle {
        SignalHub.becomeChildSubreaper()
        let supervisor = Supervisor(stopSignal: exec.stopSignal, stopTimeout: exec.stopTimeout, hupReloads: hupReloads, logger: logger)
        try await supervisor.start(command: command, environment: environment)
        return SupervisedHandle(supervisor: supervisor)
    }

    public func execInPlace(command: [String], environment: [String: String]) throws -> Never {
        try ChildProcess.execInPlace(command: command, environment: environment)
    }
}

struct SupervisedHandle: ChildHandle {
    let supervisor: Supervisor
    let child: SupervisedChild

    init(supervisor: Supervisor) {
        self.supervisor = supervisor
        child = SupervisedChild(supervisor)
    }

    var reloadRequests: AsyncStream<Void> {
        let events = supervisor.events
        return AsyncStream { continuation in
            let task = Task {
                for await event in events where event == .reloadRequested { continuation.yield() }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func reload(signal: Int32) async { await child.reload(signal: signal) }

    func restart(environment: [String: String], command: [String]?) async throws {
        try await child.restart(environment: environment, command: command)
    }

    func stop() async { _ = await supervisor.stop() }

    func wait() async -> Int32 { await supervisor.wait().exitCode }
}
