#if canImport(Glibc)
import Glibc
#endif

/// The agent's whole configuration: the YAML file (SPEC §5) merged with command-line flags.
public struct AgentConfig: Sendable {
    /// The configuration file, when there is one.
    public var file: String?
    /// Where relative `source`, partial and `file:` paths resolve: the file's directory, or the
    /// working directory for command-line flags.
    public var baseDirectory: String
    public var aws: AWSSettings
    /// The `vault:` block; nil when the file has none.
    public var vault: VaultSettings?
    public var poll: Duration
    public var startTimeout: Duration
    /// Where relative destinations go.
    public var outputDir: String
    public var allowDisk: Bool
    public var mountTmpfs: Bool
    /// `cleanup_on_exit`: remove the rendered files when the agent ends. Unset: `exec` removes
    /// them (unless `--keep-files`), `run` keeps them.
    public var cleanupOnExit: Bool?
    public var templates: [TemplateSpec]
    public var exec: ExecSpec?
    /// The `serve:` block (or `--serve`): the local secrets API; nil when it is off.
    public var serve: ServeSettings?

    public init(baseDirectory: String, environment: [String: String], uid: UInt32 = getuid()) {
        self.file = nil
        self.baseDirectory = baseDirectory
        self.aws = AWSSettings()
        self.vault = nil
        self.poll = .seconds(300)
        self.startTimeout = .seconds(60)
        self.outputDir = Self.defaultOutputDir(environment: environment, uid: uid)
        self.allowDisk = false
        self.mountTmpfs = false
        self.cleanupOnExit = nil
        self.templates = []
        self.exec = nil
        self.serve = nil
    }

    /// `/run/secret-agent` as root, else `$XDG_RUNTIME_DIR/secret-agent`, else `/dev/shm/secret-agent-$UID`.
    public static func defaultOutputDir(environment: [String: String], uid: UInt32) -> String {
        if uid == 0 { return "/run/secret-agent" }
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/secret-agent" }
        return "/dev/shm/secret-agent-\(uid)"
    }

    static let topKeys: Set<String> = ["aws", "vault", "poll", "start_timeout", "output_dir", "allow_disk",
                                       "mount_tmpfs", "cleanup_on_exit", "templates", "exec", "serve"]

    /// Reads a configuration file. Errors name the file, line and key (exit 78).
    public static func load(file: String, environment: [String: String], uid: UInt32 = getuid()) throws(AgentError) -> AgentConfig {
        guard let text = FileBytes.readText(file) else {
            throw AgentError.config("cannot read configuration file \(file): \(FileBytes.lastErrorDescription())")
        }
        let absolute = Paths.resolve(file, against: FileBytes.currentDirectory())
        return try parse(yaml: text, file: absolute, environment: environment, uid: uid)
    }

    /// Parses configuration text; `file` names it in messages and anchors relative paths.
    /// `${VAR}` / `${VAR:-default}` in values expand from `environment` (not in template text:
    /// `contents:`, `exec.env`); see `ConfigExpansion`.
    public static func parse(yaml: String, file: String, environment: [String: String], uid: UInt32 = getuid()) throws(AgentError) -> AgentConfig {
        let root = try ConfigNode.parse(yaml: yaml, file: file, environment: environment)
        try root.allowOnly(topKeys)
        let base = Paths.directory(of: file)
        var config = AgentConfig(baseDirectory: base, environment: environment, uid: uid)
        config.file = file
        if let aws = try root.block("aws") { config.aws = try AWSSettings(node: aws, baseDirectory: base) }
        if let vault = try root.block("vault") { config.vault = try VaultSettings(node: vault, baseDirectory: base) }
        config.poll = try root.duration("poll") ?? config.poll
        config.startTimeout = try root.duration("start_timeout") ?? config.startTimeout
        if let dir = try root.string("output_dir") { config.outputDir = Paths.resolve(dir, against: base) }
        config.allowDisk = try root.bool("allow_disk") ?? false
        config.mountTmpfs = try root.bool("mount_tmpfs") ?? false
        config.cleanupOnExit = try root.bool("cleanup_on_exit")
        for node in try root.blocks("templates") ?? [] {
            config.templates.append(try TemplateSpec(node: node, baseDirectory: base, outputDir: config.outputDir))
        }
        if let exec = try root.block("exec") { config.exec = try ExecSpec(node: exec) }
        if root.has("serve") {
            if let node = try root.block("serve") {
                config.serve = try ServeSettings(node: node, baseDirectory: base)
            } else {
                config.serve = ServeSettings()
            }
        }
        try config.validate()
        return config
    }

    /// The shortest poll interval accepted, from the file or `--poll`.
    public static let minimumPoll: Duration = .milliseconds(100)

    /// Checks the assembled configuration (the file with the command line applied): what no
    /// single block can (two templates writing one destination) and the limits every source of
    /// a value must respect, so `--poll 10ms` is refused like `poll: 10ms` is.
    public func validate() throws(AgentError) {
        guard poll >= Self.minimumPoll else {
            throw AgentError.config("poll must be at least 100ms (got \(DurationParser.format(poll))): a shorter interval only adds API calls")
        }
        var seen: Set<String> = []
        for t in templates {
            if !seen.insert(t.destination).inserted {
                throw AgentError.config("two templates write \(t.destination); each destination must be written by one template")
            }
        }
    }
}
