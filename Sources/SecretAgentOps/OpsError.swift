import SecretAgentCore

/// The one error type of the operations module: a bad `--listen` address, a listener that
/// cannot bind, a notification socket that cannot be written.
///
/// Messages name addresses and sockets, never a value.
public struct OpsError: AgentFailure, Equatable {
    public let exitCode: ExitCode
    public let message: String

    init(_ exitCode: ExitCode, _ message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    public var description: String { message }
    public var isTransient: Bool { false }

    static func usage(_ message: String) -> OpsError { OpsError(.usage, message) }
    static func unavailable(_ message: String) -> OpsError { OpsError(.unavailable, message) }
}
