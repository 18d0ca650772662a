import ArgumentParser
import Logging
import SecretAgentCore
import SecretAgent
import SecretAgentOps

/// Flags shared by the commands that render: `--config`, `--env`, `--template` and friends.
struct AgentOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The YAML configuration file.", valueName: "FILE"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("A variable for the child: NAME=TEMPLATE (repeatable).", valueName: "NAME=TEMPLATE"))
    var env: [String] = []

    @Option(name: .customLong("env-from"), help: ArgumentHelp("Every entry of a map (ssm-path: or a JSON secret) as a variable (repeatable).", valueName: "REF"))
    var envFrom: [String] = []

    @Option(name: .long, help: ArgumentHelp("A template to render: SRC:DEST[:MODE] (repeatable; relative DEST goes under output_dir).", valueName: "SRC:DEST[:MODE]"))
    var template: [String] = []

    @Option(name: .long, help: ArgumentHelp("How often to check versions (default 5m).", valueName: "DURATION"))
    var poll: String?

    @Option(name: .customLong("start-timeout"), help: ArgumentHelp("How long to retry unavailable backends at start (default 60s).", valueName: "DURATION"))
    var startTimeout: String?

    @Flag(name: .customLong("allow-disk"), help: "Allow destinations that are not on tmpfs/ramfs.")
    var allowDisk = false

    @Flag(name: .long, help: "The child gets only the injected variables plus PATH, HOME, LANG and TZ.")
    var pristine = false

    @Option(name: .long, help: ArgumentHelp("Serve /healthz and /metrics on HOST:PORT.", valueName: "HOST:PORT"))
    var listen: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let poll, DurationParser.parse(poll) == nil { throw ValidationError("--poll takes a duration such as 30s or 5m") }
        if let s = startTimeout, DurationParser.parse(s) == nil { throw ValidationError("--start-timeout takes a duration such as 60s") }
        if let listen {
            do { _ = try ListenAddress.parse(listen) } catch { throw ValidationError(error.description) }
        }
    }

    /// The flags as Core's overrides (`-- CMD` replacing `exec.command` when given).
    func overrides(command: [String] = []) -> ConfigOverrides {
        ConfigOverrides(poll: poll.flatMap(DurationParser.parse), startTimeout: startTimeout.flatMap(DurationParser.parse),
                        allowDisk: allowDisk, templates: template, env: env, command: command)
    }

    /// The configuration file (if any) with the flags applied on top (flags win), validated.
    func loadConfig(in context: AgentContext, command: [String] = []) throws -> AgentConfig {
        let file = try config.map { try AgentConfig.load(file: Paths.resolve($0, against: context.cwd), environment: context.environment) }
            ?? AgentConfig(baseDirectory: context.cwd, environment: context.environment)
        return try overrides(command: command).applied(to: file, cwd: context.cwd)
    }

    /// What `exec` and `run` share of the agent's options.
    func agentOptions() -> Agent.Options {
        var o = Agent.Options()
        o.envFrom = envFrom
        o.pristine = pristine
        o.reloadable = config != nil
        o.listen = listen.flatMap { try? ListenAddress.parse($0) }
        o.releaseCodePages = true
        return o
    }
}

/// `--log-level` and `--log-format`, for every command.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "LEVEL"))
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: ArgumentHelp("text or json.", valueName: "FORMAT"))
    var logFormat: String = "text"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard AgentLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be text or json")
        }
    }

    /// Sets up logging for the process and returns the agent's logger.
    func bootstrap() -> Logger {
        AgentLogHandler.bootstrap(level: Logger.Level(rawValue: logLevel)!, format: AgentLogHandler.Format(rawValue: logFormat)!)
        return Logger(label: "secret-agent")
    }
}

/// `--serve HOST:PORT`, for `run` and `exec`: the local secrets API.
struct ServeOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Serve the local secrets API (the AWS Secrets Manager Agent protocol) on HOST:PORT, such as 127.0.0.1:2773.", valueName: "HOST:PORT"))
    var serve: String?

    func validate() throws {
        if let serve {
            do { _ = try ListenAddress.parse(serve) } catch { throw ValidationError(error.description.replacing("--listen", with: "--serve")) }
        }
    }

    /// Puts the address into the agent's options.
    func apply(to options: inout Agent.Options) {
        options.serve = serve.flatMap { try? ListenAddress.parse($0) }
    }
}
