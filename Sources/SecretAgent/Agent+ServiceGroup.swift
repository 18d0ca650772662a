import Logging
import SecretAgentCore
import ServiceLifecycle

extension Agent {
    /// Runs one agent in a swift-service-lifecycle `ServiceGroup` and returns its exit status:
    /// what `exec` and `run` do.
    ///
    /// The group installs no signal handlers of its own: the process layer's signal thread
    /// already reads every signal (the child's supervisor forwards them; without a child the
    /// agent ends on SIGTERM/SIGINT), and a group shutdown stops the agent gracefully.
    public static func runInServiceGroup(options: Options, context: AgentContext, launcher: any ChildLauncher = SupervisorLauncher(),
                                         loadConfig: @escaping @Sendable () throws -> AgentConfig) async throws -> Int32 {
        let agent = Agent(options: options, context: context, launcher: launcher, loadConfig: loadConfig)
        var quiet = context.logger
        quiet.logLevel = max(quiet.logLevel, .notice)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "secret-agent")], gracefulShutdownSignals: [], cancellationSignals: [],
            logger: quiet))
        try await group.run()
        return await agent.exitStatus ?? 0
    }
}
