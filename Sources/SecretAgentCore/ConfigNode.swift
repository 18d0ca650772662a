/// A mapping of the YAML configuration, read key by key with errors that name the key and line.
///
/// Every block of the configuration reads itself through this type, so unknown keys, wrong types
/// and unquoted `{{` values are reported the same way everywhere (exit 78).
///
/// With an environment, every scalar value read (strings, list items, numbers, booleans,
/// durations) goes through `ConfigExpansion` (`${VAR}`, `${VAR:-default}`, `$$`) — except where
/// the reader asks for template text (`expand: false`: `contents:`, `exec.env` values).
public struct ConfigNode {
    let mapping: YAMLNode.Mapping
    /// The dotted path of this block (`vault.auth`), for messages.
    public let path: String
    /// The configuration file, for messages.
    public let file: String
    /// Where `${VAR}` in values is looked up; nil: values are taken as written.
    let environment: [String: String]?

    init(mapping: YAMLNode.Mapping, path: String, file: String, environment: [String: String]?) {
        self.mapping = mapping
        self.path = path
        self.file = file
        self.environment = environment
    }

    /// Parses a YAML document whose top level must be a mapping.
    ///
    /// - Parameter environment: expands `${VAR}` in values (see `ConfigExpansion`); nil leaves
    ///   values as written.
    public static func parse(yaml: String, file: String, environment: [String: String]? = nil) throws(AgentError) -> ConfigNode {
        let node: YAMLNode?
        do {
            node = try YAML.compose(yaml)
        } catch {
            throw AgentError.config(Self.describe(error, yaml: yaml, file: file))
        }
        guard let node else { return ConfigNode(mapping: YAMLNode.Mapping([]), path: "", file: file, environment: environment) }
        guard case .mapping(let mapping) = node else {
            throw AgentError.config("\(file):\(node.mark?.line ?? 1): the configuration must be a mapping of keys (aws:, vault:, templates:, exec: …)")
        }
        return ConfigNode(mapping: mapping, path: "", file: file, environment: environment)
    }

    private static func describe(_ error: YAMLError, yaml: String, file: String) -> String {
        // libyaml's problem and position only: a line of the file may hold a credential.
        let (problem, mark) = (error.problem, error.mark)
        var message = "\(file):\(mark.map { "\($0.line):\($0.column)" } ?? "?"): not valid YAML: \(problem)"
        if let mark {
            // Split on the scalar, not the Character: "\r\n" is one Character and would not split.
            let lines = yaml.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
            let upper = min(lines.count, max(mark.line, 0))
            let window = lines[min(max(0, mark.line - 3), upper)..<upper]
            if window.contains(where: { $0.contains(": {{") || $0.contains("- {{") }) {
                message += " (YAML values that start with {{ must be quoted: KEY: \"{{ ref }}\")"
            }
        }
        return message
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func line(of node: YAMLNode) -> String { "\(file):\(node.mark?.line ?? 0)" }

    /// The line of this block, for messages.
    public var location: String { "\(file):\(mapping.mark?.line ?? 1)" }

    /// The keys present in this block, in file order.
    public var keys: [String] {
        mapping.keys.compactMap { $0.scalar?.string }
    }

    /// Fails with an error naming the first key not in `allowed`.
    public func allowOnly(_ allowed: Set<String>) throws(AgentError) {
        for k in mapping.keys {
            guard let name = k.scalar?.string else {
                throw AgentError.config("\(line(of: k)): keys of \(path.isEmpty ? "the configuration" : path) must be plain strings")
            }
            if !allowed.contains(name) {
                let known = allowed.sorted().joined(separator: ", ")
                throw AgentError.config("\(line(of: k)): unknown key '\(key(name))'; known keys here: \(known)")
            }
        }
    }

    func node(_ name: String) -> YAMLNode? {
        for (k, v) in mapping where k.scalar?.string == name { return v }
        return nil
    }

    /// The YAML shape of a key's value.
    public enum Shape: Sendable { case scalar, list, mapping }

    /// The shape of the key's value, or nil when absent or null.
    public func shape(_ name: String) -> Shape? {
        guard let n = node(name), !isNull(n) else { return nil }
        switch n {
        case .scalar: return .scalar
        case .sequence: return .list
        case .mapping: return .mapping
        }
    }

    /// True when the key is present (even with a null value).
    public func has(_ name: String) -> Bool { node(name) != nil }

    private func isNull(_ node: YAMLNode) -> Bool {
        if case .scalar(let s) = node, s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) { return true }
        return false
    }

    /// A scalar's text with `${VAR}` expanded (when this node has an environment and `expand`).
    func text(_ scalar: YAMLNode.Scalar, of n: YAMLNode, key: String, expand: Bool = true) throws(AgentError) -> String {
        guard expand, let environment else { return scalar.string }
        do {
            return try ConfigExpansion.expand(scalar.string, environment: environment)
        } catch {
            switch error {
            case .unset(let variable):
                throw AgentError.config("\(line(of: n)): '\(key)' uses ${\(variable)}, which is not set in the agent's environment; set \(variable), give a default (${\(variable):-value}), or write $$ for a literal $")
            }
        }
    }

    /// A string value; numbers and booleans are taken as written. `expand: false` reads template
    /// text, where `${…}` is not expanded.
    public func string(_ name: String, expand: Bool = true) throws(AgentError) -> String? {
        guard let n = node(name), !isNull(n) else { return nil }
        switch n {
        case .scalar(let s): return try text(s, of: n, key: key(name), expand: expand)
        case .mapping(let m) where m.count == 1 && m.first?.key.mapping != nil:
            throw AgentError.config("\(line(of: n)): '\(key(name))' is a YAML mapping; values that start with {{ must be quoted: \(name): \"{{ ref }}\"")
        default:
            throw AgentError.config("\(line(of: n)): '\(key(name))' must be a string")
        }
    }

    /// A required string value.
    public func requiredString(_ name: String) throws(AgentError) -> String {
        guard let s = try string(name), !s.isEmpty else {
            throw AgentError.config("\(location): '\(key(name))' is required")
        }
        return s
    }

    public func bool(_ name: String) throws(AgentError) -> Bool? {
        guard let n = node(name), !isNull(n) else { return nil }
        guard case .scalar(let s) = n else { throw AgentError.config("\(line(of: n)): '\(key(name))' must be true or false") }
        switch try text(s, of: n, key: key(name)).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw AgentError.config("\(line(of: n)): '\(key(name))' must be true or false")
        }
    }

    public func int(_ name: String) throws(AgentError) -> Int? {
        guard let n = node(name), !isNull(n) else { return nil }
        guard case .scalar(let s) = n, let v = Int(try text(s, of: n, key: key(name))) else {
            throw AgentError.config("\(line(of: n)): '\(key(name))' must be an integer")
        }
        return v
    }

    /// A duration such as `500ms`, `30s`, `5m`, `1h`.
    public func duration(_ name: String) throws(AgentError) -> Duration? {
        guard let text = try string(name) else { return nil }
        guard let d = DurationParser.parse(text) else {
            throw AgentError.config("\(line(of: node(name)!)): '\(key(name))' must be a duration such as 500ms, 30s, 5m or 1h (got '\(text)')")
        }
        return d
    }

    /// A list of strings; a single string is accepted as a one-element list when `allowSingle`.
    public func stringList(_ name: String, allowSingle: Bool = false) throws(AgentError) -> [String]? {
        guard let n = node(name), !isNull(n) else { return nil }
        switch n {
        case .sequence(let seq):
            var out: [String] = []
            for (i, item) in seq.enumerated() {
                guard case .scalar(let s) = item else {
                    throw AgentError.config("\(line(of: item)): items of '\(key(name))' must be strings")
                }
                out.append(try text(s, of: item, key: "\(key(name))[\(i)]"))
            }
            return out
        case .scalar(let s) where allowSingle:
            return [try text(s, of: n, key: key(name))]
        default:
            throw AgentError.config("\(line(of: n)): '\(key(name))' must be a list of strings")
        }
    }

    /// A nested block.
    public func block(_ name: String) throws(AgentError) -> ConfigNode? {
        guard let n = node(name), !isNull(n) else { return nil }
        guard case .mapping(let m) = n else {
            throw AgentError.config("\(line(of: n)): '\(key(name))' must be a mapping of keys")
        }
        return ConfigNode(mapping: m, path: key(name), file: file, environment: environment)
    }

    /// A list of blocks (such as `templates:`).
    public func blocks(_ name: String) throws(AgentError) -> [ConfigNode]? {
        guard let n = node(name), !isNull(n) else { return nil }
        guard case .sequence(let seq) = n else {
            throw AgentError.config("\(line(of: n)): '\(key(name))' must be a list")
        }
        var out: [ConfigNode] = []
        for (i, item) in seq.enumerated() {
            guard case .mapping(let m) = item else {
                throw AgentError.config("\(line(of: item)): each item of '\(key(name))' must be a mapping of keys")
            }
            out.append(ConfigNode(mapping: m, path: "\(key(name))[\(i)]", file: file, environment: environment))
        }
        return out
    }

    /// A mapping of string keys to string values (such as `exec.env`), in file order;
    /// `expand: false` for template text.
    public func stringMap(_ name: String, expand: Bool = true) throws(AgentError) -> [(String, String)]? {
        guard let b = try block(name) else { return nil }
        var out: [(String, String)] = []
        for k in b.keys {
            guard let v = try b.string(k, expand: expand) else {
                throw AgentError.config("\(b.line(of: b.node(k)!)): '\(b.key(k))' needs a value")
            }
            out.append((k, v))
        }
        return out
    }
}

/// Parses durations: `500ms`, `30s`, `5m`, `1h`, and combinations such as `1h30m`.
public enum DurationParser {
    /// The longest duration accepted, in milliseconds: 366 days.
    static let longest: Double = 366 * 86_400_000

    public static func parse(_ text: String) -> Duration? {
        var total = Duration.zero
        var digits = ""
        var chars = Array(text.trimmingWhitespace)[...]
        guard !chars.isEmpty else { return nil }
        while let c = chars.first {
            if c.isNumber || c == "." {
                digits.append(c)
                chars = chars.dropFirst()
                continue
            }
            guard let value = Double(digits) else { return nil }
            digits = ""
            let unit: Double
            if chars.starts(with: ["m", "s"]) { unit = 0.001; chars = chars.dropFirst(2) }
            else if c == "s" { unit = 1; chars = chars.dropFirst() }
            else if c == "m" { unit = 60; chars = chars.dropFirst() }
            else if c == "h" { unit = 3600; chars = chars.dropFirst() }
            else { return nil }
            // Found by fuzzing: a long number overflowed Int64 and trapped. A year is enough for
            // any interval the agent takes; more is "not a duration".
            let milliseconds = (value * unit * 1000).rounded()
            guard milliseconds.isFinite, milliseconds <= Self.longest else { return nil }
            total += Duration.milliseconds(Int64(milliseconds))
            guard total <= .milliseconds(Int64(Self.longest)) else { return nil }
        }
        guard digits.isEmpty else { return nil }
        return total
    }

    /// Formats a duration the way it is written in configuration (`5m`, `30s`, `500ms`).
    public static func format(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
