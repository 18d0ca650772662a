import CYAML

/// A YAML document as a tree, read with libyaml's event parser: scalars keep their text and
/// style (a quoted `"5"` stays a string), every node keeps its line and column, mapping keys
/// keep their order, duplicate keys are refused, and aliases are expanded within a budget.
///
/// Nothing of the text is ever quoted back in an error (a line may hold a credential): errors
/// carry libyaml's problem and the position.
public indirect enum YAMLNode: Sendable {
    case scalar(Scalar)
    case sequence(Sequence)
    case mapping(Mapping)

    /// A position in the text, 1-based.
    public struct Mark: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }
    }

    public struct Scalar: Sendable {
        public enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
        public var string: String
        public var style: Style
        public var mark: Mark?
    }

    public struct Sequence: Sendable, RandomAccessCollection {
        public var items: [YAMLNode]
        public var mark: Mark?
        public var startIndex: Int { items.startIndex }
        public var endIndex: Int { items.endIndex }
        public subscript(i: Int) -> YAMLNode { items[i] }
    }

    public struct Mapping: Sendable, RandomAccessCollection {
        public var pairs: [(key: YAMLNode, value: YAMLNode)]
        public var mark: Mark?
        public init(_ pairs: [(key: YAMLNode, value: YAMLNode)], mark: Mark? = nil) {
            self.pairs = pairs
            self.mark = mark
        }
        public var startIndex: Int { pairs.startIndex }
        public var endIndex: Int { pairs.endIndex }
        public subscript(i: Int) -> (key: YAMLNode, value: YAMLNode) { pairs[i] }
        /// The keys, in file order.
        public var keys: [YAMLNode] { pairs.map(\.key) }
    }

    public var mark: Mark? {
        switch self {
        case .scalar(let s): return s.mark
        case .sequence(let s): return s.mark
        case .mapping(let m): return m.mark
        }
    }

    public var scalar: Scalar? {
        if case .scalar(let s) = self { return s }
        return nil
    }

    public var mapping: Mapping? {
        if case .mapping(let m) = self { return m }
        return nil
    }

    /// How many nodes this one holds, itself included (the alias budget counts copies).
    var size: Int {
        switch self {
        case .scalar: return 1
        case .sequence(let s): return s.items.reduce(1) { $0 + $1.size }
        case .mapping(let m): return m.pairs.reduce(1) { $0 + $1.key.size + $1.value.size }
        }
    }
}

/// Why a YAML text could not be read: libyaml's problem (or ours: a duplicate key, a second
/// document, too many aliases) and where.
public struct YAMLError: Error, Sendable, Equatable {
    public var problem: String
    public var mark: YAMLNode.Mark?
    public init(problem: String, mark: YAMLNode.Mark?) {
        self.problem = problem
        self.mark = mark
    }
}

public enum YAML {
    /// The most nodes aliases may add by expansion (a "billion laughs" text stops here).
    static let aliasBudget = 10_000

    /// Reads the text's single document; nil for an empty text. A second document is an error.
    public static func compose(_ text: String) throws(YAMLError) -> YAMLNode? {
        var composer = Composer()
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(problem: "cannot start the YAML parser", mark: nil) }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        let result: Result<YAMLNode?, YAMLError> = bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return .failure(parserError(parser)) }
                defer { yaml_event_delete(&event) }
                do throws(YAMLError) {
                    if try composer.take(event) { return .success(composer.root) }
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    static func parserError(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "not valid YAML"
        var text = problem
        if let context = parser.context { text = "\(String(cString: context)): \(problem)" }
        return YAMLError(problem: text, mark: mark(parser.problem_mark))
    }

    static func mark(_ m: yaml_mark_t) -> YAMLNode.Mark {
        YAMLNode.Mark(line: Int(m.line) + 1, column: Int(m.column) + 1)
    }

    static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    static func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

/// Builds the tree from libyaml's events with a stack of open collections.
struct Composer {
    enum Frame {
        case sequence([YAMLNode], mark: YAMLNode.Mark, anchor: String?)
        case mapping([(key: YAMLNode, value: YAMLNode)], key: YAMLNode?, seen: [String: Int], mark: YAMLNode.Mark, anchor: String?)
    }

    var stack: [Frame] = []
    var root: YAMLNode?
    var documents = 0
    var anchors: [String: YAMLNode] = [:]
    var expanded = 0

    /// Takes one event; true once the stream has ended.
    mutating func take(_ event: yaml_event_t) throws(YAMLError) -> Bool {
        let mark = YAML.mark(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 { throw YAMLError(problem: "the text holds more than one YAML document (a second '---')", mark: mark) }
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let style: YAMLNode.Scalar.Style
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default:
                // An explicit !!str tag makes a plain scalar a string, like quotes do.
                style = YAML.cString(s.tag) == "tag:yaml.org,2002:str" ? .singleQuoted : .plain
            }
            let node = YAMLNode.scalar(.init(string: YAML.string(s.value, length: s.length), style: style, mark: mark))
            if let anchor = YAML.cString(s.anchor) { anchors[anchor] = node }
            try add(node)
        case YAML_SEQUENCE_START_EVENT:
            stack.append(.sequence([], mark: mark, anchor: YAML.cString(event.data.sequence_start.anchor)))
        case YAML_MAPPING_START_EVENT:
            stack.append(.mapping([], key: nil, seen: [:], mark: mark, anchor: YAML.cString(event.data.mapping_start.anchor)))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { break }
            let node: YAMLNode
            let anchor: String?
            switch frame {
            case .sequence(let items, let m, let a):
                node = .sequence(.init(items: items, mark: m))
                anchor = a
            case .mapping(let pairs, _, _, let m, let a):
                node = .mapping(.init(pairs, mark: m))
                anchor = a
            }
            if let anchor { anchors[anchor] = node }
            try add(node)
        case YAML_ALIAS_EVENT:
            let name = YAML.cString(event.data.alias.anchor) ?? ""
            guard let node = anchors[name] else { throw YAMLError(problem: "alias *\(name) names no anchor", mark: mark) }
            expanded += node.size
            guard expanded <= YAML.aliasBudget else {
                throw YAMLError(problem: "aliases expand to more than \(YAML.aliasBudget) nodes", mark: mark)
            }
            try add(node)
        default:
            break
        }
        return false
    }

    /// Adds a finished node to the open collection (or makes it the root).
    mutating func add(_ node: YAMLNode) throws(YAMLError) {
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(var items, let mark, let anchor):
            items.append(node)
            stack.append(.sequence(items, mark: mark, anchor: anchor))
        case .mapping(var pairs, let key, var seen, let mark, let anchor):
            if let key {
                pairs.append((key: key, value: node))
                stack.append(.mapping(pairs, key: nil, seen: seen, mark: mark, anchor: anchor))
            } else {
                if let name = node.scalar?.string {
                    if let first = seen[name] {
                        throw YAMLError(problem: "duplicate key '\(name)' (first at line \(first))", mark: node.mark)
                    }
                    seen[name] = node.mark?.line ?? 0
                }
                stack.append(.mapping(pairs, key: node, seen: seen, mark: mark, anchor: anchor))
            }
        }
    }
}
