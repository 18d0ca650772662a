/// The exit statuses of secret-agent, in one place: sysexits for the agent's own failures, the
/// shell's 126/127 for a command that cannot be started, 1 for a supervisor misuse.
///
/// A struct with static members (not an enum) so that a status can be added without breaking a
/// caller's `switch`; compare with `==` or match with `case .usage:`.
public struct ExitCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    public static let success = ExitCode(rawValue: 0)
    /// A general failure: the supervisor is stopping or already runs a child.
    public static let failure = ExitCode(rawValue: 1)
    /// Bad command line.
    public static let usage = ExitCode(rawValue: 64)
    /// Template or data error: unknown scheme, missing key, bad JSON, a NUL byte for the environment.
    public static let dataError = ExitCode(rawValue: 65)
    /// A backend could not be reached (after retries until the start deadline).
    public static let unavailable = ExitCode(rawValue: 69)
    /// An internal error: a failure no module describes (a bug).
    public static let software = ExitCode(rawValue: 70)
    /// A destination that cannot or may not be written (not tmpfs, permissions).
    public static let cannotCreate = ExitCode(rawValue: 73)
    /// Authentication failed or permission was denied.
    public static let noPermission = ExitCode(rawValue: 77)
    /// Configuration error.
    public static let config = ExitCode(rawValue: 78)
    /// The command was found but cannot be executed (as a shell answers).
    public static let notExecutable = ExitCode(rawValue: 126)
    /// The command was not found (as a shell answers).
    public static let notFound = ExitCode(rawValue: 127)

    /// Every status the agent itself exits with, in order (docs/cli.md is tested against it).
    public static let all: [ExitCode] = [.success, .failure, .usage, .dataError, .unavailable, .software, .cannotCreate,
                                         .noPermission, .config, .notExecutable, .notFound]

    public var description: String { String(rawValue) }
}

/// An error that knows which exit status it means and whether retrying may help.
///
/// Each module has one error type conforming to this, of one shape: a struct with a `kind`
/// (a public struct around a private enum, so that new kinds break no caller; compare with `==`),
/// a `message`, and the exit status the kind maps to. The command line turns any of them into a
/// message on stderr and the exit status. Descriptions never contain a secret value.
public protocol AgentFailure: Error, CustomStringConvertible, Sendable {
    var exitCode: ExitCode { get }
    /// True for failures worth retrying at start-up (timeouts, 5xx, throttling, connection refused).
    var isTransient: Bool { get }
}
