/// The words of a tag's content: `NAME ( | FILTER ARGS* )*`, `each NAME`, a closing name.
enum Piece: Equatable {
    case word(String)
    case quoted(String)
    case pipe

    var written: String {
        switch self {
        case .word(let w): return w
        case .quoted(let q): return "\"" + q + "\""
        case .pipe: return "|"
        }
    }
}

/// Reads the content of value, section and closing tags.
struct TagSyntax {
    let location: SourceLocation
    let baseDirectory: String?

    func error(_ message: String) -> TemplateError {
        TemplateError(.syntax, message, at: location)
    }

    /// Splits tag content into words, double-quoted strings (`\"` and `\\` escapes) and pipes.
    func pieces(_ content: String) throws(TemplateError) -> [Piece] {
        let bytes = Array(content.utf8)
        var result: [Piece] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if Ascii.isSpace(b) {
                i += 1
            } else if b == UInt8(ascii: "|") {
                result.append(.pipe)
                i += 1
            } else if b == UInt8(ascii: "\"") {
                var text: [UInt8] = []
                i += 1
                while true {
                    guard i < bytes.count else { throw error("unterminated quoted string in tag") }
                    let c = bytes[i]
                    if c == UInt8(ascii: "\"") { i += 1; break }
                    if c == UInt8(ascii: "\\"), i + 1 < bytes.count,
                       bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\") {
                        text.append(bytes[i + 1])
                        i += 2
                        continue
                    }
                    text.append(c)
                    i += 1
                }
                result.append(.quoted(String(decoding: text, as: UTF8.self)))
            } else {
                let start = i
                while i < bytes.count, !Ascii.isSpace(bytes[i]), bytes[i] != UInt8(ascii: "|") { i += 1 }
                result.append(.word(String(decoding: bytes[start..<i], as: UTF8.self)))
            }
        }
        return result
    }

    /// A name: a reference when it looks like one (`scheme:` or `arn:`), else a context key.
    /// Every reference parsed is reported to `found`, in order.
    func name(_ piece: Piece, found: (Reference) -> Void) throws(TemplateError) -> Name {
        switch piece {
        case .pipe:
            throw error("expected a name before '|'")
        case .word(let text) where Reference.looksLikeReference(text),
             .quoted(let text) where Reference.looksLikeReference(text):
            do {
                let reference = try Reference.parse(text, baseDirectory: baseDirectory)
                found(reference)
                return .reference(reference)
            } catch {
                var located = error
                located.location = location
                throw located
            }
        case .quoted(let text):
            guard !text.isEmpty else { throw error("empty name in tag") }
            return .key([text], text: text)
        case .word(let text):
            if text == "." { return .key([], text: ".") }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !parts.contains(where: \.isEmpty) else { throw error("bad key '\(text)'") }
            return .key(parts, text: text)
        }
    }

    /// A value tag: `NAME ( | FILTER ARGS* )*`.
    func expression(_ content: String, found: (Reference) -> Void) throws(TemplateError) -> Expression {
        var rest = try pieces(content)[...]
        guard let first = rest.popFirst() else { throw error("empty tag") }
        let name = try name(first, found: found)
        var filters: [FilterCall] = []
        while let piece = rest.popFirst() {
            guard piece == .pipe else {
                throw error("unexpected '\(piece.written)' after '\(name.text)': separate filters with '|', quote a reference that contains spaces")
            }
            guard case .word(let filterName)? = rest.popFirst() else { throw error("expected a filter name after '|'") }
            guard let filter = Filter(rawValue: filterName) else {
                throw error("unknown filter '\(filterName)'; known filters: " + Filter.allCases.map(\.rawValue).joined(separator: ", "))
            }
            var arguments: [String] = []
            while let next = rest.first, next != .pipe {
                rest.removeFirst()
                guard case .quoted(let argument) = next else {
                    throw error("argument '\(next.written)' of filter '\(filterName)' must be a double-quoted string")
                }
                arguments.append(argument)
            }
            guard arguments.count == filter.argumentCount else {
                throw error("filter '\(filterName)' takes \(filter.argumentCount) argument\(filter.argumentCount == 1 ? "" : "s"), got \(arguments.count)")
            }
            filters.append(FilterCall(filter: filter, argument: arguments.first))
        }
        return Expression(name: name, filters: filters)
    }

    /// A section tag: `NAME` or `each NAME`. Returns the name, whether it is `each`, and the text
    /// its closing tag must repeat.
    func section(_ content: String, found: (Reference) -> Void) throws(TemplateError) -> (name: Name, each: Bool, closer: String) {
        let parts = try pieces(content)
        if parts.contains(.pipe) { throw error("a section tag takes a name, not filters") }
        if parts.count == 2, parts[0] == .word("each") {
            return (try name(parts[1], found: found), true, "each")
        }
        guard parts.count == 1 else {
            throw parts.isEmpty ? error("section tag without a name") : error("unexpected '\(parts[1].written)' in section tag")
        }
        if parts[0] == .word("each") { throw error("'each' needs a name: {{#each ssm-path:/app/prod/}}") }
        let name = try name(parts[0], found: found)
        return (name, false, name.text)
    }

    /// A closing tag's name, as the opening tag must have written it.
    func closing(_ content: String) throws(TemplateError) -> String {
        let parts = try pieces(content)
        guard parts.count == 1, parts[0] != .pipe else { throw error("bad closing tag: expected {{/name}}") }
        switch parts[0] {
        case .word(let text), .quoted(let text): return text
        case .pipe: return "|"
        }
    }
}
