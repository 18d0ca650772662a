import ArgumentParser
import SecretAgent
import SecretAgentCore

/// `secret-agent exec [options] -- CMD [ARGS…]`: resolve, render, then start CMD with the
/// injected environment and supervise it.
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Resolve secrets, then run a command with them in its environment.",
        discussion: """
            The child inherits the terminal and the agent's environment (unless --pristine), gets
            every signal the agent receives (SIGTERM/SIGINT: its stop signal, SIGKILL after
            stop_timeout), and the agent exits with its status (128+N when signal N killed it).
            The files it rendered are removed when the child exits (--keep-files keeps them).
              secret-agent exec --env DOCKER_PASSWORD='{{ sm:docker/registry/password }}' -- ./deploy.sh
              secret-agent exec --config agent.yaml
              secret-agent exec --once --env-from ssm-path:/app/prod/ -- app
            """)

    @OptionGroup var options: AgentOptions

    @OptionGroup var serve: ServeOption

    @Flag(name: .long, help: "Resolve, then replace the agent with CMD (execve; no supervisor, same PID).")
    var once = false

    @Flag(name: .customLong("no-watch"), help: "Supervise the child but never re-fetch (one-shot jobs).")
    var noWatch = false

    @Flag(name: .customLong("keep-files"), help: "Keep the rendered files when the child exits (default: removed, unless cleanup_on_exit: false).")
    var keepFiles = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command to run, after --.", valueName: "CMD"))
    var command: [String] = []

    func run() async throws {
        let context = AgentContext.process(logger: options.logging.bootstrap())
        try await exiting {
            var agentOptions = options.agentOptions()
            agentOptions.once = once
            agentOptions.watch = !noWatch
            agentOptions.requireCommand = true
            agentOptions.keepFiles = keepFiles
            agentOptions.removeFilesByDefault = true
            serve.apply(to: &agentOptions)
            return try await Agent.runInServiceGroup(options: agentOptions, context: context) { [options, command] in
                try options.loadConfig(in: context, command: command)
            }
        }
    }
}
