#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the process module. Messages name the command (its first word) but
/// never contain an environment value or the other arguments.
public struct ProcessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The command was not found (on `PATH`, or at the given path): exit 127.
        case notFound
        /// Found but cannot be executed (permissions, not an executable format): exit 126.
        case notExecutable
        /// `fork` or `execve` failed for another reason (errno): exit 126.
        case spawnFailed(Int32)
        /// An environment variable cannot be passed (bad name, NUL byte): exit 65.
        case invalidEnvironment
        /// The command line is empty: exit 64.
        case emptyCommand
        /// The supervisor is stopping (or stopped) for good and starts nothing more: exit 1.
        case supervisionEnded
        /// A child is already running under this supervisor: exit 1.
        case alreadyRunning
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The exit status the agent should use: 127 not found, 126 not executable, 65, 64, or 1.
    public var exitCode: Int32 {
        switch kind {
        case .notFound: 127
        case .notExecutable, .spawnFailed: 126
        case .invalidEnvironment: 65
        case .emptyCommand: 64
        case .supervisionEnded, .alreadyRunning: 1
        }
    }

    public var description: String { message }

    /// The error for a failed `execve`/`fork` of `command` with `errno`.
    static func spawn(_ command: String, errno code: Int32) -> ProcessError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOENT, ENOTDIR:
            return ProcessError(.notFound, "\(command): command not found (\(reason))")
        case EACCES, EPERM, ENOEXEC, EISDIR, ELOOP, ETXTBSY:
            return ProcessError(.notExecutable, "\(command): cannot execute (\(reason))")
        default:
            return ProcessError(.spawnFailed(code), "\(command): cannot start (\(reason))")
        }
    }
}
