import CSecretAgent

/// How a child process ended.
public enum TerminationStatus: Sendable, Hashable, CustomStringConvertible {
    /// It called `exit(code)`.
    case exited(Int32)
    /// A signal killed it.
    case signaled(Int32)

    /// The status as a shell (and the agent) reports it: the exit code, or 128+N when signal N killed it.
    public var exitCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    /// Decodes a raw `waitpid` status (exited or signaled; anything else reads as exit 1).
    public init(waitStatus: Int32) {
        let code = csa_wait_exit_code(waitStatus)
        let signal = csa_wait_term_signal(waitStatus)
        if code >= 0 {
            self = .exited(code)
        } else if signal >= 0 {
            self = .signaled(signal)
        } else {
            self = .exited(1)
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "killed by \(Signals.name(of: signal)) (status \(128 + signal))"
        }
    }
}
