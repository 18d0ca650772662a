#if canImport(Glibc)
import Glibc
#endif

/// The forwarding rule: what a supervisor does with one signal the agent received.
///
/// Pure; the supervisor combines the decision with its state (``SupervisorMachine``).
/// - `SIGCHLD` is never forwarded (it drives reaping).
/// - A signal the kernel generated (`si_code == SI_KERNEL`) is not forwarded: the terminal sends
///   Ctrl-C, Ctrl-\, window resizes and hang-ups to the whole foreground process group, and the
///   child (which stays in the agent's group) already got it; timers and limits concern the agent.
/// - A signal the agent sent itself (sender pid == the agent's, e.g. the kernel's `SIGPIPE` for the
///   agent's own write to a closed pipe) is not forwarded.
/// - `SIGTERM`/`SIGINT` from `kill` mean "terminate": graceful stop of the child.
/// - `SIGHUP` is a reload request when `hupReloads` (the agent runs with `--config`).
/// - Every other signal is forwarded unchanged.
public struct SignalPolicy: Sendable, Hashable {
    /// The decision for one signal.
    public enum Decision: Sendable, Hashable {
        /// Nothing to do.
        case ignore
        /// Send this signal to the child.
        case forward(Int32)
        /// Stop the child gracefully (its stop signal, SIGKILL after the timeout), then finish.
        case terminate(Int32)
        /// Reload the configuration (delivered to the lead's code as an event).
        case reload
    }

    /// SIGHUP reloads instead of being forwarded.
    public var hupReloads: Bool
    /// The agent's own pid, to recognise signals it caused itself.
    public var agentPID: pid_t

    public init(hupReloads: Bool = false, agentPID: pid_t = getpid()) {
        self.hupReloads = hupReloads
        self.agentPID = agentPID
    }

    /// What to do with `info`.
    public func decide(_ info: SignalInfo) -> Decision {
        if info.signal == SIGCHLD { return .ignore }
        if info.code == Signals.codeKernel { return .ignore }
        if info.senderPID != 0 && info.senderPID == agentPID { return .ignore }
        switch info.signal {
        case SIGTERM, SIGINT: return .terminate(info.signal)
        case SIGHUP where hupReloads: return .reload
        default: return .forward(info.signal)
        }
    }
}
