/// A secret's value, or a piece of one: what a reference resolves to and what templates render.
///
/// `Value` never prints its content: `description`, `debugDescription` and reflection are redacted,
/// so a value interpolated into a log line or an error by mistake shows `<redacted>`.
public enum Value: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A JSON number, kept as its source text so `3.10` stays `3.10`.
    case number(String)
    /// Text (valid UTF-8).
    case string(String)
    /// Bytes that are not valid UTF-8 (a binary secret).
    case bytes([UInt8])
    case list([Value])
    /// A map; iteration and serialisation use key order (sorted).
    case map([String: Value])
}

extension Value: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}

extension Value {
    /// Makes a value from raw bytes: `.string` when they are valid UTF-8, `.bytes` otherwise.
    public init(bytes: [UInt8]) {
        if let s = String(validating: bytes, as: UTF8.self) {
            self = .string(s)
        } else {
            self = .bytes(bytes)
        }
    }

    /// The bytes written when the value is inserted where a string is needed:
    /// text and bytes as they are, numbers and booleans as text, maps and lists as compact JSON.
    public var renderedBytes: [UInt8] {
        switch self {
        case .string(let s): return Array(s.utf8)
        case .bytes(let b): return b
        case .null: return []
        case .bool(let b): return Array((b ? "true" : "false").utf8)
        case .number(let n): return Array(n.utf8)
        case .list, .map: return Array(JSON.serialize(self).utf8)
        }
    }

    /// True for values a `{{^x}}` section treats as empty: null, false, "", [] and {}.
    public var isFalsy: Bool {
        switch self {
        case .null: return true
        case .bool(let b): return !b
        case .string(let s): return s.isEmpty
        case .bytes(let b): return b.isEmpty
        case .list(let l): return l.isEmpty
        case .map(let m): return m.isEmpty
        case .number: return false
        }
    }

    /// The structured form of the value: a string holding a JSON object or array is parsed,
    /// anything else is returned unchanged. Used by `#field`, sections and `each`.
    public var structured: Value {
        guard case .string(let s) = self else { return self }
        guard let first = s.utf8.first(where: { !JSON.isWhitespace($0) }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            return self
        }
        return (try? JSON.parse(s)) ?? self
    }
}
