#if canImport(Glibc)
import Glibc
#endif
import SecretAgentCore

/// The one error type of the process module. Messages name the command (its first word) but
/// never contain an environment value or the other arguments.
public struct ProcessError: AgentFailure, Equatable {
    /// What went wrong: compare with `==`. A struct, so that new kinds break no caller.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: Hashable, Sendable {
            case notFound, notExecutable, spawnFailed(Int32), invalidEnvironment, emptyCommand
            case supervisionEnded, alreadyRunning
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// The command was not found (on `PATH`, or at the given path): exit 127.
        public static let notFound = Kind(.notFound)
        /// Found but cannot be executed (permissions, not an executable format): exit 126.
        public static let notExecutable = Kind(.notExecutable)
        /// `fork` or `execve` failed for another reason (`errno`): exit 126.
        public static func spawnFailed(_ errno: Int32) -> Kind { Kind(.spawnFailed(errno)) }
        /// An environment variable cannot be passed (bad name, NUL byte): exit 65.
        public static let invalidEnvironment = Kind(.invalidEnvironment)
        /// The command line is empty: exit 64.
        public static let emptyCommand = Kind(.emptyCommand)
        /// The supervisor is stopping (or stopped) for good and starts nothing more: exit 1.
        public static let supervisionEnded = Kind(.supervisionEnded)
        /// A child is already running under this supervisor: exit 1.
        public static let alreadyRunning = Kind(.alreadyRunning)

        /// The exit status this kind maps to: 127, 126, 65, 64 or 1.
        public var exitCode: ExitCode {
            switch code {
            case .notFound: .notFound
            case .notExecutable, .spawnFailed: .notExecutable
            case .invalidEnvironment: .dataError
            case .emptyCommand: .usage
            case .supervisionEnded, .alreadyRunning: .failure
            }
        }

        public var description: String { "\(code)" }
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The exit status the agent should use: 127 not found, 126 not executable, 65, 64, or 1.
    public var exitCode: ExitCode { kind.exitCode }
    public var isTransient: Bool { false }
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
