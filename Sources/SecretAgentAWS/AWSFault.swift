import SecretTemplate

/// The error code and message of a failed AWS response, from a JSON body (`__type`, `message`),
/// the `x-amzn-ErrorType` header, or an XML body (`<Code>`, `<Message>`; 403s are XML even on
/// JSON services).
struct AWSFault: Sendable {
    var code: String
    var message: String

    init(status: Int, errorTypeHeader: String?, body: [UInt8]) {
        var code: String?
        var message: String?
        let text = String(decoding: body.prefix(64 * 1024), as: UTF8.self)
        let trimmed = text.drop(while: { $0.isWhitespace })
        if trimmed.hasPrefix("{"), case .map(let map)? = try? JSON.parse(text) {
            code = map["__type"]?.awsString ?? map["code"]?.awsString ?? map["Code"]?.awsString
            message = map["message"]?.awsString ?? map["Message"]?.awsString
        } else if trimmed.hasPrefix("<") {
            code = XMLText.first("Code", in: text)
            message = XMLText.first("Message", in: text)
        }
        if code == nil || code!.isEmpty, let header = errorTypeHeader {
            code = String(header.split(separator: ":").first ?? "")
        }
        // `com.amazonaws.ssm#ParameterNotFound` → `ParameterNotFound`.
        if let c = code, let hash = c.lastIndex(of: "#") { code = String(c[c.index(after: hash)...]) }
        if let c = code, let colon = c.firstIndex(of: ":") { code = String(c[..<colon]) }
        self.code = (code?.isEmpty == false ? code! : "HTTP\(status)")
        self.message = Self.clean(message ?? "")
    }

    /// One line, at most 300 characters.
    static func clean(_ s: String) -> String {
        let line = s.split(whereSeparator: { $0.isNewline }).joined(separator: " ")
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }
}

/// Just enough XML for STS answers and error bodies: the text of the first `<Tag>…</Tag>`.
enum XMLText {
    static func first(_ tag: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: "<\(tag)>"),
              let close = xml[open.upperBound...].firstRange(of: "</\(tag)>") else { return nil }
        return unescape(String(xml[open.upperBound..<close.lowerBound]))
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            rest = rest[amp...]
            guard let semi = rest.firstIndex(of: ";"), rest.distance(from: rest.startIndex, to: semi) < 10 else {
                out += "&"; rest = rest.dropFirst(); continue
            }
            let entity = rest[rest.index(after: rest.startIndex)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) {
                    out.unicodeScalars.append(u)
                } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) {
                    out.unicodeScalars.append(u)
                } else {
                    out += "&" + entity + ";"
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}

extension Value {
    /// The string of a `.string`, else nil.
    var awsString: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A number or string as text (`Version` is a JSON number).
    var awsText: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n
        default: return nil
        }
    }

    func awsField(_ key: String) -> Value? {
        if case .map(let m) = self { return m[key] }
        return nil
    }

    var awsList: [Value] {
        if case .list(let l) = self { return l }
        return []
    }
}
