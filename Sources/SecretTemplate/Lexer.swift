/// The kind of a tag, from the character after the opening delimiter.
enum TagKind: Sendable, Equatable {
    case value, section, inverted, close, comment, partial, delimiters
}

/// What the lexer hands the parser: literal text and tags, with standalone lines already removed.
enum RawToken {
    case text([UInt8])
    /// `indentation` is set when the tag stood alone on its line (the whitespace before it).
    case tag(TagKind, content: String, location: SourceLocation, indentation: [UInt8]?)
}

/// Splits a template into text and tags, following the mustache spec's delimiter changes and
/// standalone-line rules. Works on UTF-8 bytes; `\r\n` line endings are kept as they are.
struct Lexer {
    private let bytes: [UInt8]
    private let name: String
    private let lineStarts: [Int]
    private var open: [UInt8] = Array("{{".utf8)
    private var close: [UInt8] = Array("}}".utf8)

    init(source: String, name: String) {
        bytes = Array(source.utf8)
        self.name = name
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == Ascii.newline { starts.append(i + 1) }
        lineStarts = starts
    }

    /// The last location computed, so that many tags on one long line cost linear time.
    private var cursor = (offset: 0, line: 0, column: 1)

    /// The 1-based line and column (in Unicode scalars) of a byte offset.
    mutating func location(at offset: Int) -> SourceLocation {
        let line = lineIndex(of: offset)
        let start = line == cursor.line && offset >= cursor.offset ? cursor : (lineStarts[line], line, 1)
        let column = bytes[start.0..<offset].reduce(start.2) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
        cursor = (offset, line, column)
        return SourceLocation(template: name, line: line + 1, column: column)
    }

    private func lineIndex(of offset: Int) -> Int {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    mutating func tokenize() throws(TemplateError) -> [RawToken] {
        var tokens: [RawToken] = []
        var textStart = 0
        var i = 0
        while i < bytes.count {
            guard bytes[i] == open[0], matches(open, at: i) else { i += 1; continue }
            let tagStart = i
            let location = location(at: tagStart)
            let (kind, contentStart, terminator, quoted) = classify(after: tagStart + open.count)
            guard let end = find(terminator, from: contentStart, quoteAware: quoted) else {
                throw TemplateError(.syntax, "unclosed tag: no '\(String(decoding: terminator, as: UTF8.self))' after it", at: location)
            }
            let content = String(decoding: bytes[contentStart..<end], as: UTF8.self)
            var next = end + terminator.count
            var textEnd = tagStart
            var indentation: [UInt8]?
            if kind != .value, let (lineStart, after) = standalone(from: tagStart, to: next) {
                indentation = Array(bytes[lineStart..<tagStart])
                textEnd = max(textStart, lineStart)
                next = after
            }
            if textEnd > textStart { tokens.append(.text(Array(bytes[textStart..<textEnd]))) }
            switch kind {
            case .comment: break
            case .delimiters: try setDelimiters(content, at: location)
            default: tokens.append(.tag(kind, content: content, location: location, indentation: indentation))
            }
            i = next
            textStart = next
        }
        if textStart < bytes.count { tokens.append(.text(Array(bytes[textStart...]))) }
        return tokens
    }

    /// The tag's kind, where its content starts, what ends it, and whether quotes are honoured.
    private func classify(after p: Int) -> (TagKind, Int, [UInt8], Bool) {
        if p < bytes.count, bytes[p] == UInt8(ascii: "{") {
            return (.value, p + 1, [UInt8(ascii: "}")] + close, true)
        }
        var q = p
        while q < bytes.count, Ascii.isSpace(bytes[q]) { q += 1 }
        switch q < bytes.count ? bytes[q] : 0 {
        case UInt8(ascii: "!"): return (.comment, q + 1, close, false)
        case UInt8(ascii: "="): return (.delimiters, q + 1, [UInt8(ascii: "=")] + close, false)
        case UInt8(ascii: "#"): return (.section, q + 1, close, true)
        case UInt8(ascii: "^"): return (.inverted, q + 1, close, true)
        case UInt8(ascii: "/"): return (.close, q + 1, close, true)
        case UInt8(ascii: ">"): return (.partial, q + 1, close, false)
        case UInt8(ascii: "&"): return (.value, q + 1, close, true)
        default: return (.value, p, close, true)
        }
    }

    /// When the tag is alone on its line (only spaces and tabs around it): where the line starts
    /// and where the next line starts (past `\n` or `\r\n`, or the end of the template).
    private func standalone(from tagStart: Int, to tagEnd: Int) -> (Int, Int)? {
        let lineStart = lineStarts[lineIndex(of: tagStart)]
        guard bytes[lineStart..<tagStart].allSatisfy(Ascii.isBlank) else { return nil }
        var j = tagEnd
        while j < bytes.count, Ascii.isBlank(bytes[j]) { j += 1 }
        if j == bytes.count { return (lineStart, j) }
        if bytes[j] == Ascii.newline { return (lineStart, j + 1) }
        if bytes[j] == Ascii.carriageReturn, j + 1 < bytes.count, bytes[j + 1] == Ascii.newline { return (lineStart, j + 2) }
        return nil
    }

    private func matches(_ pattern: [UInt8], at offset: Int) -> Bool {
        guard offset + pattern.count <= bytes.count else { return false }
        for k in 0..<pattern.count where bytes[offset + k] != pattern[k] { return false }
        return true
    }

    /// The offset of `pattern`, skipping double-quoted strings (with `\` escapes) when `quoteAware`.
    private func find(_ pattern: [UInt8], from start: Int, quoteAware: Bool) -> Int? {
        var k = start
        var inQuote = false
        while k < bytes.count {
            let b = bytes[k]
            if inQuote {
                if b == UInt8(ascii: "\\") { k += 2; continue }
                if b == UInt8(ascii: "\"") { inQuote = false }
            } else if quoteAware, b == UInt8(ascii: "\"") {
                inQuote = true
            } else if b == pattern[0], matches(pattern, at: k) {
                return k
            }
            k += 1
        }
        return nil
    }

    /// `{{=<% %>=}}`: two delimiters separated by whitespace, without whitespace or `=` in them.
    private mutating func setDelimiters(_ content: String, at location: SourceLocation) throws(TemplateError) {
        let parts = Array(content.utf8).split(whereSeparator: Ascii.isSpace)
        guard parts.count == 2, !parts.contains(where: { $0.contains(UInt8(ascii: "=")) }) else {
            throw TemplateError(.syntax, "bad set-delimiter tag: expected two delimiters such as {{=<% %>=}}", at: location)
        }
        open = Array(parts[0])
        close = Array(parts[1])
    }
}

/// ASCII byte classes used by the lexer and the tag parser.
enum Ascii {
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")

    /// Space or tab: what may surround a standalone tag.
    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// Any ASCII whitespace, newlines included: what separates words inside a tag.
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
}
