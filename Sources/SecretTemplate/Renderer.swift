/// What a name resolves to while rendering.
enum Lookup {
    case found(Value)
    case notFound
}

/// Walks the node tree with the fetched values and a context stack, writing bytes.
struct Renderer {
    let values: [Locator: Resolution]
    /// The context stack, innermost last.
    var stack: [Value]
    var out: [UInt8] = []

    init(values: [Locator: Resolution], context: Value?) {
        self.values = values
        self.stack = context.map { [$0] } ?? []
    }

    mutating func render(_ nodes: [Node]) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let bytes):
                out.append(contentsOf: bytes)
            case .value(let expression, let location):
                out.append(contentsOf: try evaluate(expression, at: location).renderedBytes)
            case .section(let name, let filter, let children, let location):
                try section(name, filter: filter, children, at: location)
            case .inverted(let name, let children, let location):
                switch try lookup(name, at: location) {
                case .notFound: try render(children)
                case .found(let value): if value.structured.isFalsy { try render(children) }
                }
            case .each(let name, let children, let location):
                try each(name, children, at: location)
            }
        }
    }

    /// Resolves a name: a reference through the fetched values and its `#field`, a key through
    /// the context stack (innermost first; later parts of a dotted key descend from the first).
    func lookup(_ name: Name, at location: SourceLocation) throws(TemplateError) -> Lookup {
        switch name {
        case .reference(let reference):
            guard let resolution = values[reference.locator] else {
                throw TemplateError(.missing, "missing value: \(reference.text) was not fetched", at: location)
            }
            guard case .found(let value) = resolution else { return .notFound }
            do {
                guard let selected = try reference.select(from: value) else { return .notFound }
                return .found(selected)
            } catch {
                var located = error
                located.location = location
                throw located
            }
        case .key(let parts, _):
            guard let first = parts.first else { return stack.last.map { .found($0) } ?? .notFound }
            for frame in stack.reversed() {
                guard var current = Self.child(of: frame, first) else { continue }
                for part in parts.dropFirst() {
                    guard let next = Self.child(of: current, part) else { return .notFound }
                    current = next
                }
                return .found(current)
            }
            return .notFound
        }
    }

    /// A map's entry, or a list's item by index, of a value or the JSON it holds.
    private static func child(of value: Value, _ key: String) -> Value? {
        switch value.structured {
        case .map(let map): return map[key]
        case .list(let list):
            guard let i = Int(key), i >= 0, i < list.count, String(i) == key else { return nil }
            return list[i]
        default: return nil
        }
    }

    /// A value tag: look the name up, run the filters, insist on a value.
    func evaluate(_ expression: Expression, at location: SourceLocation) throws(TemplateError) -> Value {
        var result = try lookup(expression.name, at: location)
        for call in expression.filters {
            switch result {
            case .notFound:
                if call.filter == .default, let argument = call.argument { result = .found(.string(argument)) }
            case .found(let value):
                result = .found(try call.filter.apply(to: value, subject: expression.name.subject, at: location))
            }
        }
        guard case .found(let value) = result else { throw Self.missing(expression.name, at: location) }
        return value
    }

    static func missing(_ name: Name, at location: SourceLocation) -> TemplateError {
        TemplateError(.missing, "missing value: \(name.subject) was not found", at: location)
    }

    private mutating func within(_ context: Value, _ children: [Node]) throws(TemplateError) {
        stack.append(context)
        defer { stack.removeLast() }
        try render(children)
    }

    /// `{{#name}}`: a map once as the context, a list per item, a truthy scalar once; falsy and
    /// not-found values skip it. A filter name not bound in the context filters the inner text.
    private mutating func section(_ name: Name, filter: Filter?, _ children: [Node], at location: SourceLocation) throws(TemplateError) {
        switch try lookup(name, at: location) {
        case .notFound:
            guard let filter else { return }
            let outer = out
            out = []
            try render(children)
            let inner = Value(bytes: out)
            out = outer
            out.append(contentsOf: try filter.apply(to: inner, subject: "section '\(filter.rawValue)'", at: location).renderedBytes)
        case .found(let value):
            let structured = value.structured
            if structured.isFalsy { return }
            switch structured {
            case .list(let items):
                for item in items { try within(item, children) }
            case .map:
                try within(structured, children)
            default:
                try within(value, children)
            }
        }
    }

    /// `{{#each name}}`: a map in key order with `{key, value}` (and `name` for `ssm-path:`),
    /// or a list per item.
    private mutating func each(_ name: Name, _ children: [Node], at location: SourceLocation) throws(TemplateError) {
        guard case .found(let value) = try lookup(name, at: location) else { throw Self.missing(name, at: location) }
        switch value.structured {
        case .map(let map):
            var path: String?
            if case .reference(let reference) = name, reference.selector == nil, case .ssmPath(let p) = reference.locator {
                path = p
            }
            for key in map.keys.sorted() {
                var entry: [String: Value] = ["key": .string(key), "value": map[key]!]
                if let path { entry["name"] = .string(Self.join(path, key)) }
                try within(.map(entry), children)
            }
        case .list(let items):
            for item in items { try within(item, children) }
        default:
            throw TemplateError(.data, "each: the value of \(name.subject) is not a map or a list", at: location)
        }
    }

    /// `/app/prod/` + `db/password` → `/app/prod/db/password`: exactly one `/` between.
    static func join(_ path: String, _ key: String) -> String {
        var base = Substring(path)
        while base.hasSuffix("/") { base = base.dropLast() }
        var rest = Substring(key)
        while rest.hasPrefix("/") { rest = rest.dropFirst() }
        return base + "/" + rest
    }
}
