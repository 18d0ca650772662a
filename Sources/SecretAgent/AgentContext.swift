import Logging
import SecretAgentCore

/// What every operation of the agent runs in: the process's environment and working
/// directory, the logger, and how backends are built.
public struct AgentContext: Sendable {
    /// The agent's own environment (`env:` references, credentials, inherited variables).
    public var environment: [String: String]
    /// Where relative command-line paths resolve.
    public var cwd: String
    public var logger: Logger
    public var factory: any BackendFactory

    public init(environment: [String: String], cwd: String, logger: Logger, factory: any BackendFactory = CloudBackendFactory()) {
        self.environment = environment
        self.cwd = cwd
        self.logger = logger
        self.factory = factory
    }

    /// The running process's environment and working directory, with the production backends.
    public static func process(logger: Logger) -> AgentContext {
        AgentContext(environment: ProcessEnvironment.current(), cwd: FileBytes.currentDirectory(), logger: logger)
    }
}
