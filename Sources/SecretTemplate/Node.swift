/// What a tag names: a reference to fetch, or a key looked up in the context stack.
enum Name: Sendable {
    case reference(Reference)
    /// A context key: the parts of a dotted name; no parts means `.` (the current item).
    case key([String], text: String)

    /// The name as written, for messages.
    var text: String {
        switch self {
        case .reference(let reference): return reference.text
        case .key(_, let text): return text
        }
    }

    /// How messages name it: a reference as written, a key as `key 'a.b'`.
    var subject: String {
        switch self {
        case .reference(let reference): return reference.text
        case .key(_, let text): return "key '\(text)'"
        }
    }

    /// The one-part key when this name could also be a filter used as a section (`{{#base64}}`).
    var sectionFilter: Filter? {
        guard case .key(let parts, _) = self, parts.count == 1,
              let filter = Filter(rawValue: parts[0]), filter.argumentCount == 0 else { return nil }
        return filter
    }
}

/// One `| filter "arg"` step of a tag.
struct FilterCall: Sendable {
    let filter: Filter
    let argument: String?
}

/// A value tag's content: a name and the filters applied to it, left to right.
struct Expression: Sendable {
    let name: Name
    let filters: [FilterCall]
}

/// The parsed template tree. Partials are already expanded into their nodes.
indirect enum Node: Sendable {
    /// Literal template text (UTF-8).
    case text([UInt8])
    /// `{{ name | filter }}`.
    case value(Expression, SourceLocation)
    /// `{{#name}} … {{/name}}`; `filter` is set when the name is also a filter name.
    case section(Name, filter: Filter?, [Node], SourceLocation)
    /// `{{^name}} … {{/name}}`.
    case inverted(Name, [Node], SourceLocation)
    /// `{{#each name}} … {{/each}}`.
    case each(Name, [Node], SourceLocation)
}
