/// What the command line changes in a configuration (SPEC §4: flags win over the file).
///
/// The command line parses its flags into this value; Core applies it and validates the result
/// once, so a value is held to the same rules whether it came from the file or from a flag.
public struct ConfigOverrides: Sendable, Equatable {
    /// `--poll`.
    public var poll: Duration?
    /// `--start-timeout`.
    public var startTimeout: Duration?
    /// `--allow-disk` (only ever turns it on).
    public var allowDisk = false
    /// `--template SRC:DEST[:MODE]`, as written; added to the file's templates (a flag wins on
    /// the same destination).
    public var templates: [String] = []
    /// `--env NAME=TEMPLATE`, as written; added to `exec.env` (a flag wins on the same name).
    public var env: [String] = []
    /// `-- CMD [ARGS…]`: replaces `exec.command` when not empty.
    public var command: [String] = []

    public init(poll: Duration? = nil, startTimeout: Duration? = nil, allowDisk: Bool = false, templates: [String] = [],
                env: [String] = [], command: [String] = []) {
        self.poll = poll
        self.startTimeout = startTimeout
        self.allowDisk = allowDisk
        self.templates = templates
        self.env = env
        self.command = command
    }

    /// The configuration with these overrides applied, validated as a whole.
    ///
    /// - Parameter cwd: where relative `--template` sources resolve.
    /// - Throws: `AgentError` — 64 for a malformed flag, 78 for what `validate()` refuses.
    public func applied(to file: AgentConfig, cwd: String) throws(AgentError) -> AgentConfig {
        var config = file
        if let poll { config.poll = poll }
        if let startTimeout { config.startTimeout = startTimeout }
        if allowDisk { config.allowDisk = true }
        for t in templates {
            let spec = try Self.template(t, cwd: cwd, outputDir: config.outputDir)
            config.templates.removeAll { $0.destination == spec.destination }
            config.templates.append(spec)
        }
        if !env.isEmpty || !command.isEmpty {
            var exec = config.exec ?? ExecSpec()
            for (index, e) in env.enumerated() {
                guard let eq = e.firstIndex(of: "="), eq != e.startIndex else {
                    // The value may be a secret pasted in by mistake: name the position, never the text.
                    throw AgentError.usage("--env takes NAME=TEMPLATE: the \(Self.ordinal(index + 1)) --env has no NAME= before its value")
                }
                let name = String(e[..<eq])
                exec.env.removeAll { $0.name == name }
                exec.env.append(EnvEntry(name: name, template: String(e[e.index(after: eq)...])))
            }
            if !command.isEmpty { exec.command = command }
            config.exec = exec
        }
        try config.validate()
        return config
    }

    /// One `--template SRC:DEST[:MODE]`.
    static func template(_ text: String, cwd: String, outputDir: String) throws(AgentError) -> TemplateSpec {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var mode: UInt32 = 0o600
        if parts.count >= 3, let m = TemplateSpec.parseMode(parts.last!) {
            mode = m
            parts.removeLast()
        }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw AgentError.usage("--template takes SRC:DEST[:MODE] (got '\(text)')")
        }
        var spec = TemplateSpec(source: .file(Paths.resolve(parts[0], against: cwd)), destination: "", mode: mode, baseDirectory: cwd)
        do {
            (spec.destination, spec.confinedTo) = try TemplateSpec.confine(parts[1], outputDir: outputDir)
        } catch {
            throw AgentError.usage("--template destination \(error.message)")
        }
        return spec
    }

    /// 1st, 2nd, 3rd, 4th…, 11th, 12th, 13th, 21st…
    static func ordinal(_ n: Int) -> String {
        let suffix = (11...13).contains(n % 100) ? "th" : ["th", "st", "nd", "rd", "th", "th", "th", "th", "th", "th"][n % 10]
        return "\(n)\(suffix)"
    }
}
