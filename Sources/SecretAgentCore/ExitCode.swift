/// The exit statuses of secret-agent (sysexits), in one place.
public enum ExitCode: Int32, Sendable {
    case success = 0
    /// Bad command line.
    case usage = 64
    /// Template or data error: unknown scheme, missing key, bad JSON, a NUL byte for the environment.
    case dataError = 65
    /// A backend could not be reached (after retries until the start deadline).
    case unavailable = 69
    /// A destination that cannot or may not be written (not tmpfs, permissions).
    case cannotCreate = 73
    /// Authentication failed or permission was denied.
    case noPermission = 77
    /// Configuration error.
    case config = 78
}

/// An error that knows which exit status it means and whether retrying may help.
///
/// Each module has one error type conforming to this; the command line turns any of them into
/// a message on stderr and the exit status. Descriptions never contain a secret value.
public protocol AgentFailure: Error, CustomStringConvertible, Sendable {
    var exitCode: ExitCode { get }
    /// True for failures worth retrying at start-up (timeouts, 5xx, throttling, connection refused).
    var isTransient: Bool { get }
}

/// The one error type of the core module: configuration, local files, the environment, writing.
public struct AgentError: AgentFailure, Equatable {
    public let exitCode: ExitCode
    public let message: String
    public let isTransient: Bool

    public init(_ exitCode: ExitCode, _ message: String, transient: Bool = false) {
        self.exitCode = exitCode
        self.message = message
        self.isTransient = transient
    }

    public var description: String { message }

    public static func config(_ message: String) -> AgentError { AgentError(.config, message) }
    public static func usage(_ message: String) -> AgentError { AgentError(.usage, message) }
    public static func data(_ message: String) -> AgentError { AgentError(.dataError, message) }
    public static func cannotCreate(_ message: String) -> AgentError { AgentError(.cannotCreate, message) }
}

import SecretTemplate

extension TemplateError: AgentFailure {
    public var exitCode: ExitCode { .dataError }
    public var isTransient: Bool { false }
}
