import ArgumentParser
import SecretAgent
import SecretAgentCore

/// `secret-agent run --config FILE`: the long-running agent (sidecar, systemd service).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent from a configuration file until SIGTERM/SIGINT.",
        discussion: """
            Renders every template, starts the exec: block's command if there is one, and
            supervises it; when the child exits on its own, the agent exits with its status.
              secret-agent run --config /etc/secret-agent/agent.yaml
            """)

    @OptionGroup var options: AgentOptions

    @OptionGroup var serve: ServeOption

    func validate() throws {
        if options.config == nil { throw ValidationError("run needs --config FILE") }
    }

    func run() async throws {
        let context = AgentContext.process(logger: options.logging.bootstrap())
        try await exiting {
            var agentOptions = options.agentOptions()
            serve.apply(to: &agentOptions)
            return try await Agent.runInServiceGroup(options: agentOptions, context: context) { [options] in
                try options.loadConfig(in: context)
            }
        }
    }
}
