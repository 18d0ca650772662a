import SecretAgentCore
import SecretTemplate

/// Everything one agent renders: file templates, the child's environment templates and
/// `--env-from` references, compiled once, with the set of locators they need.
///
/// Compiling parses every template before anything is fetched, so a syntax error or an unknown
/// scheme stops the agent before it calls any backend.
public struct Job: Sendable {
    /// A file template and its parsed form.
    public struct FileTemplate: Sendable {
        public var spec: TemplateSpec
        public var template: Template
    }

    /// One variable for the child.
    public struct EnvTemplate: Sendable {
        public var name: String
        public var template: Template
        /// True for a variable inherited from the agent's environment (`DB_PASSWORD='{{ sm:… }}'`).
        public var inherited: Bool
    }

    public var files: [FileTemplate] = []
    public var env: [EnvTemplate] = []
    /// References whose map value becomes one variable per entry (`--env-from`).
    public var envFrom: [Reference] = []

    /// Every reference named anywhere, in order of first appearance.
    public var references: [Reference] {
        var seen = Set<Reference>()
        var out: [Reference] = []
        let all = files.flatMap(\.template.references) + env.flatMap(\.template.references) + envFrom
        for r in all where seen.insert(r).inserted { out.append(r) }
        return out
    }

    /// The distinct locators to fetch.
    public var locators: Set<Locator> {
        var set = Set(envFrom.map(\.locator))
        for f in files { set.formUnion(f.template.locators) }
        for e in env { set.formUnion(e.template.locators) }
        return set
    }

    public init() {}

    /// Compiles the configuration's templates and `exec.env`, plus the agent's own environment
    /// variables that hold references (when `inherited` is given).
    public static func compile(config: AgentConfig, envFrom: [String] = [], flagsBase: String,
                               inherited: [String: String]? = nil) throws -> Job {
        var job = Job()
        for spec in config.templates {
            job.files.append(FileTemplate(spec: spec, template: try parse(spec)))
        }
        var explicit = Set<String>()
        for entry in config.exec?.env ?? [] {
            let base = config.baseDirectory
            let t = try Template(source: entry.template, name: "env \(entry.name)", baseDirectory: base,
                                 partials: partialLoader(base: base))
            job.env.append(EnvTemplate(name: entry.name, template: t, inherited: false))
            explicit.insert(entry.name)
        }
        for text in envFrom {
            job.envFrom.append(try Reference.parse(text, baseDirectory: flagsBase))
        }
        if let inherited {
            for name in inherited.keys.sorted() where !explicit.contains(name) {
                let value = inherited[name]!
                if let t = try inheritedTemplate(name: name, value: value, base: flagsBase) {
                    job.env.append(EnvTemplate(name: name, template: t, inherited: true))
                }
            }
        }
        return job
    }

    /// A template for an inherited variable when its value names a reference, else nil (the value
    /// passes untouched). A value that is exactly a Secrets Manager or SSM parameter ARN counts, as
    /// in secrets-init.
    static func inheritedTemplate(name: String, value: String, base: String) throws -> Template? {
        if isSecretARN(value) {
            return try Template(source: "{{ \(value) }}", name: "env \(name)", baseDirectory: base)
        }
        guard Template.mentionsReference(value) else { return nil }
        return try Template(source: value, name: "env \(name)", baseDirectory: base, partials: partialLoader(base: base))
    }

    static func isSecretARN(_ value: String) -> Bool {
        let parts = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), !value.contains(where: \.isWhitespace) else { return false }
        return (parts[2] == "secretsmanager" && parts[5].hasPrefix("secret:")) || (parts[2] == "ssm" && parts[5].hasPrefix("parameter/"))
    }

    /// Reads and parses one file template (its source file, partials included).
    public static func parse(_ spec: TemplateSpec) throws -> Template {
        let text: String
        switch spec.source {
        case .contents(let c): text = c
        case .file(let path):
            guard let t = FileBytes.readText(path) else {
                throw AgentError.config("cannot read template \(path): \(FileBytes.lastErrorDescription())")
            }
            text = t
        }
        return try Template(source: text, name: spec.displayName, baseDirectory: spec.baseDirectory,
                            partials: partialLoader(base: spec.baseDirectory))
    }

    /// Partials are files; a relative name resolves against `base`.
    static func partialLoader(base: String) -> @Sendable (String) throws -> String {
        { name in
            let path = Paths.resolve(name, against: base)
            guard let text = FileBytes.readText(path) else {
                throw AgentError.config("cannot read partial \(path): \(FileBytes.lastErrorDescription())")
            }
            return text
        }
    }
}
