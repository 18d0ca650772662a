/// `${VAR}` and `${VAR:-default}` in configuration values (SPEC §6 "Environment and proxies"),
/// from the environment the agent was started with.
///
/// - `${NAME}`: the variable's value (empty when set to empty); unset is an error.
/// - `${NAME:-default}`: the value when set and not empty, else `default` (taken literally, up to
///   the first `}`; `${NAME:-}` gives an empty string).
/// - `$$`: a literal `$`.
/// - Any other `$` stays as written: `$NAME`, `$(cmd)`, `${#NAME}`, `${NAME%x}` — shell text in
///   `exec.command` keeps working, for the shell to expand.
///
/// `NAME` is `[A-Za-z_][A-Za-z0-9_]*`. Template text (`contents:`, `exec.env` values) is never
/// expanded: there `{{ env:NAME }}` reads the environment.
public enum ConfigExpansion {
    /// Why a value cannot be expanded.
    public enum Failure: Error, Equatable {
        /// `${NAME}` with `NAME` not set and no default.
        case unset(String)
    }

    /// The text with every `${…}` and `$$` replaced.
    public static func expand(_ text: String, environment: [String: String]) throws(Failure) -> String {
        guard text.contains("$") else { return text }
        let chars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "$", i + 1 < chars.count else {
                out.append(c)
                i += 1
                continue
            }
            if chars[i + 1] == "$" {
                out.append("$")
                i += 2
                continue
            }
            if chars[i + 1] == "{", let (name, fallback, end) = reference(chars, from: i + 2) {
                if let value = environment[name], !(fallback != nil && value.isEmpty) {
                    out.append(contentsOf: value.unicodeScalars)
                } else if let fallback {
                    out.append(contentsOf: fallback.unicodeScalars)
                } else {
                    throw .unset(name)
                }
                i = end
                continue
            }
            out.append(c)
            i += 1
        }
        return String(out)
    }

    /// Parses `NAME}` or `NAME:-default}` starting at `start` (just after `${`): the name, the
    /// default, and the index after the `}`; nil when the text is not one of those forms.
    private static func reference(_ chars: [Unicode.Scalar], from start: Int) -> (String, String?, Int)? {
        var i = start
        var name = String.UnicodeScalarView()
        while i < chars.count, isNameCharacter(chars[i], first: name.isEmpty) {
            name.append(chars[i])
            i += 1
        }
        guard !name.isEmpty, i < chars.count else { return nil }
        if chars[i] == "}" { return (String(name), nil, i + 1) }
        guard chars[i] == ":", i + 1 < chars.count, chars[i + 1] == "-" else { return nil }
        i += 2
        var fallback = String.UnicodeScalarView()
        while i < chars.count, chars[i] != "}" {
            fallback.append(chars[i])
            i += 1
        }
        guard i < chars.count else { return nil }
        return (String(name), String(fallback), i + 1)
    }

    private static func isNameCharacter(_ c: Unicode.Scalar, first: Bool) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "_": return true
        case "0"..."9": return !first
        default: return false
        }
    }
}
