/// State shared by a template and the partials it includes while parsing.
final class ParseContext {
    /// How deep partials may include partials (a partial that includes itself stops here).
    static let maximumPartialDepth = 16

    let baseDirectory: String?
    let loadPartial: ((String) throws -> String)?
    /// Every reference met, in order, with repetitions.
    var references: [Reference] = []
    private var partialTexts: [String: String] = [:]

    init(baseDirectory: String?, loadPartial: ((String) throws -> String)?) {
        self.baseDirectory = baseDirectory
        self.loadPartial = loadPartial
    }

    func partialText(_ name: String, at location: SourceLocation) throws(TemplateError) -> String {
        if let text = partialTexts[name] { return text }
        guard let loadPartial else {
            throw TemplateError(.data, "partial '\(name)' cannot be used here: no partials are available", at: location)
        }
        let text: String
        do {
            text = try loadPartial(name)
        } catch {
            throw TemplateError(.data, "cannot read partial '\(name)': \(error)", at: location)
        }
        partialTexts[name] = text
        return text
    }
}

/// Builds the node tree from the lexer's tokens: nests sections, checks closing tags and
/// expands partials.
struct Parser {
    private struct Frame {
        var kind: TagKind
        var name: Name?
        var each = false
        var closer = ""
        var location: SourceLocation?
        var children: [Node] = []
    }

    /// The deepest nesting of sections a template (partials included) may have.
    static let maximumSectionDepth = 64

    static func parse(source: String, name: String, depth: Int, context: ParseContext) throws(TemplateError) -> [Node] {
        var lexer = Lexer(source: source, name: name)
        let tokens = try lexer.tokenize()
        var stack = [Frame(kind: .value)]
        for token in tokens {
            switch token {
            case .text(let bytes):
                stack[stack.count - 1].children.append(.text(bytes))
            case .tag(let kind, let content, let location, let indentation):
                let syntax = TagSyntax(location: location, baseDirectory: context.baseDirectory)
                let found: (Reference) -> Void = { context.references.append($0) }
                switch kind {
                case .value:
                    let expression = try syntax.expression(content, found: found)
                    stack[stack.count - 1].children.append(.value(expression, location))
                case .section, .inverted:
                    let (name, each, closer) = try syntax.section(content, found: found)
                    if each && kind == .inverted { throw syntax.error("'each' cannot be inverted; use {{^name}}") }
                    // Rendering and freeing recurse once per level: bound the nesting so a hostile or
                    // broken template is an error, not a stack overflow.
                    guard stack.count <= Self.maximumSectionDepth else {
                        throw syntax.error("sections nested more than \(Self.maximumSectionDepth) deep")
                    }
                    stack.append(Frame(kind: kind, name: name, each: each, closer: closer, location: location))
                case .close:
                    let closer = try syntax.closing(content)
                    guard stack.count > 1 else { throw syntax.error("closing tag '\(closer)' without an open section") }
                    let frame = stack.removeLast()
                    guard frame.closer == closer, let name = frame.name, let opened = frame.location else {
                        let at = frame.location.map { "\($0.line):\($0.column)" } ?? "?"
                        throw syntax.error("closing tag '\(closer)' does not match section '\(frame.closer)' opened at \(at)")
                    }
                    let node: Node
                    if frame.kind == .inverted {
                        node = .inverted(name, frame.children, opened)
                    } else if frame.each {
                        node = .each(name, frame.children, opened)
                    } else {
                        node = .section(name, filter: name.sectionFilter, frame.children, opened)
                    }
                    stack[stack.count - 1].children.append(node)
                case .partial:
                    let nodes = try partial(content, at: location, indentation: indentation, depth: depth, context: context)
                    stack[stack.count - 1].children.append(contentsOf: nodes)
                case .comment, .delimiters:
                    break
                }
            }
        }
        if stack.count > 1, let frame = stack.last, let opened = frame.location {
            throw TemplateError(.syntax, "unclosed section '\(frame.closer)' opened at \(opened.line):\(opened.column)", at: opened)
        }
        return stack[0].children
    }

    /// Loads, indents (for a standalone tag) and parses a partial, with default delimiters.
    private static func partial(_ content: String, at location: SourceLocation, indentation: [UInt8]?,
                                depth: Int, context: ParseContext) throws(TemplateError) -> [Node] {
        let bytes = Array(content.utf8)
        let first = bytes.firstIndex { !Ascii.isSpace($0) } ?? bytes.count
        let last = bytes.lastIndex { !Ascii.isSpace($0) } ?? first - 1
        let name = first <= last ? String(decoding: bytes[first...last], as: UTF8.self) : ""
        guard !name.isEmpty else { throw TemplateError(.syntax, "partial tag without a name", at: location) }
        guard depth < ParseContext.maximumPartialDepth else {
            throw TemplateError(.syntax, "partial '\(name)' nested more than \(ParseContext.maximumPartialDepth) deep (does it include itself?)", at: location)
        }
        var text = try context.partialText(name, at: location)
        if let indentation, !indentation.isEmpty { text = indent(text, by: indentation) }
        return try parse(source: text, name: name, depth: depth + 1, context: context)
    }

    /// Prefixes every line of `text` with `indentation` (not after a final newline).
    static func indent(_ text: String, by indentation: [UInt8]) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + indentation.count * 4)
        var atLineStart = true
        for b in bytes {
            if atLineStart { out.append(contentsOf: indentation) }
            out.append(b)
            atLineStart = b == Ascii.newline
        }
        return String(decoding: out, as: UTF8.self)
    }
}
