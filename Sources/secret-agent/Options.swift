import ArgumentParser
import Logging
import SecretAgentCore
import SecretAgentOps

/// Flags shared by the commands that render: `--config`, `--env`, `--template` and friends.
struct AgentOptions: ParsableArguments {
    @Option(name: .long, help: "The YAML configuration file.")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("A variable for the child: NAME=TEMPLATE (repeatable).", valueName: "NAME=TEMPLATE"))
    var env: [String] = []

    @Option(name: .customLong("env-from"), help: ArgumentHelp("Every entry of a map (ssm-path: or a JSON secret) as a variable (repeatable).", valueName: "REF"))
    var envFrom: [String] = []

    @Option(name: .long, help: ArgumentHelp("A template to render: SRC:DEST[:MODE] (repeatable; relative DEST goes under output_dir).", valueName: "SRC:DEST[:MODE]"))
    var template: [String] = []

    @Option(name: .long, help: "How often to check versions (default 5m).")
    var poll: String?

    @Option(name: .customLong("start-timeout"), help: "How long to retry unavailable backends at start (default 60s).")
    var startTimeout: String?

    @Flag(name: .customLong("allow-disk"), help: "Allow destinations that are not on tmpfs/ramfs.")
    var allowDisk = false

    @Flag(name: .long, help: "The child gets only the injected variables plus PATH, HOME, LANG and TZ.")
    var pristine = false

    @Option(name: .long, help: "Serve /healthz and /metrics on HOST:PORT.")
    var listen: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        // The value may be a secret pasted in by mistake: name the flag's position, never its text.
        for (index, e) in env.enumerated() where !e.contains("=") || e.hasPrefix("=") {
            throw ValidationError("--env takes NAME=TEMPLATE: the \(Self.ordinal(index + 1)) --env has no NAME= before its value")
        }
        for t in template where t.split(separator: ":", omittingEmptySubsequences: false).count < 2 {
            throw ValidationError("--template takes SRC:DEST[:MODE] (got '\(t)')")
        }
        if let poll, DurationParser.parse(poll) == nil { throw ValidationError("--poll takes a duration such as 30s or 5m") }
        if let s = startTimeout, DurationParser.parse(s) == nil { throw ValidationError("--start-timeout takes a duration such as 60s") }
        if let listen {
            do { _ = try ListenAddress.parse(listen) } catch { throw ValidationError(error.description) }
        }
    }

    static func ordinal(_ n: Int) -> String {
        let suffix = (11...13).contains(n % 100) ? "th" : ["th", "st", "nd", "rd", "th", "th", "th", "th", "th", "th"][n % 10]
        return "\(n)\(suffix)"
    }

    /// The configuration file (if any) with the flags applied on top (flags win).
    func loadConfig(environment: [String: String], cwd: String) throws -> AgentConfig {
        var cfg: AgentConfig
        if let config {
            cfg = try AgentConfig.load(file: Paths.resolve(config, against: cwd), environment: environment)
        } else {
            cfg = AgentConfig(baseDirectory: cwd, environment: environment)
        }
        if let poll { cfg.poll = DurationParser.parse(poll)! }
        if let startTimeout { cfg.startTimeout = DurationParser.parse(startTimeout)! }
        if allowDisk { cfg.allowDisk = true }
        for t in template {
            var parts = t.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            var mode: UInt32 = 0o600
            if parts.count >= 3, let m = TemplateSpec.parseMode(parts.last!) {
                mode = m
                parts.removeLast()
            }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw AgentError.usage("--template takes SRC:DEST[:MODE] (got '\(t)')")
            }
            var spec = TemplateSpec(source: .file(Paths.resolve(parts[0], against: cwd)),
                                    destination: Paths.normalize(Paths.resolve(parts[1], against: cfg.outputDir)), mode: mode, baseDirectory: cwd)
            if !parts[1].hasPrefix("/") {
                guard Paths.isInside(spec.destination, cfg.outputDir), spec.destination != Paths.normalize(cfg.outputDir) else {
                    throw AgentError.usage("--template destination '\(parts[1])' leads out of output_dir (\(cfg.outputDir)); use an absolute path")
                }
                spec.confinedTo = cfg.outputDir
            }
            cfg.templates.removeAll { $0.destination == spec.destination }
            cfg.templates.append(spec)
        }
        if !env.isEmpty {
            var exec = cfg.exec ?? ExecSpec()
            for e in env {
                let eq = e.firstIndex(of: "=")!
                let name = String(e[..<eq])
                exec.env.removeAll { $0.name == name }
                exec.env.append(EnvEntry(name: name, template: String(e[e.index(after: eq)...])))
            }
            cfg.exec = exec
        }
        return cfg
    }
}

/// `--log-level` and `--log-format`, for every command.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text or json (default text).")
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
