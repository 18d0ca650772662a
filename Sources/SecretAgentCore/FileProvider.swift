#if canImport(Glibc)
import Glibc
#endif
import SecretTemplate

/// Serves `file:` references: a local file's bytes with one trailing newline removed.
///
/// `.yaml`/`.yml` files are read as YAML documents (a map), so `#field` works on them; JSON files
/// stay text and are parsed when a field is selected. A missing file is "not found".
public struct FileProvider: SecretProvider {
    public init() {}

    public var schemes: Set<Scheme> { [.file] }
    public var name: String { "file" }

    public func fetch(_ locators: [Locator]) async throws -> [Locator: FetchOutcome] {
        var out: [Locator: FetchOutcome] = [:]
        for locator in locators {
            guard case .file(let path) = locator else { continue }
            out[locator] = try Self.read(path)
        }
        return out
    }

    static func read(_ path: String) throws(AgentError) -> FetchOutcome {
        guard let raw = FileBytes.read(path) else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: return .notFound
            case EACCES, EPERM: throw AgentError(.noPermission, "file:\(path): permission denied; let the agent's user read it")
            default: throw AgentError(.dataError, "file:\(path): cannot read: \(FileBytes.lastErrorDescription(code))")
            }
        }
        let bytes = FileBytes.droppingOneTrailingNewline(raw)
        if path.hasSuffix(".yaml") || path.hasSuffix(".yml"), let text = String(validating: bytes, as: UTF8.self) {
            return .found(Secret(value: try YAMLValue.parse(text, name: "file:\(path)"), version: nil))
        }
        return .found(Secret(value: Value(bytes: bytes), version: nil))
    }
}

/// Converts a YAML document into a `Value`.
enum YAMLValue {
    static func parse(_ text: String, name: String) throws(AgentError) -> Value {
        let node: YAMLNode?
        do { node = try YAML.compose(text) } catch {
            throw AgentError(.dataError, "\(name): not valid YAML")
        }
        guard let node else { return .null }
        return convert(node)
    }

    static func convert(_ node: YAMLNode) -> Value {
        switch node {
        case .scalar(let s):
            if s.style != .plain { return .string(s.string) }
            switch s.string {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default:
                if Int(s.string) != nil || (Double(s.string) != nil && s.string.first != "." && !s.string.hasSuffix(".")) {
                    return .number(s.string)
                }
                return .string(s.string)
            }
        case .sequence(let seq):
            return .list(seq.map(convert))
        case .mapping(let m):
            var map: [String: Value] = [:]
            for (k, v) in m { map[k.scalar?.string ?? ""] = convert(v) }
            return .map(map)
        }
    }
}
