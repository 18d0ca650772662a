/// The one error type of the core module: configuration, local files, the environment, writing.
public struct AgentError: AgentFailure, Equatable {
    /// What went wrong: one kind per exit status. Compare with `==`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Code: String, Hashable, Sendable {
            case usage, dataError, unavailable, cannotCreate, noPermission, config
        }

        private let code: Code

        private init(_ code: Code) {
            self.code = code
        }

        /// Bad command line: exit 64.
        public static let usage = Kind(Code.usage)
        /// Bad data or reference: exit 65.
        public static let dataError = Kind(Code.dataError)
        /// Something the agent needs is not there (yet): exit 69.
        public static let unavailable = Kind(Code.unavailable)
        /// A destination that cannot or may not be written: exit 73.
        public static let cannotCreate = Kind(Code.cannotCreate)
        /// Permission denied: exit 77.
        public static let noPermission = Kind(Code.noPermission)
        /// Configuration error: exit 78.
        public static let config = Kind(Code.config)

        /// The kind whose exit status is `exitCode`; nil for a status no kind has.
        public init?(_ exitCode: ExitCode) {
            let all: [Kind] = [.usage, .dataError, .unavailable, .cannotCreate, .noPermission, .config]
            guard let kind = all.first(where: { $0.exitCode == exitCode }) else { return nil }
            self = kind
        }

        /// The exit status this kind maps to.
        public var exitCode: ExitCode {
            switch code {
            case .usage: .usage
            case .dataError: .dataError
            case .unavailable: .unavailable
            case .cannotCreate: .cannotCreate
            case .noPermission: .noPermission
            case .config: .config
            }
        }

        public var description: String { code.rawValue }
    }

    public let kind: Kind
    public let message: String
    public let isTransient: Bool

    public init(_ kind: Kind, _ message: String, transient: Bool = false) {
        self.kind = kind
        self.message = message
        self.isTransient = transient
    }

    public var exitCode: ExitCode { kind.exitCode }
    public var description: String { message }

    public static func config(_ message: String) -> AgentError { AgentError(.config, message) }
    public static func usage(_ message: String) -> AgentError { AgentError(.usage, message) }
    public static func data(_ message: String) -> AgentError { AgentError(.dataError, message) }
    public static func cannotCreate(_ message: String) -> AgentError { AgentError(.cannotCreate, message) }
}
