import SecretAgentCore

/// The one error type of the operations module: a bad `--listen` address, a listener that
/// cannot bind, a notification socket that cannot be written.
///
/// Messages name addresses and sockets, never a value.
public struct OpsError: AgentFailure, Equatable {
    /// What went wrong: compare with `==`. A struct, so that new kinds break no caller.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case usage, unavailable
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// A bad `--listen` address: exit 64.
        public static let usage = Kind(.usage)
        /// A listener or socket that cannot be used: exit 69, not retried.
        public static let unavailable = Kind(.unavailable)

        /// The exit status this kind maps to.
        public var exitCode: ExitCode {
            switch code {
            case .usage: .usage
            case .unavailable: .unavailable
            }
        }

        public var description: String { code.rawValue }
    }

    public let kind: Kind
    public let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var exitCode: ExitCode { kind.exitCode }
    public var isTransient: Bool { false }

    static func usage(_ message: String) -> OpsError { OpsError(.usage, message) }
    static func unavailable(_ message: String) -> OpsError { OpsError(.unavailable, message) }
}
