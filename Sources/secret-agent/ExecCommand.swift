import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Logging
import SecretAgentCore
import SecretAgentProcess
import SecretAgentRuntime

/// `secret-agent exec [options] -- CMD [ARGS…]`: resolve, render, then start CMD with the
/// injected environment and supervise it.
struct ExecCommand: AsyncParsableCommand, AgentCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Resolve secrets, then run a command with them in its environment.",
        discussion: """
            The child inherits the terminal and the agent's environment (unless --pristine), gets
            every signal the agent receives (SIGTERM/SIGINT: its stop signal, SIGKILL after
            stop_timeout), and the agent exits with its status (128+N when signal N killed it).
              secret-agent exec --env DOCKER_PASSWORD='{{ sm:docker/registry/password }}' -- ./deploy.sh
              secret-agent exec --config agent.yaml
              secret-agent exec --once --env-from ssm-path:/app/prod/ -- app
            """)

    @OptionGroup var options: AgentOptions

    @Flag(name: .long, help: "Resolve, then replace the agent with CMD (execve; no supervisor, same PID).")
    var once = false

    @Flag(name: .customLong("no-watch"), help: "Supervise the child but never re-fetch (one-shot jobs).")
    var noWatch = false

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    func run() async throws { await execute() }

    func execute() async {
        let logger = options.logging.bootstrap()
        await reportingFailures(logger) {
            try await Self.runAgent(options: options, command: command, once: once, logger: logger)
        }
    }

    /// Shared by `exec` and `run`: render, write, then start and supervise the child (if any).
    static func runAgent(options: AgentOptions, command: [String], once: Bool, requireCommand: Bool = true,
                         logger: Logger) async throws -> Int32 {
        let environment = Environment.current()
        let cwd = FileBytes.currentDirectory()
        var config = try options.loadConfig(environment: environment, cwd: cwd)
        if !command.isEmpty {
            var exec = config.exec ?? ExecSpec()
            exec.command = command
            config.exec = exec
        }
        let argv = config.exec?.command ?? []
        if argv.isEmpty && requireCommand {
            throw AgentError.usage("exec needs a command: secret-agent exec [options] -- CMD [ARGS…], or exec.command in the configuration")
        }
        let prepared = try await Pipeline.prepare(config: config, envFrom: options.envFrom,
                                                  inherited: options.pristine ? nil : environment,
                                                  environment: environment, cwd: cwd, logger: logger)
        // Watching for rotations is not part of this build: connections are closed now.
        await prepared.backends.shutdown()
        try Pipeline.write(prepared.rendered.files, config: config, logger: logger)
        let childEnv = Pipeline.childEnvironment(agent: environment, injected: prepared.rendered.environment,
                                                 pristine: options.pristine)
        guard !argv.isEmpty, let exec = config.exec else {
            return try await waitForTermination(logger: logger)
        }
        if once {
            logger.debug("replacing the agent with the command", metadata: ["command": "\(argv[0])"])
            try ChildProcess.execInPlace(command: argv, environment: childEnv)
        }
        SignalHub.becomeChildSubreaper()
        let supervisor = Supervisor(stopSignal: exec.stopSignal, stopTimeout: exec.stopTimeout, hupReloads: false, logger: logger)
        try await supervisor.start(command: argv, environment: childEnv)
        let status = await supervisor.wait()
        return status.exitCode
    }

    /// With no child: wait for SIGTERM/SIGINT, then exit 0.
    static func waitForTermination(logger: Logger) async throws -> Int32 {
        logger.info("rendered; waiting for SIGTERM or SIGINT")
        for await info in SignalHub.shared.signals() where info.signal == SIGTERM || info.signal == SIGINT {
            logger.info("stopping", metadata: ["signal": "\(SignalName.name(info.signal))"])
            return 0
        }
        return 0
    }
}
