import SecretAgentCore

/// The one error type of the local API module: a configuration it cannot serve with (no token,
/// a bad address) or a listener that cannot bind.
///
/// Messages name variables, files and addresses, never the token.
public struct ServeError: AgentFailure, Equatable {
    /// What went wrong: compare with `==`. A struct, so that new kinds break no caller.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case config, unavailable
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// A `serve:` setting the API cannot start with (no token): exit 78.
        public static let config = Kind(.config)
        /// The listener cannot be bound: exit 69, not retried.
        public static let unavailable = Kind(.unavailable)

        /// The exit status this kind maps to.
        public var exitCode: ExitCode {
            switch code {
            case .config: .config
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

    static func config(_ message: String) -> ServeError { ServeError(.config, message) }
    static func unavailable(_ message: String) -> ServeError { ServeError(.unavailable, message) }
}
