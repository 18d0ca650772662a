/// One entry of `templates:`: what to render and where.
public struct TemplateSpec: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A template file (absolute path).
        case file(String)
        /// Inline template text (`contents:`).
        case contents(String)
    }

    /// What happens when a rendered file changes.
    public enum OnChange: Sendable, Equatable {
        /// Send the exec child its `reload_signal` (the default).
        case reload
        /// Restart the exec child.
        case restart
        case none
        /// Run a command (argv, no shell).
        case command([String])
    }

    public var source: Source
    /// Absolute destination path.
    public var destination: String
    public var mode: UInt32
    public var user: String?
    public var group: String?
    /// Per-template override of `allow_disk`.
    public var allowDisk: Bool?
    public var onChange: OnChange
    /// Where relative `file:` references and partials of this template resolve.
    public var baseDirectory: String
    /// For a relative destination: the output directory it must stay inside (also through symlinks).
    public var confinedTo: String?

    public init(source: Source, destination: String, mode: UInt32 = 0o600, user: String? = nil, group: String? = nil,
                allowDisk: Bool? = nil, onChange: OnChange = .reload, baseDirectory: String) {
        self.source = source
        self.destination = destination
        self.mode = mode
        self.user = user
        self.group = group
        self.allowDisk = allowDisk
        self.onChange = onChange
        self.baseDirectory = baseDirectory
    }

    /// A name for messages: the source file, or the destination for inline contents.
    public var displayName: String {
        switch source {
        case .file(let path): return path
        case .contents: return destination + " (contents)"
        }
    }

    static let keys: Set<String> = ["source", "contents", "destination", "mode", "user", "group", "allow_disk", "on_change"]
    /// The keys of `on_change` written as a mapping.
    static let onChangeKeys: Set<String> = ["command"]

    init(node: ConfigNode, baseDirectory: String, outputDir: String) throws(AgentError) {
        try node.allowOnly(Self.keys)
        let sourceText = try node.string("source")
        let contents = try node.string("contents", expand: false)  // template text: {{ env:VAR }} is the way
        switch (sourceText, contents) {
        case (let s?, nil): source = .file(Paths.resolve(s, against: baseDirectory))
        case (nil, let c?): source = .contents(c)
        case (nil, nil): throw AgentError.config("\(node.location): \(node.path) needs 'source' (a template file) or 'contents' (inline text)")
        default: throw AgentError.config("\(node.location): \(node.path) has both 'source' and 'contents'; keep one")
        }
        do {
            (destination, confinedTo) = try Self.confine(try node.requiredString("destination"), outputDir: outputDir)
        } catch {
            throw AgentError.config("\(node.location): \(node.path).destination \(error.message)")
        }
        if let m = try node.string("mode") {
            guard let parsed = Self.parseMode(m) else {
                throw AgentError.config("\(node.location): \(node.path).mode must be octal digits such as \"0400\" (got '\(m)')")
            }
            mode = parsed
        } else {
            mode = 0o600
        }
        user = try node.string("user")
        group = try node.string("group")
        allowDisk = try node.bool("allow_disk")
        self.baseDirectory = baseDirectory
        if node.shape("on_change") == .list, let list = try node.stringList("on_change") {
            guard !list.isEmpty else { throw AgentError.config("\(node.location): \(node.path).on_change command is empty") }
            onChange = .command(list)
        } else if node.shape("on_change") == .mapping, let b = try node.block("on_change") {
            try b.allowOnly(Self.onChangeKeys)
            guard let cmd = try b.stringList("command", allowSingle: false), !cmd.isEmpty else {
                throw AgentError.config("\(b.location): \(b.path).command must be a non-empty list such as [systemctl, reload, nginx]")
            }
            onChange = .command(cmd)
        } else {
            switch try node.string("on_change") ?? "reload" {
            case "reload": onChange = .reload
            case "restart": onChange = .restart
            case "none": onChange = .none
            case let other:
                throw AgentError.config("\(node.location): \(node.path).on_change '\(other)' must be reload, restart, none or command: [...]")
            }
        }
    }

    /// Where a destination as written goes: an absolute path as it is; a relative one under
    /// `outputDir`, which it must stay inside (the writer checks symlinks too: `confinedTo`).
    /// The error's message continues "destination …" for the caller to prefix.
    public static func confine(_ written: String, outputDir: String) throws(AgentError) -> (destination: String, confinedTo: String?) {
        let destination = Paths.normalize(Paths.resolve(written, against: outputDir))
        guard !written.hasPrefix("/") else { return (destination, nil) }
        guard Paths.isInside(destination, outputDir), destination != Paths.normalize(outputDir) else {
            throw AgentError.config("'\(written)' leads out of output_dir (\(outputDir)); use an absolute path to write elsewhere")
        }
        return (destination, outputDir)
    }

    /// Parses an octal mode such as `0400`, `400` or `0o600`.
    public static func parseMode(_ text: String) -> UInt32? {
        var t = Substring(text)
        if t.hasPrefix("0o") { t = t.dropFirst(2) }
        guard !t.isEmpty, t.count <= 4, let v = UInt32(t, radix: 8), v <= 0o7777 else { return nil }
        return v
    }
}

/// The `exec:` block: the child process and its environment.
public struct ExecSpec: Sendable, Equatable {
    public var command: [String]
    /// `NAME: "{{ template }}"` pairs, in file order.
    public var env: [EnvEntry]
    public var reloadSignal: Int32
    public var stopSignal: Int32
    public var stopTimeout: Duration

    public init(command: [String] = [], env: [EnvEntry] = [], reloadSignal: Int32 = SignalName.number("SIGHUP")!,
                stopSignal: Int32 = SignalName.number("SIGTERM")!, stopTimeout: Duration = .seconds(30)) {
        self.command = command
        self.env = env
        self.reloadSignal = reloadSignal
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
    }

    static let keys: Set<String> = ["command", "env", "reload_signal", "stop_signal", "stop_timeout"]

    init(node: ConfigNode) throws(AgentError) {
        try node.allowOnly(Self.keys)
        self.init()
        command = try node.stringList("command", allowSingle: true) ?? []
        env = (try node.stringMap("env", expand: false) ?? []).map { EnvEntry(name: $0.0, template: $0.1) }
        for entry in env where !EnvEntry.isValidName(entry.name) {
            throw AgentError.config("\(node.location): exec.env name '\(entry.name)' is not a valid variable name")
        }
        for (key, target) in [("reload_signal", \ExecSpec.reloadSignal), ("stop_signal", \ExecSpec.stopSignal)] {
            if let name = try node.string(key) {
                guard let n = SignalName.number(name) else {
                    throw AgentError.config("\(node.location): exec.\(key) '\(name)' is not a signal name such as SIGHUP or SIGTERM")
                }
                self[keyPath: target] = n
            }
        }
        stopTimeout = try node.duration("stop_timeout") ?? stopTimeout
    }
}

/// One variable for the child: a name and the template that makes its value.
public struct EnvEntry: Sendable, Equatable {
    public var name: String
    public var template: String

    public init(name: String, template: String) {
        self.name = name
        self.template = template
    }

    /// POSIX-ish variable names: not empty, no `=` and no NUL.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("=") && !name.utf8.contains(0)
    }
}
