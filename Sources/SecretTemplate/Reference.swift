/// The backends a reference can name.
public enum Scheme: String, Sendable, CaseIterable, Hashable {
    case ssm
    case ssmPath = "ssm-path"
    case sm
    case vault
    case file
    case env
}

/// What to fetch: one secret of one backend, without the `#field` part.
///
/// Two references that differ only in their field share one locator, so they share one fetch
/// (and one lease for a dynamic secret).
public enum Locator: Hashable, Sendable {
    /// An SSM parameter by name or ARN, with an optional `:version` or `:label` selector.
    case ssm(name: String, selector: String?)
    /// Every SSM parameter under a path, recursively.
    case ssmPath(path: String)
    /// A Secrets Manager secret by name or ARN; AWSCURRENT unless a stage or version id is given.
    case secretsManager(id: String, stage: String?, versionID: String?)
    /// A Vault path as `vault kv get` takes it; `version` pins a KV v2 version; other query
    /// parameters are sent as the body of a write (`pki/issue/web?common_name=…`).
    case vault(path: String, version: Int?, parameters: [String: String])
    /// A local file (absolute path).
    case file(path: String)
    /// A variable of the agent's own environment.
    case env(name: String)

    public var scheme: Scheme {
        switch self {
        case .ssm: return .ssm
        case .ssmPath: return .ssmPath
        case .secretsManager: return .sm
        case .vault: return .vault
        case .file: return .file
        case .env: return .env
        }
    }

    /// True when the locator names a fixed version, which is never polled for changes.
    public var isPinned: Bool {
        switch self {
        case .ssm(_, let selector): return selector != nil
        case .secretsManager(_, let stage, let versionID): return versionID != nil || (stage != nil && stage != "AWSCURRENT")
        case .vault(_, let version, _): return version != nil
        default: return false
        }
    }

    /// A canonical text form, for logs and messages (it names the secret, never its value).
    public var text: String {
        switch self {
        case .ssm(let name, let selector):
            return "ssm:\(name)" + (selector.map { ":\($0)" } ?? "")
        case .ssmPath(let path):
            return "ssm-path:\(path)"
        case .secretsManager(let id, let stage, let versionID):
            var query: [String] = []
            if let stage { query.append("stage=\(stage)") }
            if let versionID { query.append("version-id=\(versionID)") }
            return "sm:\(id)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        case .vault(let path, let version, let parameters):
            var query: [String] = []
            if let version { query.append("version=\(version)") }
            for key in parameters.keys.sorted() { query.append("\(key)=\(parameters[key]!)") }
            return "vault:\(path)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        case .file(let path):
            return "file:\(path)"
        case .env(let name):
            return "env:\(name)"
        }
    }
}

/// The `#field` or `#/json/pointer` part of a reference.
public enum FieldSelector: Hashable, Sendable, CustomStringConvertible {
    /// A top-level field of a JSON object.
    case field(String)
    /// An RFC 6901 JSON Pointer, already split and unescaped (`~1` → `/`, `~0` → `~`).
    case pointer([String])

    public var description: String {
        switch self {
        case .field(let name): return "#\(name)"
        case .pointer(let tokens):
            return "#" + tokens.map { token in
                "/" + token.map { $0 == "~" ? "~0" : $0 == "/" ? "~1" : String($0) }.joined()
            }.joined()
        }
    }
}

/// A parsed reference such as `sm:prod/db#password`: what to fetch and which part of it to use.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    public let locator: Locator
    public let selector: FieldSelector?
    /// The reference as it was written, for messages.
    public let text: String

    public init(locator: Locator, selector: FieldSelector? = nil, text: String? = nil) {
        self.locator = locator
        self.selector = selector
        self.text = text ?? (locator.text + (selector?.description ?? ""))
    }

    public var description: String { text }

    public static func == (lhs: Reference, rhs: Reference) -> Bool {
        lhs.locator == rhs.locator && lhs.selector == rhs.selector
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(locator)
        hasher.combine(selector)
    }
}

extension Reference {
    /// True when `text` starts like a reference (`word:` or `arn:`), so that a template tag is
    /// read as a reference and not as a context key. Unknown schemes are then reported by `parse`.
    public static func looksLikeReference(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter else { return false }
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Parses a reference.
    ///
    /// - Parameter baseDirectory: where a relative `file:` path is resolved (the configuration
    ///   file's directory, or the working directory on the command line). Without one, a relative
    ///   path is kept as written.
    public static func parse(_ text: String, baseDirectory: String? = nil) throws(TemplateError) -> Reference {
        let written = text
        guard let colon = text.firstIndex(of: ":") else {
            throw TemplateError(.badReference, "'\(written)' is not a reference: expected SCHEME:NAME (ssm:, ssm-path:, sm:, vault:, file:, env: or an AWS ARN)")
        }
        let schemeText = String(text[..<colon])
        var rest = String(text[text.index(after: colon)...])

        // The fragment: everything after the first '#'.
        var selector: FieldSelector?
        if let hash = rest.firstIndex(of: "#") {
            let fragment = String(rest[rest.index(after: hash)...])
            rest = String(rest[..<hash])
            selector = try parseSelector(fragment, in: written)
        }

        let locator: Locator
        if schemeText == "arn" {
            locator = try parseARN(text: "arn:" + rest, in: written)
        } else {
            guard let scheme = Scheme(rawValue: schemeText) else {
                throw TemplateError(.badReference, "unknown scheme '\(schemeText):' in reference '\(written)'; use ssm:, ssm-path:, sm:, vault:, file:, env: or an AWS ARN")
            }
            locator = try parseLocator(scheme: scheme, rest: rest, baseDirectory: baseDirectory, in: written)
        }
        return Reference(locator: locator, selector: selector, text: written)
    }

    private static func parseSelector(_ fragment: String, in written: String) throws(TemplateError) -> FieldSelector {
        if fragment.isEmpty {
            throw TemplateError(.badReference, "empty field after '#' in reference '\(written)'")
        }
        guard fragment.hasPrefix("/") else { return .field(fragment) }
        var tokens: [String] = []
        for raw in fragment.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var chars = raw.makeIterator()
            while let c = chars.next() {
                if c == "~" {
                    switch chars.next() {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default:
                        throw TemplateError(.badReference, "bad JSON Pointer in reference '\(written)': '~' must be followed by 0 or 1")
                    }
                } else {
                    token.append(c)
                }
            }
            tokens.append(token)
        }
        return .pointer(tokens)
    }

    private static func splitQuery(_ rest: String, in written: String) throws(TemplateError) -> (String, [(String, String)]) {
        guard let q = rest.firstIndex(of: "?") else { return (rest, []) }
        let path = String(rest[..<q])
        var items: [(String, String)] = []
        for pair in rest[rest.index(after: q)...].split(separator: "&") {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw TemplateError(.badReference, "bad query '\(pair)' in reference '\(written)': expected key=value")
            }
            guard let key = percentDecode(pair[..<eq]), let value = percentDecode(pair[pair.index(after: eq)...]) else {
                throw TemplateError(.badReference, "bad percent-encoding in the query of reference '\(written)'")
            }
            items.append((key, value))
        }
        return (path, items)
    }

    private static func parseLocator(scheme: Scheme, rest: String, baseDirectory: String?, in written: String) throws(TemplateError) -> Locator {
        switch scheme {
        case .ssm:
            guard !rest.contains("?") else {
                throw TemplateError(.badReference, "ssm: references take no query ('\(written)'); pin a version or label with ':N' or ':label'")
            }
            return try parseSSM(rest, in: written)
        case .ssmPath:
            guard rest.hasPrefix("/"), !rest.contains("?"), !rest.contains(":") else {
                throw TemplateError(.badReference, "ssm-path: needs a path starting with '/', such as ssm-path:/app/prod/ (got '\(written)')")
            }
            return .ssmPath(path: rest)
        case .sm:
            let (id, query) = try splitQuery(rest, in: written)
            guard !id.isEmpty else { throw TemplateError(.badReference, "sm: needs a secret name or ARN ('\(written)')") }
            var stage: String?, versionID: String?
            for (key, value) in query {
                switch key {
                case "stage": stage = value
                case "version-id": versionID = value
                default:
                    throw TemplateError(.badReference, "unknown option '\(key)' in reference '\(written)'; sm: takes ?stage= or ?version-id=")
                }
            }
            return .secretsManager(id: id, stage: stage, versionID: versionID)
        case .vault:
            let (rawPath, query) = try splitQuery(rest, in: written)
            let path = rawPath.split(separator: "/").joined(separator: "/")
            guard !path.isEmpty else { throw TemplateError(.badReference, "vault: needs a path such as vault:secret/app ('\(written)')") }
            var version: Int?
            var parameters: [String: String] = [:]
            for (key, value) in query {
                if key == "version" {
                    guard let v = Int(value), v > 0 else {
                        throw TemplateError(.badReference, "version in '\(written)' must be a positive integer")
                    }
                    version = v
                } else {
                    parameters[key] = value
                }
            }
            if version != nil && !parameters.isEmpty {
                throw TemplateError(.badReference, "'\(written)' mixes ?version= (a KV read) with write parameters")
            }
            return .vault(path: path, version: version, parameters: parameters)
        case .file:
            guard !rest.isEmpty else { throw TemplateError(.badReference, "file: needs a path ('\(written)')") }
            if rest.hasPrefix("/") || baseDirectory == nil { return .file(path: rest) }
            let base = baseDirectory!.hasSuffix("/") ? String(baseDirectory!.dropLast()) : baseDirectory!
            return .file(path: base + "/" + rest)
        case .env:
            guard let first = rest.first, first == "_" || (first.isASCII && first.isLetter),
                  rest.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
                throw TemplateError(.badReference, "env: needs a variable name such as env:DB_PASSWORD (got '\(written)')")
            }
            return .env(name: rest)
        }
    }

    private static func parseSSM(_ rest: String, in written: String) throws(TemplateError) -> Locator {
        var name = rest
        var selector: String?
        if let colon = rest.lastIndex(of: ":") {
            name = String(rest[..<colon])
            selector = String(rest[rest.index(after: colon)...])
            guard let s = selector, !s.isEmpty,
                  s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw TemplateError(.badReference, "bad version or label after ':' in '\(written)'")
            }
        }
        guard !name.isEmpty, !name.contains(" ") else {
            throw TemplateError(.badReference, "ssm: needs a parameter name such as ssm:/app/db/password ('\(written)')")
        }
        return .ssm(name: name, selector: selector)
    }

    /// Recognises an ARN reference and keeps the ARN as the locator's name: an SSM parameter or a
    /// Secrets Manager secret, by the ARN's service. What the ARN's region means (and whether it
    /// is a region name) is the AWS module's business (`ARN` there).
    private static func parseARN(text: String, in written: String) throws(TemplateError) -> Locator {
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[1].hasPrefix("aws"), !parts[3].isEmpty else {
            throw TemplateError(.badReference, "'\(written)' is not a full ARN (arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE)")
        }
        let service = parts[2]
        let resource = String(parts[5])
        switch service {
        case "secretsmanager":
            guard resource.hasPrefix("secret:") else {
                throw TemplateError(.badReference, "'\(written)' is not a Secrets Manager secret ARN (…:secret:NAME)")
            }
            let (id, query) = try splitQuery(text, in: written)
            var stage: String?, versionID: String?
            for (key, value) in query {
                switch key {
                case "stage": stage = value
                case "version-id": versionID = value
                default: throw TemplateError(.badReference, "unknown option '\(key)' in reference '\(written)'")
                }
            }
            return .secretsManager(id: id, stage: stage, versionID: versionID)
        case "ssm":
            guard resource.hasPrefix("parameter/") else {
                throw TemplateError(.badReference, "'\(written)' is not an SSM parameter ARN (…:parameter/NAME)")
            }
            // A version or label may follow the parameter's name: …:parameter/db/password:3
            let prefix = parts[0...4].joined(separator: ":")
            let located = try parseSSM(resource, in: written)
            guard case .ssm(let name, let selector) = located else { return located }
            return .ssm(name: prefix + ":" + name, selector: selector)
        default:
            throw TemplateError(.badReference, "unsupported ARN service '\(service)' in '\(written)'; only secretsmanager and ssm ARNs are references")
        }
    }

    private static func percentDecode<S: StringProtocol>(_ s: S) -> String? {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else if b == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension Reference {
    /// Applies the reference's `#field` or JSON Pointer to a fetched value.
    ///
    /// Returns nil when the field is absent ("not found", which `default` and `{{^…}}` accept);
    /// throws when the value is not JSON, which is always an error.
    public func select(from value: Value) throws(TemplateError) -> Value? {
        guard let selector else { return value }
        let structured = value.structured
        switch selector {
        case .field(let name):
            guard case .map(let map) = structured else {
                throw TemplateError(.data, "'\(text)' selects field '\(name)' but the value of \(locator.text) is not a JSON object")
            }
            return map[name]
        case .pointer(let tokens):
            switch structured {
            case .map, .list: break
            default:
                throw TemplateError(.data, "'\(text)' selects a JSON Pointer but the value of \(locator.text) is not JSON")
            }
            var current = structured
            for token in tokens {
                switch current.structured {
                case .map(let map):
                    guard let next = map[token] else { return nil }
                    current = next
                case .list(let list):
                    guard let i = Int(token), i >= 0, i < list.count, token == String(i) else { return nil }
                    current = list[i]
                default:
                    return nil
                }
            }
            return current
        }
    }
}
