/// The result of fetching one locator, as the renderer sees it.
public enum Resolution: Sendable {
    /// The backend returned a value.
    case found(Value)
    /// The backend says there is no such parameter, secret, path or file: what `default "x"`
    /// and `{{^…}}` accept. Any other failure must be reported by the caller, never as this.
    case notFound
}

/// A parsed template: the references it names, and a renderer for fetched values.
///
/// The language is mustache without HTML escaping, plus references, filters and `each`
/// (SPEC §3). Parsing does no I/O except through the `partials` closure.
public struct Template: Sendable {
    /// The name given at parse time; errors are located as `name:line:column`.
    public let name: String
    /// Every reference the template (and its partials) names, unique, in order of first appearance.
    public let references: [Reference]
    let nodes: [Node]

    /// Parses a template.
    ///
    /// - Parameters:
    ///   - source: the template text (UTF-8; `\r\n` line endings are kept).
    ///   - name: appears in errors (`docker/config.json.mustache:3:14: …`).
    ///   - baseDirectory: resolves relative `file:` references (see `Reference.parse`).
    ///   - partials: loads `{{> name}}` at parse time and returns the partial's text. Without it,
    ///     a partial tag is an error (`.data`); an error it throws becomes a `.data` error naming
    ///     the partial. Partials are parsed with the default delimiters and may nest 16 deep.
    /// - Throws: `TemplateError` with a location: `.syntax` for template syntax (unclosed
    ///   section, unknown filter), `.badReference` for a reference that does not parse.
    public init(source: String, name: String, baseDirectory: String? = nil,
                partials: ((String) throws -> String)? = nil) throws(TemplateError) {
        let context = ParseContext(baseDirectory: baseDirectory, loadPartial: partials)
        self.name = name
        self.nodes = try Parser.parse(source: source, name: name, depth: 0, context: context)
        var seen = Set<Reference>()
        self.references = context.references.filter { seen.insert($0).inserted }
    }

    /// The distinct locators to fetch (what the agent batches). References that differ only in
    /// their `#field` share one locator.
    public var locators: Set<Locator> { Set(references.map(\.locator)) }

    /// Renders with fetched values.
    ///
    /// A locator absent from `values` is an error (`.missing`, "was not fetched"), even under
    /// `default`: only `.notFound` counts as absent.
    /// - Throws: `TemplateError` located at the tag: `.missing` for a value that is not found
    ///   (without `default` or `{{^…}}`), `.data` for a value of the wrong shape. Messages name
    ///   the reference or key, never a value.
    public func render(_ values: [Locator: Resolution]) throws(TemplateError) -> [UInt8] {
        try render(values, context: nil)
    }

    /// Renders with a root context, as the mustache spec's data (used by the tests).
    func render(_ values: [Locator: Resolution], context: Value?) throws(TemplateError) -> [UInt8] {
        var renderer = Renderer(values: values, context: context)
        try renderer.render(nodes)
        return renderer.out
    }

    /// True when `text` parses as a template and contains at least one tag naming a reference
    /// with a known scheme (or an AWS ARN).
    ///
    /// Decides whether an inherited environment variable such as
    /// `DB_PASSWORD='{{ sm:prod/db#password }}'` must be resolved: `{{.ID}}`, text without
    /// tags and text that does not parse give false. Partial tags are ignored here.
    public static func mentionsReference(_ text: String) -> Bool {
        var previous: UInt8 = 0
        var hasOpening = false
        for b in text.utf8 {
            if b == UInt8(ascii: "{") && previous == b { hasOpening = true; break }
            previous = b
        }
        // Without "{{" the only tag possible would follow a set-delimiter tag, which needs "{{" too.
        guard hasOpening, let template = try? Template(source: text, name: "", partials: { _ in "" }) else {
            return false
        }
        return !template.references.isEmpty
    }
}
