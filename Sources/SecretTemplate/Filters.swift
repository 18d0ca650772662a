/// The filters of `{{ x | filter }}`; those without arguments also work as sections
/// (`{{#base64}}…{{/base64}}`).
enum Filter: String, Sendable, CaseIterable {
    case base64, base64decode, json, shell, dotenv, urlencode, upper, lower, trim
    case `default`

    var argumentCount: Int { self == .default ? 1 : 0 }

    /// Applies the filter to a found value. `default` leaves found values alone (the renderer
    /// gives it the not-found ones). `subject` names the value in errors, never quoting it.
    func apply(to value: Value, subject: String, at location: SourceLocation) throws(TemplateError) -> Value {
        switch self {
        case .default:
            return value
        case .base64:
            return .string(Base64.encode(value.renderedBytes))
        case .base64decode:
            guard let bytes = Base64.decode(value.renderedBytes) else {
                throw TemplateError(.data, "base64decode: the value of \(subject) is not valid base64", at: location)
            }
            return Value(bytes: bytes)
        case .json:
            return .string(JSON.serialize(value))
        case .shell:
            var out: [UInt8] = [0x27]
            for b in value.renderedBytes {
                if b == 0x27 { out += Array("'\\''".utf8) } else { out.append(b) }
            }
            out.append(0x27)
            return Value(bytes: out)
        case .dotenv:
            var out: [UInt8] = [0x22]
            for b in value.renderedBytes {
                switch b {
                case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
                case UInt8(ascii: "\""): out += Array("\\\"".utf8)
                case UInt8(ascii: "$"): out += Array("\\$".utf8)
                case Ascii.newline: out += Array("\\n".utf8)
                case Ascii.carriageReturn: out += Array("\\r".utf8)
                default: out.append(b)
                }
            }
            out.append(0x22)
            return Value(bytes: out)
        case .urlencode:
            let hex = Array("0123456789ABCDEF".utf8)
            var out: [UInt8] = []
            for b in value.renderedBytes {
                if Self.isUnreserved(b) {
                    out.append(b)
                } else {
                    out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0x0F)]]
                }
            }
            return Value(bytes: out)
        case .upper, .lower:
            let up = self == .upper
            if case .bytes(let bytes) = value {
                return .bytes(bytes.map { b in
                    if up, b >= 0x61, b <= 0x7A { return b - 0x20 }
                    if !up, b >= 0x41, b <= 0x5A { return b + 0x20 }
                    return b
                })
            }
            let text = Self.text(of: value)
            return .string(up ? text.uppercased() : text.lowercased())
        case .trim:
            if case .bytes(let bytes) = value {
                guard let first = bytes.firstIndex(where: { !Ascii.isSpace($0) }),
                      let last = bytes.lastIndex(where: { !Ascii.isSpace($0) }) else { return .string("") }
                return Value(bytes: Array(bytes[first...last]))
            }
            let text = Self.text(of: value)
            guard let first = text.firstIndex(where: { !$0.isWhitespace }),
                  let last = text.lastIndex(where: { !$0.isWhitespace }) else { return .string("") }
            return .string(String(text[first...last]))
        }
    }

    private static func text(of value: Value) -> String {
        if case .string(let s) = value { return s }
        return String(decoding: value.renderedBytes, as: UTF8.self)
    }

    /// RFC 3986 unreserved characters: `A-Z a-z 0-9 - . _ ~`.
    private static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
    }
}
